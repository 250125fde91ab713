"""The running totals (shared.models.rollups) follow every change the services make, and only committed ones."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from shared import reports
from shared.db import db
from shared.inputs import ClientInput, InvoiceChanges, InvoiceDraft, PaymentInput
from shared.models import Invoice, InvoiceRollup, PaymentRollup
from shared.models.rollups import rebuild_rollups, rollup_differences
from shared.services import (
    Actor,
    archive_client,
    atomic,
    create_client,
    create_draft,
    delete_draft,
    issue_invoice,
    record_payment,
    update_draft,
    void_invoice,
    void_payment,
)

TODAY = dt.date(2025, 6, 30)
ACTOR = Actor.system("tests")


def day(offset: int) -> str:
    return (TODAY + dt.timedelta(days=offset)).isoformat()


def draft(session, client, currency, issued, due, price, quantity="1"):
    data = {
        "client_id": client.id,
        "currency": currency,
        "issue_date": issued,
        "due_date": due,
        "items": [{"description": "Work", "quantity": quantity, "unit_price": price, "tax_rate": "0"}],
    }
    return create_draft(session, actor=ACTOR, data=InvoiceDraft.from_mapping(data)).id


def snapshot(session) -> tuple[list, list]:
    invoices = session.execute(select(InvoiceRollup.__table__).order_by(*InvoiceRollup.__table__.primary_key)).all()
    payments = session.execute(select(PaymentRollup.__table__).order_by(*PaymentRollup.__table__.primary_key)).all()
    return list(invoices), list(payments)


def assert_exact(session) -> None:
    session.expire_all()
    assert rollup_differences(session) == []


def test_every_service_operation_keeps_the_rollups_exact(session):
    ada = create_client(session, actor=ACTOR, data=ClientInput(name="Ada Obi", email="ada@example.com"))
    bolt = create_client(session, actor=ACTOR, data=ClientInput(name="Bolt Ltd", email="ap@bolt.example"))

    d1 = draft(session, ada, "USD", day(-1), day(5), "100.00")
    assert_exact(session)
    # Currency, due date and total all change on one draft.
    update_draft(
        session,
        actor=ACTOR,
        invoice_id=d1,
        data=InvoiceChanges.from_mapping(
            {
                "currency": "NGN",
                "due_date": day(20),
                "items": [{"description": "Work", "quantity": "2", "unit_price": "300.00", "tax_rate": "0"}],
            }
        ),
    )
    assert_exact(session)
    d2 = draft(session, bolt, "USD", day(-1), day(5), "50.00")
    delete_draft(session, actor=ACTOR, invoice_id=d2)
    assert_exact(session)

    i1 = draft(session, bolt, "USD", day(-40), day(-10), "100.00")
    issue_invoice(session, actor=ACTOR, invoice_id=i1)
    i2 = draft(session, bolt, "USD", day(-5), day(25), "250.00")
    issue_invoice(session, actor=ACTOR, invoice_id=i2)
    assert_exact(session)
    record_payment(session, actor=ACTOR, invoice_id=i1, data=PaymentInput(amount="40.00", paid_on=day(-3)), today=TODAY)
    record_payment(session, actor=ACTOR, invoice_id=i2, data=PaymentInput(amount="250.00", paid_on=day(0)), today=TODAY)
    assert_exact(session)
    bounced, _ = record_payment(
        session,
        actor=ACTOR,
        invoice_id=i1,
        data=PaymentInput(amount="60.00", paid_on=day(0), method="cheque"),
        today=TODAY,
    )
    assert session.get(Invoice, i1).status == "paid"
    assert_exact(session)
    void_payment(session, actor=ACTOR, payment_id=bounced.id, reason="Cheque returned unpaid")
    assert_exact(session)

    i3 = draft(session, ada, "NGN", day(-2), day(10), "1000.00")
    issue_invoice(session, actor=ACTOR, invoice_id=i3)
    void_invoice(session, actor=ACTOR, invoice_id=i3, reason="Raised in error")
    issue_invoice(session, actor=ACTOR, invoice_id=d1)
    archive_client(session, actor=ACTOR, client_id=ada.id)
    assert_exact(session)

    # The tables hold exactly what a rebuild from scratch writes.
    kept = snapshot(session)
    rebuild_rollups(session)
    session.commit()
    rebuilt = snapshot(session)
    assert [r for r in kept[0] if r.invoice_count] == rebuilt[0] and [r for r in kept[1] if r[2]] == rebuilt[1]

    # Hand-worked: USD i1 100.00 with 40.00 paid, 20 days late; i2 250.00 paid on the day.
    usd = reports.headline(session, "USD", today=TODAY)
    assert (usd.outstanding, usd.outstanding_count, usd.overdue, usd.overdue_count) == (
        Decimal("60.00"),
        1,
        Decimal("60.00"),
        1,
    )
    assert (usd.collected_this_month, usd.collected_count) == (Decimal("290.00"), 2)
    # NGN d1 600.00 open, due in 20 days; i3 1,000.00 void.
    ngn = reports.headline(session, "NGN", today=TODAY)
    assert (ngn.outstanding, ngn.outstanding_count, ngn.overdue, ngn.overdue_count) == (
        Decimal("600.00"),
        1,
        Decimal("0.00"),
        0,
    )
    assert (ngn.collected_this_month, ngn.collected_count) == (Decimal("0.00"), 0)
    aging = reports.aging(session, "USD", today=TODAY)
    assert [(b.key, b.amount, b.count) for b in aging.buckets if b.count] == [("1-30", Decimal("60.00"), 1)]
    assert [(b.key, b.count) for b in reports.aging(session, "NGN", today=TODAY).buckets if b.count] == [("current", 1)]
    assert [(r.status, r.count, r.total) for r in reports.invoices_by_status(session, "NGN") if r.count] == [
        ("open", 1, Decimal("600.00")),
        ("void", 1, Decimal("1000.00")),
    ]
    assert [(r.status, r.count, r.total) for r in reports.invoices_by_status(session, "USD") if r.count] == [
        ("partially_paid", 1, Decimal("100.00")),
        ("paid", 1, Decimal("250.00")),
    ]
    income = reports.income_statement(session, "USD", reports.Period(dt.date(2025, 1, 1), TODAY))
    assert income.collected == Decimal("290.00")
    assert [(m.month, m.collected) for m in income.months if m.collected] == [("2025-06", Decimal("290.00"))]
    assert reports.currencies_in_use(session) == ["NGN", "USD"]


def _open_invoice(session, due_offset: int = -10) -> int:
    client = create_client(session, actor=ACTOR, data=ClientInput(name="Ada Obi", email="ada@example.com"))
    invoice_id = draft(session, client, "USD", day(-40), day(due_offset), "100.00")
    issue_invoice(session, actor=ACTOR, invoice_id=invoice_id)
    return invoice_id


def test_a_rolled_back_transaction_leaves_the_rollups_unchanged(session):
    invoice_id = _open_invoice(session)
    before = snapshot(session)
    with pytest.raises(RuntimeError, match="changed my mind"), atomic(session):
        record_payment(
            session, actor=ACTOR, invoice_id=invoice_id, data=PaymentInput(amount="100.00", paid_on=day(0)), today=TODAY
        )
        draft(session, session.get(Invoice, invoice_id).client, "USD", day(0), day(5), "5.00")
        raise RuntimeError("changed my mind")
    assert snapshot(session) == before
    assert_exact(session)


def test_a_rolled_back_savepoint_leaves_the_rollups_unchanged(session):
    invoice_id = _open_invoice(session)
    before = snapshot(session)
    with atomic(session):
        with pytest.raises(RuntimeError, match="not this one"), session.begin_nested():
            record_payment(
                session,
                actor=ACTOR,
                invoice_id=invoice_id,
                data=PaymentInput(amount="30.00", paid_on=day(0)),
                today=TODAY,
            )
            raise RuntimeError("not this one")
        record_payment(
            session, actor=ACTOR, invoice_id=invoice_id, data=PaymentInput(amount="10.00", paid_on=day(-1)), today=TODAY
        )
    assert_exact(session)
    after = snapshot(session)
    assert after != before
    assert after[1] == [("USD", TODAY - dt.timedelta(days=1), 1, Decimal("10.0000"))]


def test_rebuild_puts_lost_rollups_back(session):
    _open_invoice(session)
    session.execute(delete(InvoiceRollup))
    session.commit()
    assert rollup_differences(session)
    rebuilt = rebuild_rollups(session)
    session.commit()
    assert rebuilt.invoice_rows == 1 and rollup_differences(session) == []


def test_the_cli_rebuilds_and_says_what_it_did(admin_app, engine):
    with Session(engine) as session:
        _open_invoice(session)
        session.execute(delete(InvoiceRollup))
        session.commit()
    result = admin_app.test_cli_runner().invoke(args=["rebuild-rollups"])
    assert result.exit_code == 0, result.output
    assert "was out of step: invoice_rollups ('USD', 'open'" in result.output
    assert "Rebuilt the rollups: 1 invoice rows and 0 payment rows; 1 differed" in result.output
    with admin_app.app_context():
        assert rollup_differences(db.session) == []


@pytest.mark.parametrize("backend", ["postgresql"])
def test_concurrent_payments_do_not_deadlock_and_add_up(engine):
    with Session(engine) as session:
        ids = [_open_invoice(session, due_offset=offset) for offset in (-10, -3)]
    barrier = threading.Barrier(len(ids))
    errors: list[BaseException] = []

    def pay(invoice_id: int) -> None:
        try:
            with Session(engine) as session:
                barrier.wait(timeout=10)
                for amount in ("10.00", "20.00", "30.00", "40.00"):
                    record_payment(
                        session,
                        actor=ACTOR,
                        invoice_id=invoice_id,
                        data=PaymentInput(amount=amount, paid_on=day(0)),
                        today=TODAY,
                    )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=pay, args=(invoice_id,)) for invoice_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with Session(engine) as session:
        assert rollup_differences(session) == []
        usd = reports.headline(session, "USD", today=TODAY)
        assert (usd.collected_this_month, usd.collected_count, usd.outstanding_count) == (Decimal("200.00"), 8, 0)
        assert [(r.status, r.count) for r in reports.invoices_by_status(session, "USD") if r.count] == [("paid", 2)]


def test_drafts_take_no_rollup_row_and_are_still_counted_by_status(session):
    """Creating a draft must lock no rollup row: issuing takes the number counter first, then rollup rows."""
    ada = create_client(session, actor=ACTOR, data=ClientInput(name="Ada Obi", email="ada@example.com"))
    draft(session, ada, "USD", day(-1), day(5), "100.00")
    draft(session, ada, "USD", day(-1), day(6), "50.00")
    assert snapshot(session) == ([], [])
    assert_exact(session)
    rows = {row.status: row for row in reports.invoices_by_status(session, "USD")}
    assert (rows["draft"].count, rows["draft"].total) == (2, Decimal("150.00"))
    assert rows["open"].count == 0


def test_rollups_out_of_step_never_stop_a_payment_and_are_counted_again(session):
    """A row missing or too small (a process without the listener, a hand-made fix) is recounted, not a 500."""
    ada = create_client(session, actor=ACTOR, data=ClientInput(name="Ada Obi", email="ada@example.com"))
    first = issue_invoice(session, actor=ACTOR, invoice_id=draft(session, ada, "USD", day(-1), day(5), "100.00"))[0]
    second = issue_invoice(session, actor=ACTOR, invoice_id=draft(session, ada, "USD", day(-1), day(9), "80.00"))[0]
    session.execute(delete(InvoiceRollup).where(InvoiceRollup.status == "open", InvoiceRollup.due_date == day(5)))
    session.execute(
        InvoiceRollup.__table__.update()
        .where(InvoiceRollup.status == "open", InvoiceRollup.due_date == day(9))
        .values(total=Decimal("1.00"))
    )
    session.commit()
    record_payment(session, actor=ACTOR, invoice_id=first.id, data=PaymentInput(amount="100.00", paid_on=day(0)))
    record_payment(session, actor=ACTOR, invoice_id=second.id, data=PaymentInput(amount="30.00", paid_on=day(0)))
    assert_exact(session)


def test_a_currency_with_only_drafts_is_still_offered(session):
    ada = create_client(session, actor=ACTOR, data=ClientInput(name="Ada Obi", email="ada@example.com"))
    draft(session, ada, "JPY", day(-1), day(5), "1000")
    assert "JPY" in reports.currencies_in_use(session)
