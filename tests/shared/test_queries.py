"""The read side (shared/queries.py) and the one SQL meaning of "overdue", on SQLite and Postgres."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from shared import reports
from shared.inputs import ClientChanges, ExpenseInput, PaymentInput
from shared.models import Activity, Invoice
from shared.queries import Balance, InvoiceFilters, client_balances, invoices_matching, recent_activity, timeline
from shared.services import (
    approve_expense,
    record_payment,
    request_expense,
    update_client,
    void_invoice,
    void_payment,
)

TODAY = dt.date.today()


def day(offset: int) -> str:
    return (TODAY + dt.timedelta(days=offset)).isoformat()


@pytest.fixture
def ledger(session, actor, make_client, make_invoice) -> dict[str, Invoice]:
    """Invoices of every state; several are past due, only some of those still owe something."""
    client = make_client()

    def invoice(issued: int, due: int, *, issue: bool = True, price: str = "100.00", currency: str = "USD"):
        return make_invoice(
            client=client,
            issue=issue,
            issue_date=day(issued),
            due_date=day(due),
            currency=currency,
            items=[{"description": "Work", "quantity": "1", "unit_price": price, "tax_rate": "0"}],
        )

    made = {
        "draft_past_due": invoice(-30, -10, issue=False),
        "open_past_due": invoice(-30, -10),
        "open_due_today": invoice(-5, 0),
        "open_not_due": invoice(-5, 10),
        "partly_paid_past_due": invoice(-40, -5),
        "paid_past_due": invoice(-40, -5),
        "void_past_due": invoice(-40, -5),
        "free_past_due": invoice(-40, -5, price="0.00"),  # nothing to pay: issued straight to paid
        "euro_past_due": invoice(-30, -1, currency="EUR"),
    }
    record_payment(
        session,
        actor=actor,
        invoice_id=made["partly_paid_past_due"].id,
        data=PaymentInput(amount="30.00", paid_on=day(-6)),
    )
    record_payment(
        session, actor=actor, invoice_id=made["paid_past_due"].id, data=PaymentInput(amount="100.00", paid_on=day(-6))
    )
    void_invoice(session, actor=actor, invoice_id=made["void_past_due"].id, reason="entered twice")
    for invoice_ in made.values():
        session.refresh(invoice_)
    return made


def listed(session, filters: InvoiceFilters, ledger, today: dt.date = TODAY) -> set[str]:
    ids = set(session.scalars(invoices_matching(filters, today=today).with_only_columns(Invoice.id)))
    return {name for name, invoice in ledger.items() if invoice.id in ids}


@pytest.mark.parametrize("offset", [-60, -10, -5, -1, 0, 1, 11])
def test_the_sql_overdue_condition_names_the_invoices_is_overdue_names(session, ledger, offset):
    today = TODAY + dt.timedelta(days=offset)
    in_sql = set(session.scalars(select(Invoice.id).where(Invoice.overdue_clause(today))))
    in_python = {invoice.id for invoice in ledger.values() if invoice.is_overdue(today)}
    assert in_sql == in_python


def test_overdue_lists_live_invoices_past_due_and_not_overdue_lists_the_rest(session, ledger):
    overdue = {"open_past_due", "partly_paid_past_due", "euro_past_due"}
    assert listed(session, InvoiceFilters(overdue=True), ledger) == overdue
    assert listed(session, InvoiceFilters(overdue=False), ledger) == set(ledger) - overdue
    assert listed(session, InvoiceFilters(), ledger) == set(ledger)


def test_an_issue_date_range_leaves_drafts_out(session, ledger):
    assert "draft_past_due" not in listed(session, InvoiceFilters(issued_from=TODAY - dt.timedelta(days=31)), ledger)
    assert "draft_past_due" not in listed(session, InvoiceFilters(issued_to=TODAY), ledger)
    assert listed(session, InvoiceFilters(status="draft"), ledger) == {"draft_past_due"}
    assert listed(session, InvoiceFilters(status="draft", issued_to=TODAY), ledger) == set()
    within = InvoiceFilters(issued_from=TODAY - dt.timedelta(days=30), issued_to=TODAY - dt.timedelta(days=30))
    assert listed(session, within, ledger) == {"open_past_due", "euro_past_due"}


def test_the_number_search_is_case_blind_and_takes_wildcards_literally(session, ledger):
    number = ledger["open_past_due"].number
    assert listed(session, InvoiceFilters(number_contains=number.lower()), ledger) == {"open_past_due"}
    assert listed(session, InvoiceFilters(number_contains="%"), ledger) == set()
    assert listed(session, InvoiceFilters(number_contains="_"), ledger) == set()


def test_the_dashboard_headline_counts_the_invoices_the_overdue_list_shows(session, ledger):
    for currency in ("USD", "EUR"):
        headline = reports.headline(session, currency, today=TODAY)
        shown = session.scalars(
            invoices_matching(InvoiceFilters(overdue=True), today=TODAY).where(Invoice.currency == currency)
        ).all()
        assert headline.overdue_count == len(shown)
        assert headline.overdue == sum((invoice.balance_due for invoice in shown), Decimal(0))


def test_a_statement_counts_as_overdue_what_the_overdue_list_shows(session, ledger):
    client_id = ledger["open_past_due"].client_id
    statement = reports.client_statement(session, client_id, as_of=TODAY)
    overdue = {section.currency: section.overdue for section in statement.sections}
    assert overdue == {"USD": Decimal("170.00"), "EUR": Decimal("100.00")}


def test_client_balances_are_what_live_invoices_owe_per_currency(session, ledger, make_client):
    client_id = ledger["open_past_due"].client_id
    # open: 100 + 100 + 100, partly paid: 70; drafts, paid, void and free invoices owe nothing.
    assert client_balances(session, client_id) == [
        Balance("EUR", Decimal("100.00")),
        Balance("USD", Decimal("370.00")),
    ]
    assert client_balances(session, make_client().id) == []


def test_an_invoice_timeline_is_its_own_entries_newest_first(session, actor, ledger):
    invoice = ledger["partly_paid_past_due"]
    entries = timeline(session, invoice)
    assert [entry.verb for entry in entries] == ["payment_recorded", "issued", "created"]
    assert all(entry.invoice_id == invoice.id for entry in entries)


def test_a_payment_timeline_is_its_recording_and_voiding_only(session, actor, ledger):
    invoice = ledger["partly_paid_past_due"]
    kept, _ = record_payment(
        session, actor=actor, invoice_id=invoice.id, data=PaymentInput(amount="10.00", paid_on=day(-1))
    )
    first = invoice.payments[0]
    void_payment(session, actor=actor, payment_id=first.id, reason="bounced")
    assert [entry.verb for entry in timeline(session, first)] == ["payment_voided", "payment_recorded"]
    assert [entry.verb for entry in timeline(session, kept)] == ["payment_recorded"]


def test_a_client_timeline_has_its_own_and_its_documents_entries(session, actor, ledger, make_client):
    client = ledger["open_past_due"].client
    update_client(session, actor=actor, client_id=client.id, data=ClientChanges(name="Renamed"))
    entries = timeline(session, client)
    verbs = [entry.verb for entry in entries]
    assert verbs[0] == "edited" and verbs[-1] == "created"
    assert {"issued", "payment_recorded", "voided"} <= set(verbs)
    assert len(timeline(session, client, limit=3)) == 3
    assert [entry.verb for entry in timeline(session, make_client())] == ["created"]


def test_an_expense_timeline_and_the_recent_activity(session, actor):
    expense = request_expense(
        session, actor=actor, data=ExpenseInput(title="Paper", amount="12.00", expense_date=day(-1), category="office")
    )
    approve_expense(session, actor=actor, expense_id=expense.id)
    assert [entry.verb for entry in timeline(session, expense)] == ["expense_approved", "expense_requested"]
    newest = session.scalar(select(func.max(Activity.id)))
    assert [entry.id for entry in recent_activity(session, limit=1)] == [newest]


def test_a_timeline_of_anything_else_is_refused(session):
    with pytest.raises(TypeError):
        timeline(session, object())
