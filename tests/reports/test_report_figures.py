"""Each report's figures on the hand-worked books (tests/reports/conftest.py), on SQLite and Postgres."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from report_books import PERIOD, TODAY
from sqlalchemy import select

from shared import reports
from shared.inputs import ClientInput, InvoiceDraft, PaymentInput
from shared.models import Invoice, Payment
from shared.services import Actor, create_client, create_draft, get_settings, issue_invoice

D = Decimal


def test_currencies_in_use_are_listed_once_each(session, books):
    assert reports.currencies_in_use(session) == ["NGN", "USD"]


def test_headline_per_currency(session, books):
    ngn = reports.headline(session, "NGN", today=TODAY)
    # Outstanding: N3 8,000 + N4 3,150 + N2 33,750 + N7 12,900; overdue: all but N3 (due 07-20).
    assert (ngn.outstanding, ngn.outstanding_count) == (D("57800.00"), 4)
    assert (ngn.overdue, ngn.overdue_count) == (D("49800.00"), 3)
    # June: the only NGN payment (the cheque) was voided; water 5,000 approved, toner pending, lunch declined.
    assert (ngn.collected_this_month, ngn.collected_count) == (D("0.00"), 0)
    assert (ngn.expenses_this_month, ngn.expenses_count) == (D("5000.00"), 1)

    usd = reports.headline(session, "USD", today=TODAY)
    assert (usd.outstanding, usd.outstanding_count) == (D("470.00"), 2)
    assert (usd.overdue, usd.overdue_count) == (D("470.00"), 2)
    assert (usd.collected_this_month, usd.expenses_this_month) == (D("100.00"), D("49.99"))


def test_income_statement_by_month(session, books):
    ngn = reports.income_statement(session, "NGN", PERIOD)
    assert [(m.month, m.collected, m.expenses, m.net) for m in ngn.months] == [
        ("2025-01", D("0.00"), D("150000.00"), D("-150000.00")),
        ("2025-02", D("10000.00"), D("0.00"), D("10000.00")),
        ("2025-03", D("19025.00"), D("20000.00"), D("-975.00")),
        ("2025-04", D("20000.00"), D("0.00"), D("20000.00")),
        ("2025-05", D("0.00"), D("0.00"), D("0.00")),
        ("2025-06", D("0.00"), D("5000.00"), D("-5000.00")),
    ]
    assert (ngn.collected, ngn.expenses, ngn.net) == (D("49025.00"), D("175000.00"), D("-125975.00"))

    usd = reports.income_statement(session, "USD", PERIOD)
    assert {m.month: (m.collected, m.expenses) for m in usd.months if m.collected or m.expenses} == {
        "2025-03": (D("210.00"), D("0.00")),
        "2025-06": (D("100.00"), D("49.99")),
    }
    assert (usd.collected, usd.expenses, usd.net) == (D("310.00"), D("49.99"), D("260.01"))


def test_income_statement_months_cross_a_year(session, books):
    december = reports.income_statement(session, "NGN", reports.Period(dt.date(2024, 12, 1), dt.date(2025, 1, 31)))
    assert [(m.month, m.expenses) for m in december.months] == [
        ("2024-12", D("150000.00")),
        ("2025-01", D("150000.00")),
    ]


def test_invoiced_by_month_comes_from_the_running_totals_for_whole_months(session, books):
    """The dashboard's twelve whole months read the rollups (flat cost); a cut month reads the invoices: same figures."""
    from sqlalchemy import event

    whole = reports.Period(dt.date(2025, 1, 1), dt.date(2025, 6, 30))
    cut = reports.Period(dt.date(2025, 1, 1), dt.date(2025, 6, 29))  # the books have nothing on 30 June
    assert whole.is_whole_months and not cut.is_whole_months
    seen: list[str] = []

    def on_statement(_conn, _cursor, statement, *_):
        seen.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", on_statement)
    try:
        from_rollups = reports.income_statement(session, "NGN", whole)
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
    from_invoices = reports.income_statement(session, "NGN", cut)
    invoiced = [(m.month, m.invoiced) for m in from_rollups.months]
    assert invoiced == [(m.month, m.invoiced) for m in from_invoices.months]
    assert any(amount for _, amount in invoiced)
    assert not [s for s in seen if " invoices" in s.replace("\n", " ")], "a whole-month statement read the invoices"


