"""The money at a glance: dashboard figures, reports and client statements, computed in the database.

Every figure here is an aggregate the database works out (``SUM``/``COUNT``
with ``GROUP BY``, conditional sums, a window sum for running balances), so a
report over 100,000 invoices moves a handful of rows to Python, not the table.
The dashboard's figures (headline, aging, invoices by status, money
collected, currencies in use) go further and add up the running totals of
``shared.models.rollups`` (invoices per currency, state and due date; payments per
currency and day), so their cost does not grow with the number of invoices.
Functions take a session and plain filters and return small frozen
dataclasses; nothing here knows about Flask.

Amounts are per currency and never added across currencies: each function
takes the one currency it reports on. The definitions (also in the README):

- **payments received**: live (not voided) payments, dated by ``paid_on``;
- **expenses**: approved expenses, dated by ``expense_date``;
- **outstanding**: ``balance_due`` (``total - amount_paid - amount_credited``, SPEC §11) of ``open`` and ``partially_paid`` invoices;
- **aging**: the same balances by days past the due date, as of a given day;
- **tax by rate**: the lines of issued, not voided invoices, dated by the
  invoice's ``issue_date`` (tax invoiced, the accrual view; not tax on cash
  received). With document tax rounding an invoice's tax is rounded per rate
  over the whole invoice, so its lines' own tax figures can differ from its
  ``tax_total`` by a few minor units; that difference is reported as a
  separate rounding figure, so the report always adds up to the invoices.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from babel.dates import format_date as babel_format_date
from sqlalchemy import (
    Date,
    Integer,
    String,
    and_,
    case,
    cast,
    distinct,
    func,
    literal,
    literal_column,
    null,
    select,
    type_coerce,
)
from sqlalchemy import union_all as sql_union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from shared import money
from shared.db import Fixed4
from shared.errors import NotFound
from shared.models import (
    Client,
    CreditNote,
    CreditNoteItem,
    Expense,
    Invoice,
    InvoiceLine,
    InvoiceRollup,
    Payment,
    PaymentRollup,
    Refund,
)
from shared.models.enums import (
    INVOICE_STATES,
    ISSUED_INVOICE_STATES,
    LIVE_INVOICE_STATES,
    PAYMENT_METHODS,
    InvoiceStatus,
)

ISSUED_STATES = ISSUED_INVOICE_STATES
ZERO = Decimal(0)


# ---------------------------------------------------------------- periods and months


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(day: dt.date, months: int) -> dt.date:
    """The first of the month ``months`` after (or before) ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def month_label(key: str) -> str:
    """``2026-11`` -> ``Nov 2026``."""
    return babel_format_date(dt.date.fromisoformat(key + "-01"), "MMM y", locale="en")


@dataclass(frozen=True)
class Period:
    """An inclusive date range."""

    start: dt.date
    end: dt.date

    @classmethod
    def last_months(cls, today: dt.date, months: int = 12) -> Period:
        """The calendar month of ``today`` and the ``months - 1`` before it, whole."""
        return cls(add_months(today, -(months - 1)), add_months(today, 1) - dt.timedelta(days=1))

    @classmethod
    def month_of(cls, today: dt.date) -> Period:
        """The whole calendar month of ``today``."""
        return cls.last_months(today, 1)

    def month_keys(self) -> list[str]:
        """``YYYY-MM`` of every month the period touches, oldest first."""
        keys, month = [], month_start(self.start)
        while month <= self.end:
            keys.append(f"{month:%Y-%m}")
            month = add_months(month, 1)
        return keys

    @property
    def is_whole_months(self) -> bool:
        """Starts on the first of a month and ends on the last day of one."""
        return self.start.day == 1 and (self.end + dt.timedelta(days=1)).day == 1

    def contains(self, column) -> ColumnElement[bool]:
        return column.between(self.start, self.end)


def month_of(session: Session, column) -> ColumnElement[str]:
    """``YYYY-MM`` of a date column, in SQL, on SQLite or Postgres.

    The format is a literal in the SQL text, not a bound parameter, so the
    same expression in SELECT and GROUP BY is the same expression to Postgres.
    """
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(column, literal_column("'YYYY-MM'"), type_=String)
    return func.strftime(literal_column("'%Y-%m'"), column, type_=String)


