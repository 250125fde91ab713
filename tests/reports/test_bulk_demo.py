"""``seed-demo --invoices N``: many invoices in bulk, still consistent, and reports that agree with the rows."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections import defaultdict
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import main_service
from main_service.demo import add_clients, bulk_invoices
from shared import money, reports
from shared.db import db
from shared.inputs import ClientInput, InvoiceDraft, PaymentInput
from shared.models import Expense, Invoice, NumberCounter, Payment, QueuedMessage
from shared.services import Actor, create_client, create_draft, issue_invoice, record_payment
from support import app_config

D = Decimal


@pytest.fixture
def bulk(session):
    added = bulk_invoices(session, count=400, seed=7, batch_size=150)
    assert added.invoices == 400
    return added


def sequence(numbers: list[str]) -> dict[str, list[int]]:
    by_year: dict[str, list[int]] = defaultdict(list)
    for number in numbers:
        _, year, seq = number.split("-")
        by_year[year].append(int(seq))
    return by_year


def assert_books_agree(session) -> None:
    """Totals by §5.1, amount paid and state from the live payments, gapless numbers, frozen client details."""
    invoices = session.scalars(select(Invoice)).all()
    for invoice in invoices:
        discount = money.Discount(invoice.discount_type, invoice.discount_value) if invoice.discount_type else None
        totals = money.compute_totals(
            [money.LineInput(li.quantity, li.unit_price, li.tax_rate) for li in invoice.lines],
            invoice.currency,
            discount,
            invoice.tax_rounding,
        )
        assert (invoice.subtotal, invoice.discount_total, invoice.tax_total, invoice.total) == (
            totals.subtotal,
            totals.discount_total,
            totals.tax_total,
            totals.total,
        )
        live = sum((p.amount for p in invoice.payments if not p.is_void), D(0))
        assert invoice.amount_paid == live, invoice
        expected = {True: "paid", False: "partially_paid" if live else "open"}[live == invoice.total]
        if invoice.status in ("draft", "void"):
            assert live == 0 and (invoice.number is None) == (invoice.status == "draft")
        else:
            assert invoice.status == expected, invoice
        if invoice.status != "draft":
            assert invoice.client_snapshot == invoice.client.snapshot(), invoice
    for seqs in sequence([i.number for i in invoices if i.number]).values():
        assert sorted(seqs) == list(range(1, len(seqs) + 1))  # gapless per year
    for seqs in sequence(session.scalars(select(Payment.receipt_number)).all()).values():
        assert sorted(seqs) == list(range(1, len(seqs) + 1))
    for counter in session.scalars(select(NumberCounter)):
        taken = Invoice.number if counter.series == "invoice" else Payment.receipt_number
        count = session.scalar(select(func.count()).where(taken.like(f"%-{counter.year}-%")))
        assert counter.last_value == count, counter  # the next number issued continues the series


def test_bulk_invoices_are_consistent(session, bulk):
    invoices = session.scalars(select(Invoice)).all()
    assert {i.currency for i in invoices} == {"NGN", "USD"}
    assert {"open", "partially_paid", "paid", "void"} <= {i.status for i in invoices}
    assert_books_agree(session)
    assert session.scalar(select(func.count()).select_from(Expense).where(Expense.status == "approved")) > 0


def test_after_a_bulk_load_the_next_invoice_and_receipt_take_the_next_numbers(session, bulk, make_invoice, actor):
    year = dt.date.today().year
    invoices_this_year = session.scalar(select(func.count()).where(Invoice.number.like(f"%-{year}-%")))
    receipts_this_year = session.scalar(select(func.count()).where(Payment.receipt_number.like(f"%-{year}-%")))
    invoice = make_invoice(issue=True)
    payment, _ = record_payment(session, actor=actor, invoice_id=invoice.id, data=PaymentInput(amount=invoice.total))
    assert sequence([invoice.number])[str(year)] == [invoices_this_year + 1]
    assert sequence([payment.receipt_number])[str(year)] == [receipts_this_year + 1]
    assert_books_agree(session)


def test_a_load_for_given_clients_issues_every_invoice_unpaid_with_its_email_queued(session):
    """What the worker benchmark loads: invoices just issued and e-mailed, to its own clients."""
    client_ids = add_clients(session, count=3, seed=5)
    added = bulk_invoices(session, count=120, seed=5, client_ids=client_ids, queue_email=True, expenses=False)
    assert (added.invoices, added.clients, added.payments, added.expenses, added.messages) == (120, 0, 0, 0, 120)
    invoices = session.scalars(select(Invoice)).all()
    assert {i.status for i in invoices} == {"open"}
    assert {i.client_id for i in invoices} <= set(client_ids)
    messages = session.scalars(select(QueuedMessage)).all()
    assert sorted(m.invoice_id for m in messages) == sorted(i.id for i in invoices)
    for message in messages:
        invoice = session.get(Invoice, message.invoice_id)
        assert (message.kind, message.channel, message.state) == ("invoice", "email", "queued")
        assert (message.client_id, message.recipient) == (invoice.client_id, invoice.client.email)
    assert session.scalar(select(func.count()).select_from(Expense)) == 0
    assert_books_agree(session)


def test_reports_on_bulk_data_agree_with_the_rows(session, bulk):
    today = dt.date.today()
    period = reports.Period.last_months(today)
    for currency in ("NGN", "USD"):
        invoices = session.scalars(select(Invoice).where(Invoice.currency == currency)).all()
        live = [i for i in invoices if i.status in ("open", "partially_paid")]
        aging = reports.aging(session, currency, today=today)
        assert aging.total == sum((i.balance_due for i in live), D(0))
        assert aging.buckets[0].amount == sum((i.balance_due for i in live if i.due_date >= today), D(0))
        assert sum(r.total for r in reports.aging_by_client(session, currency, today=today)) == aging.total

        payments = [p for p in session.scalars(select(Payment).where(Payment.currency == currency)) if not p.is_void]
        in_period = [p for p in payments if period.start <= p.paid_on <= period.end]
        income = reports.income_statement(session, currency, period)
        assert income.collected == sum((p.amount for p in in_period), D(0))
        assert reports.group_total(reports.payments_by_method(session, currency, period)) == (
            len(in_period),
            income.collected,
        )
        issued = [i for i in invoices if i.status not in ("draft", "void") and period.start <= i.issue_date]
        assert reports.tax_by_rate(session, currency, period).invoice_tax == sum((i.tax_total for i in issued), D(0))


def test_seed_demo_command_adds_invoices_with_a_progress_bar(database_url):
    app = main_service.create_app(app_config(database_url))
    try:
        result = app.test_cli_runner().invoke(args=["seed-demo", "--invoices", "250"])
        assert result.exit_code == 0, result.output
        assert "Adding invoices" in result.output
        assert re.search(r"Added 250 invoices \(.*\) with \d+ lines, \d+ payments", result.output)
        with app.app_context():
            # The demo company has 12 invoices of its own (one of them credited), then the bulk ones.
            assert db.session.scalar(select(func.count()).select_from(Invoice)) == 250 + 12
    finally:
        with app.app_context():
            db.engine.dispose()


def test_invoices_issued_during_a_bulk_load_share_its_gapless_series_and_running_totals(engine):
    """The load takes numbers and recounts the running totals batch by batch while others issue as usual."""
    actor = Actor.system("tests")
    with Session(engine) as session:
        client_id = create_client(session, actor=actor, data=ClientInput(name="Walk-in", email="w@example.com")).id
    failures: list[BaseException] = []

    def load() -> None:
        try:
            with Session(engine) as session:
                bulk_invoices(session, count=600, seed=3, batch_size=60)
        except BaseException as exc:  # reported below
            failures.append(exc)

    def issue() -> None:
        try:
            with Session(engine) as session:
                for _ in range(12):
                    item = {"description": "Walk-in sale", "quantity": "1", "unit_price": "10.00", "tax_rate": "0"}
                    draft = create_draft(
                        session, actor=actor, data=InvoiceDraft.from_mapping({"client_id": client_id, "items": [item]})
                    )
                    issue_invoice(session, actor=actor, invoice_id=draft.id)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=load), threading.Thread(target=issue)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not failures, failures
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Invoice)) == 600 + 12
        assert_books_agree(session)
