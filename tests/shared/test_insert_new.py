"""New rows past the unit of work (shared.models.persist.insert_new, SPEC §17).

A new invoice, its lines and its queue rows are written with one INSERT per
table instead of a flush; the rows, the objects in the session and the
running totals must be exactly what a flush would have left.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError

from shared.models import Invoice, InvoiceLine, QueuedMessage
from shared.models.enums import InvoiceStatus
from shared.models.persist import insert_new
from shared.transactions import atomic


@pytest.fixture
def statements(session):
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split()[:3]))

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def new_line(position: int, price: Decimal) -> InvoiceLine:
    return InvoiceLine(
        position=position,
        description=f"Line {position}",
        quantity=Decimal("1"),
        unit_price=price,
        tax_rate=Decimal("0"),
        discount=Decimal("0"),
        amount=price,
        tax=Decimal("0"),
    )


def new_invoice(client, token: str = "tok-insert-new") -> Invoice:
    invoice = Invoice(
        client=client,
        currency="USD",
        issue_date=dt.date(2026, 3, 2),
        due_date=dt.date(2026, 3, 16),
        public_token=token,
        status=InvoiceStatus.OPEN,
        number=f"T-{token}",
        subtotal=Decimal("30.00"),
        total=Decimal("30.00"),
    )
    for position, price in enumerate(("10.00", "20.00"), start=1):
        invoice.lines.append(new_line(position, Decimal(price)))
    return invoice


def test_one_insert_per_table_and_the_objects_are_loaded_as_a_query_would_leave_them(
    session, make_client, statements, backend
):
    client = make_client()
    with atomic(session):
        invoice = new_invoice(client)
        statements.clear()
        insert_new(session, [invoice, *invoice.lines])
        # SQLite, in process, gets the keys back in order one row at a time; Postgres in one round trip.
        lines = ["invoice_lines"] if backend == "postgresql" else ["invoice_lines", "invoice_lines"]
        assert [s.split()[2] for s in statements] == ["invoices", *lines]
        statements.clear()
        # Everything reads from the objects: their defaults, the keys, the empty collections.
        assert invoice.id and all(line.invoice_id == invoice.id for line in invoice.lines)
        assert invoice.amount_paid == 0 and invoice.purchase_order == "" and invoice.created_at is not None
        assert invoice.payments == [] and invoice.credit_notes == []
        assert [line.position for line in invoice.lines] == [1, 2]
        assert invoice.lines[0].unit == "C62"
        assert invoice in session and not session.new and not session.dirty
        assert statements == []
    session.expire_all()
    stored = session.get(Invoice, invoice.id)
    assert (stored.total, stored.client_id, stored.amount_credited) == (Decimal("30.00"), client.id, 0)
    assert [(line.position, line.amount) for line in stored.lines] == [(1, Decimal("10.00")), (2, Decimal("20.00"))]
    # The autouse fixture rollups_match_the_books checks the running totals counted the new invoice.


def test_each_of_many_rows_gets_its_own_key(session, make_client, statements, backend):
    """Postgres writes the rows as one INSERT ... VALUES list and hands the keys back in the rows' order."""
    client = make_client()
    with atomic(session):
        invoice = new_invoice(client)
        for position in range(3, 13):
            invoice.lines.append(new_line(position, Decimal(position)))
        statements.clear()
        insert_new(session, [invoice, *invoice.lines])
        if backend == "postgresql":
            assert [s.split()[2] for s in statements] == ["invoices", "invoice_lines"]
        keys = {line.id: (line.position, line.description) for line in invoice.lines}
    assert len(keys) == 12
    stored = session.execute(
        select(InvoiceLine.id, InvoiceLine.position, InvoiceLine.description).where(
            InvoiceLine.invoice_id == invoice.id
        )
    ).all()
    assert {row.id: (row.position, row.description) for row in stored} == keys


def test_every_digit_of_an_amount_is_written_with_the_rows_and_the_running_totals(session, make_client, engine):
    """Sixteen significant digits: a float on the way would round the last one (749723057968.5749 -> .5750).

    Twice: the first time a connection sends the statements as text, the second prepared (shared.prepared).
    The autouse check ``rollups_match_the_books`` compares the running totals (written with the commit) too.
    """
    exact = Decimal("749723057968.5749")
    client = make_client()
    for round_ in range(2):
        with atomic(session):
            invoice = new_invoice(client, token=f"tok-exact-{round_}")
            invoice.subtotal = invoice.total = exact * 2
            for line in invoice.lines:
                line.unit_price = line.amount = exact
            insert_new(session, [invoice, *invoice.lines])
            invoice_id = invoice.id
        session.close()  # the connection goes back to the pool: what it met is prepared there
        stored = session.execute(
            select(InvoiceLine.amount, InvoiceLine.unit_price).where(InvoiceLine.invoice_id == invoice_id)
        ).all()
        assert stored == [(exact, exact), (exact, exact)]
        assert session.scalar(select(Invoice.total).where(Invoice.id == invoice_id)) == exact * 2


def test_a_later_change_to_an_inserted_object_is_flushed_as_usual(session, make_client):
    client = make_client()
    with atomic(session):
        invoice = new_invoice(client)
        insert_new(session, [invoice, *invoice.lines])
        invoice.notes = "changed after the insert"
        queued = [QueuedMessage(kind="invoice", channel="email", recipient="a@example.com", invoice_id=invoice.id)]
        insert_new(session, queued)
        assert queued[0].state == "queued" and queued[0].attempts == 0
    session.expire_all()
    assert session.get(Invoice, invoice.id).notes == "changed after the insert"
    assert session.scalar(select(QueuedMessage.invoice_id).where(QueuedMessage.id == queued[0].id)) == invoice.id


def test_a_refused_insert_raises_and_the_transaction_keeps_nothing(session, make_client):
    client = make_client()
    with atomic(session):
        insert_new(session, [new_invoice(client, token="taken")])
    with pytest.raises(IntegrityError), atomic(session):
        insert_new(session, [new_invoice(client, token="taken")])
    assert session.scalar(select(Invoice.id).where(Invoice.public_token == "taken")) is not None
    assert len(session.scalars(select(Invoice).where(Invoice.client_id == client.id)).all()) == 1


def test_only_new_objects_and_parents_first(session, make_client):
    client = make_client()
    with atomic(session):
        invoice = new_invoice(client)
        with pytest.raises(ValueError, match="insert it first"):
            insert_new(session, [*invoice.lines, invoice])
        insert_new(session, [invoice])
        with pytest.raises(ValueError, match="is not new"):
            insert_new(session, [invoice])