def _amount(value: Decimal | None, currency: str) -> Decimal:
    """A summed Fixed4 (or NULL for no rows) as an amount with the currency's decimals."""
    return money.round_money(value if value is not None else ZERO, currency)


def _sum(expression) -> ColumnElement[Decimal]:
    """SUM of a money expression, converted back to Decimal by Fixed4 (CASE included)."""
    return type_coerce(func.coalesce(func.sum(type_coerce(expression, Fixed4())), literal(ZERO, Fixed4())), Fixed4())


def _count(expression) -> ColumnElement[int]:
    """SUM of a rollup's count column (0 for no rows)."""
    return func.coalesce(func.sum(expression), 0)


def _balance():
    return Invoice.balance_due


def _rolled_up_balance():
    return InvoiceRollup.total - InvoiceRollup.amount_paid - InvoiceRollup.amount_credited


# ---------------------------------------------------------------- currencies


def currencies_in_use(session: Session) -> list[str]:
    """Every currency an invoice, a live payment or an approved expense is in, sorted (mostly from the rollups).

    A payment is always in its invoice's currency and invoices are never
    deleted once paid against, so voided payments add no currency of their own.
    """
    found = sql_union_all(
        select(InvoiceRollup.currency.label("currency")).where(InvoiceRollup.invoice_count > 0).distinct(),
        # Drafts are not in the rollups; the status index finds their few currencies.
        select(Invoice.currency.label("currency")).where(Invoice.is_draft).distinct(),
        select(PaymentRollup.currency.label("currency")).where(PaymentRollup.payment_count > 0).distinct(),
        select(Expense.currency.label("currency")).where(Expense.is_approved).distinct(),
    ).subquery()
    return list(session.scalars(select(distinct(found.c.currency)).order_by(found.c.currency)))


# ---------------------------------------------------------------- dashboard headline


@dataclass(frozen=True)
class Headline:
    currency: str
    outstanding: Decimal
    outstanding_count: int
    overdue: Decimal
    overdue_count: int
    collected_this_month: Decimal
    collected_count: int
    expenses_this_month: Decimal
    expenses_count: int


def headline(session: Session, currency: str, *, today: dt.date) -> Headline:
    """What is owed, what is late, what came in and what went out this month."""
    live = and_(InvoiceRollup.currency == currency, InvoiceRollup.status.in_(LIVE_INVOICE_STATES))
    late = InvoiceRollup.overdue_clause(today)
    owed = session.execute(
        select(
            _sum(_rolled_up_balance()),
            _count(InvoiceRollup.invoice_count),
            _sum(case((late, _rolled_up_balance()), else_=literal(ZERO, Fixed4()))),
            _count(case((late, InvoiceRollup.invoice_count), else_=0)),
        ).where(live)
    ).one()
    month = Period.month_of(today)
    collected = session.execute(
        select(_sum(PaymentRollup.amount), _count(PaymentRollup.payment_count)).where(
            PaymentRollup.currency == currency, month.contains(PaymentRollup.paid_on)
        )
    ).one()
    spent = session.execute(
        select(_sum(Expense.amount), func.count()).where(
            Expense.currency == currency, Expense.is_approved, month.contains(Expense.expense_date)
        )
    ).one()
    return Headline(
        currency=currency,
        outstanding=_amount(owed[0], currency),
        outstanding_count=owed[1],
        overdue=_amount(owed[2], currency),
        overdue_count=owed[3],
        collected_this_month=_amount(collected[0], currency),
        collected_count=collected[1],
        expenses_this_month=_amount(spent[0], currency),
        expenses_count=spent[1],
    )


# ---------------------------------------------------------------- income statement