def test_aging_buckets_and_by_client(session, books):
    ngn = reports.aging(session, "NGN", today=TODAY)
    assert [(b.key, b.amount, b.count) for b in ngn.buckets] == [
        ("current", D("8000.00"), 1),
        ("1-30", D("3150.00"), 1),
        ("31-60", D("0.00"), 0),
        ("61-90", D("33750.00"), 1),
        ("over-90", D("12900.00"), 1),
    ]
    assert (ngn.total, ngn.count) == (D("57800.00"), 4)

    by_client = reports.aging_by_client(session, "NGN", today=TODAY)
    assert [(r.client_name, [b.amount for b in r.buckets], r.total) for r in by_client] == [
        ("Ada Obi", [D("8000.00"), D("3150.00"), D("0.00"), D("33750.00"), D("0.00")], D("44900.00")),
        ("Chidi Eze", [D("0.00"), D("0.00"), D("0.00"), D("0.00"), D("12900.00")], D("12900.00")),
    ]
    usd = reports.aging_by_client(session, "USD", today=TODAY)
    assert [(r.client_name, r.total) for r in usd] == [("Bolt Ltd", D("450.00")), ("Ada Obi", D("20.00"))]
    assert [b.amount for b in reports.aging(session, "USD", today=TODAY).buckets] == [
        D("0.00"),
        D("450.00"),
        D("20.00"),
        D("0.00"),
        D("0.00"),
    ]


def test_aging_bucket_edges_count_days_past_due(session, make_client, actor):
    today = dt.date(2025, 6, 30)
    client = make_client()
    for days_late in (0, 1, 30, 31, 60, 61, 90, 91):
        due = today - dt.timedelta(days=days_late)
        draft = create_draft(
            session,
            actor=actor,
            data=InvoiceDraft.from_mapping(
                {
                    "client_id": client.id,
                    "currency": "NGN",
                    "issue_date": (due - dt.timedelta(days=200)).isoformat(),
                    "due_date": due.isoformat(),
                    "items": [
                        {"description": f"{days_late} days", "quantity": "1", "unit_price": f"{days_late + 1}.00"}
                    ],
                }
            ),
        )
        issue_invoice(session, actor=actor, invoice_id=draft.id)
    aging = reports.aging(session, "NGN", today=today)
    # Each bucket holds the invoices late by (days + 1) naira each: 0 -> current, 1 and 30 -> 1-30, ...
    assert [(b.key, b.amount, b.count) for b in aging.buckets] == [
        ("current", D("1.00"), 1),
        ("1-30", D("33.00"), 2),
        ("31-60", D("93.00"), 2),
        ("61-90", D("153.00"), 2),
        ("over-90", D("92.00"), 1),
    ]


def test_invoices_by_status(session, books):
    assert [(r.status, r.count, r.total) for r in reports.invoices_by_status(session, "NGN")] == [
        ("draft", 1, D("5000.00")),
        ("open", 3, D("24050.00")),  # N3 8,000 + N4 3,150 + N7 12,900
        ("partially_paid", 1, D("53750.00")),
        ("paid", 1, D("29025.00")),
        ("void", 1, D("107498.93")),  # 99,999.00 + 7.5 % (7,499.925 rounds up to 7,499.93)
        ("credited", 0, D("0.00")),
    ]
    assert [(r.status, r.count) for r in reports.invoices_by_status(session, "USD")] == [
        ("draft", 0),
        ("open", 1),
        ("partially_paid", 1),
        ("paid", 1),
        ("void", 0),
        ("credited", 0),
    ]


def test_tax_by_rate_counts_issued_not_void_invoices_by_issue_date(session, books):
    ngn = reports.tax_by_rate(session, "NGN", PERIOD)
    # N1 (27,000 after the discount) and N2 at 7.5 %; N4 at 5 %; N3 at 0 %. N5 void, N6 draft, N7 issued in 2024.
    assert [(r.rate, r.invoices, r.taxable, r.tax) for r in ngn.rows] == [
        (D("0"), 1, D("8000.00"), D("0.00")),
        (D("5"), 1, D("3000.00"), D("150.00")),
        (D("7.5"), 2, D("77000.00"), D("5775.00")),
    ]
    assert (ngn.taxable, ngn.invoice_tax, ngn.rounding) == (D("88000.00"), D("5925.00"), D("0.00"))

    usd = reports.tax_by_rate(session, "USD", PERIOD)
    assert [(r.rate, r.invoices, r.taxable, r.tax) for r in usd.rows] == [
        (D("0"), 2, D("120.00"), D("0.00")),
        (D("10"), 2, D("600.00"), D("60.00")),
    ]


def test_tax_with_document_rounding_reports_the_difference(session, make_client, actor):
    get_settings(session).tax_rounding = "document"
    session.commit()
    client = make_client()
    draft = create_draft(
        session,
        actor=actor,
        data=InvoiceDraft.from_mapping(
            {
                "client_id": client.id,
                "currency": "USD",
                "issue_date": "2025-03-01",
                "items": [
                    {"description": f"x{i}", "quantity": "1", "unit_price": "0.10", "tax_rate": "5"} for i in range(3)
                ],
            }
        ),
    )
    issue_invoice(session, actor=actor, invoice_id=draft.id)
    # SPEC §5.1: each line's tax rounds 0.005 up to 0.01 (0.03 in all); the invoice rounds 5 % of 0.30 once: 0.02.
    tax = reports.tax_by_rate(session, "USD", PERIOD)
    assert [(r.rate, r.taxable, r.tax) for r in tax.rows] == [(D("5"), D("0.30"), D("0.03"))]
    assert (tax.rounding, tax.invoice_tax) == (D("-0.01"), D("0.02"))


