"""The database itself enforces what it can, and migrations match the models."""

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.exc import IntegrityError

from shared.db import alembic_compare_type, configure_engine, db
from shared.models import Invoice, Payment, QueuedMessage, User


def _insert_fails(session, obj):
    session.add(obj)
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_invoice_numbers_are_unique(session, make_invoice):
    first = make_invoice(issue=True)
    second = make_invoice(issue=True)
    second.number = first.number
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_states_and_amounts_are_checked(session, make_client):
    client = make_client()
    today = dt.date.today()
    base = dict(client_id=client.id, currency="USD", issue_date=today, due_date=today, public_token="t")
    _insert_fails(session, Invoice(status="lost", **base))
    _insert_fails(session, Invoice(status="open", **base))  # issued without a number
    _insert_fails(session, Invoice(status="draft", total=Decimal("-1"), **base))
    _insert_fails(session, Invoice(status="draft", **{**base, "due_date": today - dt.timedelta(days=1)}))
    _insert_fails(session, User(email="a@b.c", name="A", role="owner", password_hash="x"))
    _insert_fails(session, QueuedMessage(kind="invoice", channel="fax", recipient="x"))


def test_amount_paid_cannot_exceed_total(session, make_invoice):
    invoice = make_invoice(issue=True)
    invoice.amount_paid = invoice.total + 1
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_foreign_keys_are_enforced(session):
    today = dt.date.today()
    _insert_fails(
        session,
        Invoice(client_id=999, currency="USD", issue_date=today, due_date=today, public_token="t2"),
    )
    _insert_fails(
        session,
        Payment(
            invoice_id=999,
            receipt_number="R1",
            amount=Decimal("1"),
            currency="USD",
            paid_on=today,
            method="cash",
            recorded_by="x",
        ),
    )


def test_money_round_trips_exactly(session, make_client):
    client = make_client()
    today = dt.date.today()
    big = Decimal("999999999999.9999")
    invoice = Invoice(
        client_id=client.id,
        currency="USD",
        issue_date=today,
        due_date=today,
        public_token="t3",
        subtotal=big,
        total=big,
    )
    session.add(invoice)
    session.commit()
    session.expire_all()
    assert session.get(Invoice, invoice.id).total == big
    summed = session.scalar(sa.select(sa.func.sum(Invoice.total)))
    assert summed == big


def test_float_never_reaches_a_money_column(session, make_client):
    client = make_client()
    today = dt.date.today()
    session.add(
        Invoice(client_id=client.id, currency="USD", issue_date=today, due_date=today, public_token="t4", total=0.1)
    )
    with pytest.raises(sa.exc.StatementError, match="never float"):
        session.flush()
    session.rollback()


def _upgrade(url: str) -> None:
    from flask_migrate import upgrade

    from main_service import create_app
    from support import app_config

    app = create_app(app_config(url))
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.mark.slow
def test_migrations_upgrade_an_empty_database_and_match_the_models(databases, backend):
    url = databases.create_database(backend, suffix="_mig")
    _upgrade(url)
    engine = configure_engine(sa.create_engine(url))
    try:
        with engine.connect() as conn:
            tables = set(sa.inspect(conn).get_table_names())
            assert set(db.metadata.tables) <= tables
            context = MigrationContext.configure(conn, opts={"compare_type": alembic_compare_type})
            diff = compare_metadata(context, db.metadata)
        assert diff == [], diff
        # The constraints came through the migration too.
        with engine.begin() as conn, pytest.raises(IntegrityError):
            conn.execute(
                sa.text(
                    "INSERT INTO users (email, name, role, password_hash, is_active, created_at) "
                    "VALUES ('a@b.c', 'A', 'owner', 'x', true, CURRENT_TIMESTAMP)"
                )
            )
    finally:
        engine.dispose()