@dataclass(frozen=True)
class MonthRow:
    month: str  # YYYY-MM
    collected: Decimal
    expenses: Decimal
    refunded: Decimal = ZERO  # client credit paid back (SPEC §11): money out
    invoiced: Decimal = ZERO  # issued invoices' totals, by issue date
    credited: Decimal = ZERO  # credit notes' totals, by their own issue date (SPEC §11)

    @property
    def net(self) -> Decimal:
        return self.collected - self.refunded - self.expenses

    @property
    def net_invoiced(self) -> Decimal:
        return self.invoiced - self.credited

    @property
    def label(self) -> str:
        return month_label(self.month)


@dataclass(frozen=True)
class IncomeStatement:
    currency: str
    period: Period
    months: list[MonthRow]
    collected: Decimal
    expenses: Decimal
    refunded: Decimal = ZERO
    invoiced: Decimal = ZERO
    credited: Decimal = ZERO

    @property
    def net(self) -> Decimal:
        """Cash: payments received less refunds and approved expenses."""
        return self.collected - self.refunded - self.expenses

    @property
    def net_invoiced(self) -> Decimal:
        """Accrual: invoiced less credit notes (SPEC §11: a credit note lowers income in its own period)."""
        return self.invoiced - self.credited


def _by_month(session: Session, date_column, amount, *where) -> dict[str, Decimal]:
    month = month_of(session, date_column)
    return dict(session.execute(select(month, _sum(amount)).where(*where).group_by(month)).all())


def income_statement(session: Session, currency: str, period: Period) -> IncomeStatement:
    """Payments received, approved expenses and the difference, month by month (every month shown)."""
    paid_month = month_of(session, PaymentRollup.paid_on)
    collected = dict(
        session.execute(
            select(paid_month, _sum(PaymentRollup.amount))
            .where(PaymentRollup.currency == currency, period.contains(PaymentRollup.paid_on))
            .group_by(paid_month)
        ).all()
    )
    spent_month = month_of(session, Expense.expense_date)
    spent = dict(
        session.execute(
            select(spent_month, _sum(Expense.amount))
            .where(Expense.currency == currency, Expense.is_approved, period.contains(Expense.expense_date))
            .group_by(spent_month)
        ).all()
    )
    refunded = _by_month(
        session, Refund.refunded_on, Refund.amount, Refund.currency == currency, period.contains(Refund.refunded_on)
    )
    if period.is_whole_months:  # the dashboard's twelve months: the running totals (their cost stays flat)
        invoiced = dict(
            session.execute(
                select(InvoiceRollup.issue_month, _sum(InvoiceRollup.total))
                .where(
                    InvoiceRollup.currency == currency,
                    InvoiceRollup.status.in_(ISSUED_STATES),
                    InvoiceRollup.issue_month.in_(period.month_keys()),
                )
                .group_by(InvoiceRollup.issue_month)
            ).all()
        )
    else:  # a report's own dates may cut a month: the invoices themselves
        invoiced = _by_month(
            session,
            Invoice.issue_date,
            Invoice.total,
            Invoice.currency == currency,
            Invoice.status.in_(ISSUED_STATES),
            period.contains(Invoice.issue_date),
        )
    credited = _by_month(
        session,
        CreditNote.issue_date,
        CreditNote.total,
        CreditNote.currency == currency,
        period.contains(CreditNote.issue_date),
    )
    months = [
        MonthRow(
            key,
            _amount(collected.get(key), currency),
            _amount(spent.get(key), currency),
            _amount(refunded.get(key), currency),
            _amount(invoiced.get(key), currency),
            _amount(credited.get(key), currency),
        )
        for key in period.month_keys()
    ]
    return IncomeStatement(
        currency=currency,
        period=period,
        months=months,
        collected=_amount(sum(collected.values(), ZERO), currency),
        expenses=_amount(sum(spent.values(), ZERO), currency),
        refunded=_amount(sum(refunded.values(), ZERO), currency),
        invoiced=_amount(sum(invoiced.values(), ZERO), currency),
        credited=_amount(sum(credited.values(), ZERO), currency),
    )


# ---------------------------------------------------------------- receivables aging

AGING_BUCKETS = (
    ("current", "Current"),
    ("1-30", "1–30 days"),
    ("31-60", "31–60 days"),
    ("61-90", "61–90 days"),
    ("over-90", "Over 90 days"),
)


