"""Reports with credit notes, client credit and refunds (SPEC §11) against hand-worked figures.

The books (USD):
- A, issued 2025-03-05: 2 x 100.00 at 10 % and 1 x 50.00 at 0 %: S 250.00, T 20.00, total 270.00;
  paid in full on 2025-03-10.
- B, issued 2025-03-20, due 2025-04-19: 1 x 400.00 at 10 %: total 440.00.
- CN on B, 2025-03-25: 1 x 50.00 at 10 % = 55.00, all applied (B owed 440.00).
- CN on A, 2025-04-02: 1 x 100.00 at 10 % = 110.00; A owed nothing, so all 110.00 to client credit.
- 60.00 of credit applied to B; 30.00 refunded in cash on 2025-04-15; 20.00 of credit left.
So B owes 440 - 55 - 60 = 325.00, and the statement closes at 325.00 owed - 20.00 credit = 305.00.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from shared import reports
from shared.inputs import ApplyCreditInput, CreditNoteInput, InvoiceDraft, ItemInput, PaymentInput, RefundInput
from shared.services import (
    apply_client_credit,
    create_draft,
    issue_credit_note,
    issue_invoice,
    record_payment,
    refund_client_credit,
)
from shared.services.credit_notes import client_credit_in

D = Decimal
MARCH_APRIL = reports.Period(dt.date(2025, 3, 1), dt.date(2025, 4, 30))
APRIL = reports.Period(dt.date(2025, 4, 1), dt.date(2025, 4, 30))


def _issued(session, actor, client, issue_date, due_date, items):
    data = {
        "client_id": client.id,
        "currency": "USD",
        "issue_date": issue_date,
        "due_date": due_date,
        "items": items,
    }
    draft = create_draft(session, actor=actor, data=InvoiceDraft.from_mapping(data))
    return issue_invoice(session, actor=actor, invoice_id=draft.id)[0]


@pytest.fixture
def credit_books(session, actor, make_client):
    client = make_client(name="Ledger Client")
    a = _issued(
        session,
        actor,
        client,
        "2025-03-05",
        "2025-03-19",
        [
            {"description": "Hours", "quantity": "2", "unit_price": "100.00", "tax_rate": "10"},
            {"description": "Book", "quantity": "1", "unit_price": "50.00", "tax_rate": "0"},
        ],
    )
    b = _issued(
        session,
        actor,
        client,
        "2025-03-20",
        "2025-04-19",
        [{"description": "Project", "quantity": "1", "unit_price": "400.00", "tax_rate": "10"}],
    )
    record_payment(session, actor=actor, invoice_id=a.id, data=PaymentInput(amount="270.00", paid_on="2025-03-10"))
    issue_credit_note(
        session,
        actor=actor,
        invoice_id=b.id,
        data=CreditNoteInput(
            reason="Scope cut", issue_date="2025-03-25", items=[ItemInput("Scope", "1", "50.00", "10")]
        ),
    )
    issue_credit_note(
        session,
        actor=actor,
        invoice_id=a.id,
        data=CreditNoteInput(
            reason="One hour too many", issue_date="2025-04-02", items=[ItemInput("Hour", "1", "100.00", "10")]
        ),
    )
    apply_client_credit(session, actor=actor, invoice_id=b.id, data=ApplyCreditInput(amount="60.00"))
    refund_client_credit(
        session,
        actor=actor,
        client_id=client.id,
        data=RefundInput(currency="USD", amount="30.00", method="cash", refunded_on="2025-04-15"),
    )
    return client, a, b


def test_states_and_credit_of_the_books(session, credit_books):
    client, a, b = credit_books
    assert (a.status, a.amount_paid, a.amount_credited, a.balance_due) == ("paid", D("270.00"), D("0"), D("0.00"))
    assert (b.status, b.amount_credited, b.balance_due) == ("open", D("115.00"), D("325.00"))
    assert client_credit_in(session, client.id, "USD") == D("20.00")


def test_income_statement_lowers_income_in_the_credit_notes_periods(session, credit_books):
    income = reports.income_statement(session, "USD", MARCH_APRIL)
    assert [(m.month, m.collected, m.refunded, m.invoiced, m.credited, m.net) for m in income.months] == [
        ("2025-03", D("270.00"), D("0.00"), D("710.00"), D("55.00"), D("270.00")),
        ("2025-04", D("0.00"), D("30.00"), D("0.00"), D("110.00"), D("-30.00")),
    ]
    assert (income.invoiced, income.credited, income.net_invoiced) == (D("710.00"), D("165.00"), D("545.00"))
    assert (income.collected, income.refunded, income.net) == (D("270.00"), D("30.00"), D("240.00"))


def test_tax_report_shows_credited_tax_per_rate_in_the_credit_notes_period(session, credit_books):
    both = reports.tax_by_rate(session, "USD", MARCH_APRIL)
    assert [(r.rate, r.invoices, r.taxable, r.tax) for r in both.rows] == [
        (D("0"), 1, D("50.00"), D("0.00")),
        (D("10"), 2, D("600.00"), D("60.00")),
    ]
    assert [(r.rate, r.invoices, r.taxable, r.tax) for r in both.credited_rows] == [
        (D("10"), 2, D("150.00"), D("15.00"))
    ]
    assert (both.invoice_tax, both.credited_tax, both.net_tax) == (D("60.00"), D("15.00"), D("45.00"))

    april = reports.tax_by_rate(session, "USD", APRIL)
    assert april.rows == []
    assert [(r.rate, r.invoices, r.taxable, r.tax) for r in april.credited_rows] == [
        (D("10"), 1, D("100.00"), D("10.00"))
    ]
    assert april.net_tax == D("-10.00")


def test_aging_headline_and_statement_use_the_balance_due(session, credit_books):
    client, _a, b = credit_books
    today = dt.date(2025, 5, 1)
    aging = reports.aging(session, "USD", today=today)
    assert {bucket.key: (bucket.amount, bucket.count) for bucket in aging.buckets if bucket.count} == {
        "1-30": (D("325.00"), 1)
    }
    (row,) = reports.aging_by_client(session, "USD", today=today)
    assert row.total == D("325.00")
    headline = reports.headline(session, "USD", today=today)
    assert (headline.outstanding, headline.overdue) == (D("325.00"), D("325.00"))

    statement = reports.client_statement(session, client.id, as_of=today)
    (section,) = statement.sections
    assert [(e.date.isoformat(), e.kind, e.charge, e.payment, e.balance) for e in section.entries] == [
        ("2025-03-05", "invoice", D("270.00"), None, D("270.00")),
        ("2025-03-10", "payment", None, D("270.00"), D("0.00")),
        ("2025-03-20", "invoice", D("440.00"), None, D("440.00")),
        ("2025-03-25", "credit_note", None, D("55.00"), D("385.00")),
        ("2025-04-02", "credit_note", None, D("110.00"), D("275.00")),
        ("2025-04-15", "refund", D("30.00"), None, D("305.00")),
    ]
    assert section.balance == D("305.00") == b.balance_due - D("20.00")