def test_payments_by_method_leave_out_voided_payments(session, books):
    ngn = reports.payments_by_method(session, "NGN", PERIOD)
    assert [(r.key, r.count, r.amount) for r in ngn] == [
        ("cash", 1, D("19025.00")),
        ("bank_transfer", 1, D("10000.00")),
        ("card", 1, D("20000.00")),
    ]
    assert reports.group_total(ngn) == (3, D("49025.00"))  # the income statement's collected
    usd = reports.payments_by_method(session, "USD", PERIOD)
    assert [(r.key, r.amount) for r in usd] == [("online", D("210.00")), ("mobile_money", D("100.00"))]


def test_expenses_by_category_count_approved_ones_in_the_period(session, books):
    ngn = reports.expenses_by_category(session, "NGN", PERIOD)
    assert [(r.key, r.count, r.amount) for r in ngn] == [("Rent", 1, D("150000.00")), ("Utilities", 2, D("25000.00"))]
    assert [(r.key, r.amount) for r in reports.expenses_by_category(session, "USD", PERIOD)] == [
        ("Software", D("49.99"))
    ]


def test_statement_running_balance_per_currency(session, books):
    statement = reports.client_statement(session, books.ada, as_of=TODAY)
    ngn, usd = statement.sections
    assert ngn.currency == "NGN"
    assert [(e.date.isoformat(), e.kind, e.charge, e.payment, e.balance) for e in ngn.entries] == [
        ("2025-01-10", "invoice", D("29025.00"), None, D("29025.00")),
        ("2025-02-05", "payment", None, D("10000.00"), D("19025.00")),
        ("2025-03-01", "payment", None, D("19025.00"), D("0.00")),
        ("2025-03-15", "invoice", D("53750.00"), None, D("53750.00")),
        ("2025-04-20", "payment", None, D("20000.00"), D("33750.00")),
        ("2025-05-01", "invoice", D("3150.00"), None, D("36900.00")),
        ("2025-06-20", "invoice", D("8000.00"), None, D("44900.00")),
    ]
    assert (ngn.invoiced, ngn.paid, ngn.balance, ngn.overdue) == (
        D("93925.00"),
        D("49025.00"),
        D("44900.00"),
        D("36900.00"),
    )
    assert [(e.reference[:8], e.balance) for e in usd.entries] == [("INV-2025", D("20.00"))]
    assert (usd.currency, usd.balance) == ("USD", D("20.00"))
    # The closing balance is what the client owes: the sum of its open invoices' balances.
    owed = sum(
        (
            i.balance_due
            for i in session.scalars(select(Invoice).where(Invoice.client_id == books.ada))
            if i.currency == "NGN" and i.status in ("open", "partially_paid")
        ),
        D(0),
    )
    assert owed == ngn.balance


def test_statement_as_of_an_earlier_day_stops_there(session, books):
    statement = reports.client_statement(session, books.ada, as_of=dt.date(2025, 3, 1))
    (ngn,) = statement.sections
    assert [e.balance for e in ngn.entries] == [D("29025.00"), D("19025.00"), D("0.00")]


def test_invoice_and_payment_on_one_day_list_the_invoice_first(session, make_client, actor):
    client = make_client()
    draft = create_draft(
        session,
        actor=actor,
        data=InvoiceDraft.from_mapping(
            {
                "client_id": client.id,
                "currency": "NGN",
                "issue_date": "2025-05-05",
                "items": [{"description": "x", "quantity": "1", "unit_price": "100.00"}],
            }
        ),
    )
    invoice, _ = issue_invoice(session, actor=actor, invoice_id=draft.id)
    from shared.services import record_payment

    record_payment(
        session, actor=actor, invoice_id=invoice.id, data=PaymentInput(amount="100.00", paid_on="2025-05-05")
    )
    (section,) = reports.client_statement(session, client.id, as_of=TODAY).sections
    assert [(e.kind, e.balance) for e in section.entries] == [("invoice", D("100.00")), ("payment", D("0.00"))]
    assert session.scalar(select(Payment.id)) is not None


def test_month_of_buckets_dates_on_either_database(session, books):
    month = reports.month_of(session, Payment.paid_on)
    months = session.scalars(select(month).where(Payment.voided_at.is_(None)).distinct().order_by(month)).all()
    assert months == ["2025-02", "2025-03", "2025-04", "2025-06"]


def test_a_client_with_nothing_issued_has_an_empty_statement(session, actor):
    client = create_client(session, actor=Actor.system(), data=ClientInput(name="New"))
    assert reports.client_statement(session, client.id, as_of=TODAY).is_empty


def test_periods_are_whole_calendar_months():
    year = reports.Period.last_months(dt.date(2026, 11, 25))
    assert (year.start, year.end) == (dt.date(2025, 12, 1), dt.date(2026, 11, 30))
    assert year.month_keys()[0] == "2025-12" and len(year.month_keys()) == 12
    assert reports.Period.month_of(dt.date(2024, 2, 10)) == reports.Period(dt.date(2024, 2, 1), dt.date(2024, 2, 29))