def _bucket_conditions(today: dt.date, due_date=Invoice.due_date) -> list[ColumnElement[bool]]:
    """One condition per bucket on ``due_date``; days overdue = today - due_date.

    Thresholds are dates worked out here, so the database compares an indexed
    date column and needs no date arithmetic of its own (which differs by dialect).
    """
    day = dt.timedelta(days=1)
    return [
        due_date >= today,
        and_(due_date < today, due_date >= today - 30 * day),
        and_(due_date < today - 30 * day, due_date >= today - 60 * day),
        and_(due_date < today - 60 * day, due_date >= today - 90 * day),
        due_date < today - 90 * day,
    ]


def _aging_columns(today: dt.date) -> list:
    columns = []
    for condition in _bucket_conditions(today):
        columns.append(_sum(case((condition, _balance()), else_=literal(ZERO, Fixed4()))))
        columns.append(func.count(case((condition, 1))))
    return columns


@dataclass(frozen=True)
class Bucket:
    key: str
    label: str
    amount: Decimal
    count: int


@dataclass(frozen=True)
class Aging:
    currency: str
    as_of: dt.date
    buckets: list[Bucket]

    @property
    def total(self) -> Decimal:
        return sum((b.amount for b in self.buckets), ZERO)

    @property
    def count(self) -> int:
        return sum(b.count for b in self.buckets)


def _buckets(values: Sequence, currency: str) -> list[Bucket]:
    return [
        Bucket(key, label, _amount(values[2 * i], currency), values[2 * i + 1])
        for i, (key, label) in enumerate(AGING_BUCKETS)
    ]


def aging(session: Session, currency: str, *, today: dt.date) -> Aging:
    """Balances of open and partly paid invoices by days past due, as of ``today``."""
    columns = []
    for condition in _bucket_conditions(today, InvoiceRollup.due_date):
        columns.append(_sum(case((condition, _rolled_up_balance()), else_=literal(ZERO, Fixed4()))))
        columns.append(_count(case((condition, InvoiceRollup.invoice_count), else_=0)))
    values = session.execute(
        select(*columns).where(InvoiceRollup.currency == currency, InvoiceRollup.status.in_(LIVE_INVOICE_STATES))
    ).one()
    return Aging(currency, today, _buckets(values, currency))


@dataclass(frozen=True)
class ClientAging:
    client_id: int
    client_name: str
    buckets: list[Bucket]

    @property
    def total(self) -> Decimal:
        return sum((b.amount for b in self.buckets), ZERO)

    @property
    def count(self) -> int:
        return sum(b.count for b in self.buckets)


def aging_by_client(session: Session, currency: str, *, today: dt.date, limit: int | None = None) -> list[ClientAging]:
    """:func:`aging` per client, the largest balance first."""
    total = _sum(_balance())
    query = (
        select(Client.id, Client.name, *_aging_columns(today))
        .join(Client, Client.id == Invoice.client_id)
        .where(Invoice.currency == currency, Invoice.status.in_(LIVE_INVOICE_STATES))
        .group_by(Client.id, Client.name)
        .order_by(total.desc(), Client.name, Client.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return [ClientAging(row[0], row[1], _buckets(row[2:], currency)) for row in session.execute(query)]


def count_clients_owing(session: Session, currency: str) -> int:
    return session.scalar(
        select(func.count(distinct(Invoice.client_id))).where(
            Invoice.currency == currency, Invoice.status.in_(LIVE_INVOICE_STATES)
        )
    )


# ---------------------------------------------------------------- invoices by status


@dataclass(frozen=True)
class StatusRow:
    status: str
    count: int
    total: Decimal


def invoices_by_status(session: Session, currency: str) -> list[StatusRow]:
    """How many invoices are in each state, and their totals (every state listed)."""
    found = {
        status: (count, total)
        for status, count, total in session.execute(
            select(InvoiceRollup.status, _count(InvoiceRollup.invoice_count), _sum(InvoiceRollup.total))
            .where(InvoiceRollup.currency == currency)
            .group_by(InvoiceRollup.status)
        )
    }
    # Drafts are not in the rollups (see shared.models.rollups); they are few, and indexed by status.
    found[InvoiceStatus.DRAFT] = session.execute(
        select(func.count(), _sum(Invoice.total)).where(Invoice.is_draft, Invoice.currency == currency)
    ).one()
    return [
        StatusRow(status, found.get(status, (0, ZERO))[0], _amount(found.get(status, (0, ZERO))[1], currency))
        for status in INVOICE_STATES
    ]


# ---------------------------------------------------------------- tax by rate


@dataclass(frozen=True)
class TaxRow:
    rate: Decimal  # percent
    invoices: int
    taxable: Decimal
    tax: Decimal


@dataclass(frozen=True)
class TaxReport:
    currency: str
    period: Period
    rows: list[TaxRow]
    # Invoices' tax_total minus their lines' tax: non-zero only with document tax rounding.
    rounding: Decimal
    invoice_tax: Decimal  # the sum of the invoices' tax_total
    # SPEC §11: tax given back by credit notes issued in the period, per rate (``invoices`` counts credit notes).
    credited_rows: list[TaxRow] = field(default_factory=list)
    credited_rounding: Decimal = ZERO  # as ``rounding``, for credit notes with document rounding
    credited_tax: Decimal = ZERO  # the sum of the credit notes' tax_total

    @property
    def taxable(self) -> Decimal:
        return sum((r.taxable for r in self.rows), ZERO)

    @property
    def credited_taxable(self) -> Decimal:
        return sum((r.taxable for r in self.credited_rows), ZERO)

    @property
    def net_tax(self) -> Decimal:
        """Tax invoiced less tax credited in the period: what is owed to the tax authority."""
        return self.invoice_tax - self.credited_tax


def tax_by_rate(session: Session, currency: str, period: Period) -> TaxReport:
    """Tax invoiced per rate on issued, not voided invoices dated in ``period`` (by issue date)."""
    issued = and_(Invoice.currency == currency, Invoice.status.in_(ISSUED_STATES), period.contains(Invoice.issue_date))
    rows = [
        TaxRow(rate, invoices, _amount(taxable, currency), _amount(tax, currency))
        for rate, invoices, taxable, tax in session.execute(
            select(
                InvoiceLine.tax_rate,
                func.count(distinct(InvoiceLine.invoice_id)),
                _sum(InvoiceLine.amount - InvoiceLine.discount),
                _sum(InvoiceLine.tax),
            )
            .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
            .where(issued)
            .group_by(InvoiceLine.tax_rate)
            .order_by(InvoiceLine.tax_rate)
        )
    ]
    invoice_tax = _amount(session.scalar(select(_sum(Invoice.tax_total)).where(issued)), currency)
    line_tax = sum((r.tax for r in rows), ZERO)
    noted = and_(CreditNote.currency == currency, period.contains(CreditNote.issue_date))
    credited_rows = [
        TaxRow(rate, notes, _amount(taxable, currency), _amount(tax, currency))
        for rate, notes, taxable, tax in session.execute(
            select(
                CreditNoteItem.tax_rate,
                func.count(distinct(CreditNoteItem.credit_note_id)),
                _sum(CreditNoteItem.amount),
                _sum(CreditNoteItem.tax),
            )
            .join(CreditNote, CreditNote.id == CreditNoteItem.credit_note_id)
            .where(noted)
            .group_by(CreditNoteItem.tax_rate)
            .order_by(CreditNoteItem.tax_rate)
        )
    ]
    credited_tax = _amount(session.scalar(select(_sum(CreditNote.tax_total)).where(noted)), currency)
    return TaxReport(
        currency,
        period,
        rows,
        invoice_tax - line_tax,
        invoice_tax,
        credited_rows=credited_rows,
        credited_rounding=credited_tax - sum((r.tax for r in credited_rows), ZERO),
        credited_tax=credited_tax,
    )


# ---------------------------------------------------------------- payments by method, expenses by category


@dataclass(frozen=True)
class GroupRow:
    key: str
    count: int
    amount: Decimal


def payments_by_method(session: Session, currency: str, period: Period) -> list[GroupRow]:
    """Live payments received in ``period`` per method, in the order of SPEC §5.3 (only methods used)."""
    found = {
        method: GroupRow(method, count, _amount(amount, currency))
        for method, count, amount in session.execute(
            select(Payment.method, func.count(), _sum(Payment.amount))
            .where(Payment.currency == currency, Payment.voided_at.is_(None), period.contains(Payment.paid_on))
            .group_by(Payment.method)
        )
    }
    return [found[m] for m in PAYMENT_METHODS if m in found]


def expenses_by_category(session: Session, currency: str, period: Period) -> list[GroupRow]:
    """Approved expenses dated in ``period`` per category, the largest first."""
    total = _sum(Expense.amount)
    return [
        GroupRow(category, count, _amount(amount, currency))
        for category, count, amount in session.execute(
            select(Expense.category, func.count(), total)
            .where(Expense.currency == currency, Expense.is_approved, period.contains(Expense.expense_date))
            .group_by(Expense.category)
            .order_by(total.desc(), Expense.category)
        )
    ]


def group_total(rows: Sequence[GroupRow]) -> tuple[int, Decimal]:
    return sum(r.count for r in rows), sum((r.amount for r in rows), ZERO)


# ---------------------------------------------------------------- client statement


@dataclass(frozen=True)
class StatementEntry:
    date: dt.date
    kind: str  # invoice | payment | credit_note | refund
    reference: str  # invoice, receipt or credit-note number; "Refund" for a refund
    invoice_id: int | None  # None for a refund (it pays client credit back, not an invoice)
    payment_id: int | None
    invoice_number: str
    due_date: dt.date | None
    method: str | None
    charge: Decimal | None
    payment: Decimal | None
    balance: Decimal


@dataclass(frozen=True)
class StatementSection:
    currency: str
    entries: list[StatementEntry]
    invoiced: Decimal
    paid: Decimal
    balance: Decimal
    overdue: Decimal


@dataclass(frozen=True)
class Statement:
    client: Client
    as_of: dt.date
    sections: list[StatementSection] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.sections

    @property
    def has_amount_due(self) -> bool:
        """Whether the client owes anything in any currency (only then does a statement say how to pay)."""
        return any(section.balance > 0 for section in self.sections)


def client_statement(session: Session, client_id: int, *, as_of: dt.date) -> Statement:
    """Every issued invoice and payment of one client up to ``as_of``, with a running balance per currency.

    SPEC §11: a credit note is a credit for its whole total and a refund a
    charge, so the closing balance is what the client owes less the client's
    credit (below 0 when the client holds credit); applying credit moves
    nothing between the two and shows no line.

    Voided invoices and voided payments are left out: each cancels itself, and
    the statement's closing balance then equals what the client owes. On one
    day an invoice comes before a payment. The running balance is a window
    sum in the database.
    """
    client = session.get(Client, client_id)
    if client is None:
        raise NotFound(f"client {client_id} does not exist")
    zero = literal(ZERO, Fixed4())
    charges = select(
        Invoice.currency.label("currency"),
        Invoice.issue_date.label("on"),
        literal(0, Integer).label("seq"),
        Invoice.id.label("doc_id"),
        literal("invoice", String).label("kind"),
        Invoice.number.label("reference"),
        Invoice.id.label("invoice_id"),
        cast(null(), Integer).label("payment_id"),
        Invoice.number.label("invoice_number"),
        Invoice.due_date.label("due_date"),
        cast(null(), String).label("method"),
        Invoice.total.label("charge"),
        zero.label("credit"),
    ).where(Invoice.client_id == client_id, Invoice.status.in_(ISSUED_STATES), Invoice.issue_date <= as_of)
    credit_notes = (
        select(
            CreditNote.currency.label("currency"),
            CreditNote.issue_date.label("on"),
            literal(1, Integer).label("seq"),
            CreditNote.id.label("doc_id"),
            literal("credit_note", String).label("kind"),
            CreditNote.number.label("reference"),
            Invoice.id.label("invoice_id"),
            cast(null(), Integer).label("payment_id"),
            Invoice.number.label("invoice_number"),
            cast(null(), Date).label("due_date"),
            cast(null(), String).label("method"),
            zero.label("charge"),
            CreditNote.total.label("credit"),
        )
        .join(Invoice, Invoice.id == CreditNote.invoice_id)
        .where(CreditNote.client_id == client_id, CreditNote.issue_date <= as_of)
    )
    refunds = select(
        Refund.currency.label("currency"),
        Refund.refunded_on.label("on"),
        literal(3, Integer).label("seq"),
        Refund.id.label("doc_id"),
        literal("refund", String).label("kind"),
        literal("Refund", String).label("reference"),
        cast(null(), Integer).label("invoice_id"),
        cast(null(), Integer).label("payment_id"),
        cast(null(), String).label("invoice_number"),
        cast(null(), Date).label("due_date"),
        Refund.method.label("method"),
        Refund.amount.label("charge"),
        zero.label("credit"),
    ).where(Refund.client_id == client_id, Refund.refunded_on <= as_of)
    credits = (
        select(
            Payment.currency.label("currency"),
            Payment.paid_on.label("on"),
            literal(2, Integer).label("seq"),
            Payment.id.label("doc_id"),
            literal("payment", String).label("kind"),
            Payment.receipt_number.label("reference"),
            Invoice.id.label("invoice_id"),
            Payment.id.label("payment_id"),
            Invoice.number.label("invoice_number"),
            cast(null(), Date).label("due_date"),
            Payment.method.label("method"),
            zero.label("charge"),
            Payment.amount.label("credit"),
        )
        .join(Invoice, Invoice.id == Payment.invoice_id)
        .where(
            Invoice.client_id == client_id,
            Invoice.status.in_(ISSUED_STATES),
            Payment.voided_at.is_(None),
            Payment.paid_on <= as_of,
        )
    )
    entries = sql_union_all(charges, credit_notes, credits, refunds).subquery()
    order = (entries.c.on, entries.c.seq, entries.c.doc_id)
    running = func.sum(entries.c.charge - entries.c.credit).over(
        partition_by=entries.c.currency, order_by=order, rows=(None, 0)
    )
    rows = session.execute(
        select(entries, type_coerce(running, Fixed4()).label("balance")).order_by(entries.c.currency, *order)
    ).all()
    totals = {
        currency: (invoiced, paid)
        for currency, invoiced, paid in session.execute(
            select(entries.c.currency, _sum(entries.c.charge), _sum(entries.c.credit)).group_by(entries.c.currency)
        )
    }
    overdue = dict(
        session.execute(
            select(Invoice.currency, _sum(_balance()))
            .where(
                Invoice.client_id == client_id,
                Invoice.issue_date <= as_of,
                Invoice.overdue_clause(as_of),
            )
            .group_by(Invoice.currency)
        ).all()
    )
    by_currency: dict[str, list[StatementEntry]] = {}
    for row in rows:
        currency = row.currency
        by_currency.setdefault(currency, []).append(
            StatementEntry(
                date=row.on,
                kind=row.kind,
                reference=row.reference,
                invoice_id=row.invoice_id,
                payment_id=row.payment_id,
                invoice_number=row.invoice_number,
                due_date=row.due_date,
                method=row.method,
                charge=_amount(row.charge, currency) if row.kind in ("invoice", "refund") else None,
                payment=_amount(row.credit, currency) if row.kind in ("payment", "credit_note") else None,
                balance=_amount(row.balance, currency),
            )
        )
    sections = [
        StatementSection(
            currency=currency,
            entries=entries_,
            invoiced=_amount(totals[currency][0], currency),
            paid=_amount(totals[currency][1], currency),
            balance=entries_[-1].balance,
            overdue=_amount(overdue.get(currency), currency),
        )
        for currency, entries_ in by_currency.items()
    ]
    return Statement(client=client, as_of=as_of, sections=sections)
