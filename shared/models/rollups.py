"""Running totals ("rollups") of invoices and payments, kept exact in the transaction that changes them.

The dashboard and the summary reports (``shared.reports``) read two small
tables instead of aggregating every invoice and payment, so their cost
follows the number of currencies, states and due dates, not of invoices:

- ``invoice_rollups`` (currency, status, due date, issue month) -> count, sum of ``total``,
  sum of ``amount_paid``, sum of ``amount_credited`` (SPEC §11), for every invoice but drafts. Only live invoices
  (open, partly paid) keep their real due date, which aging and "overdue"
  need; paid and void invoices share the one date :data:`SETTLED_DUE_DATE`.
  The issue month (``YYYY-MM``) gives the "invoiced" column of the income
  statement, month by month; an issued invoice's issue date never changes.
  Drafts are left out on purpose: they are few (the reports count them
  directly), and a draft row would be one hot row that creating an invoice
  locks *before* taking its number while issuing a draft locks it *after*,
  two orders that could deadlock.
- ``payment_rollups`` (currency, day received) -> count and sum of live
  (not voided) payments.

**When deltas are applied.** A session listener runs after every flush
(``after_flush``): it reads the attribute history of the ``Invoice`` and
``Payment`` objects the flush wrote (new, changed, deleted) and nets the
changes per rollup key across the whole transaction. Just before the
transaction commits (``shared.transactions.before_trailing_writes``) the net
deltas are written once: the rows that only grow as one multi-row upsert
(``INSERT ... ON CONFLICT DO UPDATE``) per table, sent with the commit's last
round trip; a row that goes down as a plain ``UPDATE`` at once. The rollups
therefore change in the same transaction as the rows they summarize, and a
rollback discards both. Inside a ``begin_nested`` savepoint the deltas of a
flush are applied at once instead, so the savepoint's rollback takes them
away with its rows.

**Locks.** An upsert locks its rollup row until the transaction ends. The
keys of a transaction are written together at its end, each table's rows
sorted by key in one statement, so two transactions take rollup rows in
the same order. Should two transactions ever still cross, Postgres detects
the deadlock and fails one, which rolls back whole, rollups included.

**Writes that bypass the unit of work** (bulk ``INSERT``s, ``COPY``) fire no
flush events: they call :func:`count_inserted` with the rows they wrote (in
the same transaction), or :func:`rebuild_rollups` afterwards.
:func:`rollup_differences` compares the tables with a fresh ``GROUP BY``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ColumnElement,
    Date,
    String,
    bindparam,
    event,
    func,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from shared.db import db, insert_adding
from shared.models.enums import LIVE_INVOICE_STATES, InvoiceStatus, one_of, sql_literal
from shared.models.invoices import Invoice, overdue_condition
from shared.models.payments import Payment
from shared.transactions import at_commit, before_trailing_writes, forget_memo, transaction_memo

# Paid and void invoices are never reported by due date, so their rows all
# carry this one date: the table stays a row per currency and state for them.
# Drafts are not counted here at all (shared.models.rollups says why).
SETTLED_DUE_DATE = dt.date(1, 1, 1)


class InvoiceRollup(db.Model):
    """Invoices but drafts per (currency, status, due date, issue month): how many, their totals and amounts paid.

    ``due_date`` is the real due date only for live (open, partly paid)
    invoices; for the other states it is :data:`SETTLED_DUE_DATE`. Rows whose
    count has fallen to zero are kept (with zero sums) rather than deleted.
    """

    __tablename__ = "invoice_rollups"
    __table_args__ = (
        CheckConstraint("invoice_count >= 0 AND total >= 0 AND amount_paid >= 0", name="not_negative"),
        CheckConstraint("amount_credited >= 0", name="amount_credited_not_negative"),
    )

    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    due_date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    issue_month: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM of the issue date
    invoice_count: Mapped[int]
    total: Mapped[Decimal]
    amount_paid: Mapped[Decimal]
    amount_credited: Mapped[Decimal] = mapped_column(default=Decimal(0), server_default="0")

    @classmethod
    def overdue_clause(cls, today: dt.date) -> ColumnElement[bool]:
        """The rows of overdue invoices: ``Invoice.overdue_clause`` asked of these running totals.

        A row adds up invoices of one state and due date, so it is overdue
        exactly when they are (a live invoice always owes something).
        """
        return overdue_condition(
            today,
            status=cls.status,
            due_date=cls.due_date,
            total=cls.total,
            amount_paid=cls.amount_paid,
            amount_credited=cls.amount_credited,
        )

    def __repr__(self) -> str:
        return f"<InvoiceRollup {self.currency} {self.status} {self.due_date} {self.issue_month} x{self.invoice_count}>"


class PaymentRollup(db.Model):
    """Live (not voided) payments per (currency, day received): how many and how much."""

    __tablename__ = "payment_rollups"
    __table_args__ = (CheckConstraint("payment_count >= 0 AND amount >= 0", name="not_negative"),)

    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    paid_on: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    payment_count: Mapped[int]
    amount: Mapped[Decimal]

    def __repr__(self) -> str:
        return f"<PaymentRollup {self.currency} {self.paid_on} x{self.payment_count}>"


log = logging.getLogger("shared.models.rollups")

INVOICE_FIELDS = ("currency", "status", "due_date", "issue_date", "total", "amount_paid", "amount_credited")
INVOICE_KEY = ("currency", "status", "due_date", "issue_month")
PAYMENT_FIELDS = ("currency", "paid_on", "amount", "voided_at")
ZERO = Decimal(0)

InvoiceKey = tuple[str, str, dt.date, str]
PaymentKey = tuple[str, dt.date]


def invoice_key(currency: str, status: str, due_date: dt.date, issue_date: dt.date) -> InvoiceKey | None:
    """The rollup row an invoice counts in (None for a draft): only live invoices keep their due date."""
    if status == InvoiceStatus.DRAFT:
        return None
    return (currency, status, due_date if status in LIVE_INVOICE_STATES else SETTLED_DUE_DATE, f"{issue_date:%Y-%m}")


@dataclass
class Deltas:
    """Net changes per rollup key: invoices (count, total, paid, credited), payments (count, amount)."""

    invoices: dict[InvoiceKey, list] = field(default_factory=dict)
    payments: dict[PaymentKey, list] = field(default_factory=dict)

    def add_invoice(self, values: Mapping[str, Any], sign: int) -> None:
        key = invoice_key(values["currency"], values["status"], values["due_date"], values["issue_date"])
        if key is None:
            return
        row = self.invoices.setdefault(key, [0, ZERO, ZERO, ZERO])
        row[0] += sign
        row[1] += sign * Decimal(values["total"])
        row[2] += sign * Decimal(values["amount_paid"])
        row[3] += sign * Decimal(values.get("amount_credited") or 0)

    def merge(self, other: Deltas) -> None:
        for key, figures in other.invoices.items():
            row = self.invoices.setdefault(key, [0, ZERO, ZERO, ZERO])
            for n, value in enumerate(figures):
                row[n] += value
        for key, figures in other.payments.items():
            row = self.payments.setdefault(key, [0, ZERO])
            for n, value in enumerate(figures):
                row[n] += value

    def add_payment(self, values: Mapping[str, Any], sign: int) -> None:
        if values["voided_at"] is not None:
            return
        row = self.payments.setdefault((values["currency"], values["paid_on"]), [0, ZERO])
        row[0] += sign
        row[1] += sign * Decimal(values["amount"])


# ---------------------------------------------------------------- applying deltas


def _insert(connection):
    return postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert


def _apply_one(session: Session, model, key_values: dict, figures: dict) -> None:
    """Add ``figures`` to one rollup row: an upsert when nothing goes down, else an UPDATE of the row.

    The split is not cosmetic: Postgres and SQLite check CHECK constraints on
    the proposed row of ``INSERT ... ON CONFLICT`` before looking for the
    conflict, so a negative figure there would fail even though the row
    exists. A figure can only go down if something counted in that row before.
    """
    table = model.__table__
    connection = session.connection()
    if all(value >= 0 for value in figures.values()):
        connection.execute(_upsert(model, [{**key_values, **figures}], tuple(key_values), tuple(figures)))
        return
    where = [table.c[name] == value for name, value in key_values.items()]
    stays_positive = [table.c[name] + value >= 0 for name, value in figures.items()]
    updated = connection.execute(
        update(table)
        .where(*where, *stays_positive)
        .values({name: table.c[name] + value for name, value in figures.items()})
    )
    if updated.rowcount != 1:
        # Out of step (a row written by a process without this listener, a hand-made fix):
        # never let a running total stop a payment; count this one key again instead.
        _recount(session, model, key_values)


def _recount(session: Session, model, key_values: dict) -> None:
    """Set one rollup row to what its invoices or payments say now, in this transaction."""
    if model is InvoiceRollup:
        where = [Invoice.currency == key_values["currency"], Invoice.status == key_values["status"]]
        if key_values["status"] in LIVE_INVOICE_STATES:
            where.append(Invoice.due_date == key_values["due_date"])
        first = dt.date.fromisoformat(key_values["issue_month"] + "-01")
        following = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
        where += [Invoice.issue_date >= first, Invoice.issue_date < following]
        count, total, paid, credited = session.execute(
            select(
                func.count(),
                func.sum(Invoice.total, type_=Invoice.total.type),
                func.sum(Invoice.amount_paid, type_=Invoice.amount_paid.type),
                func.sum(Invoice.amount_credited, type_=Invoice.amount_credited.type),
            ).where(*where)
        ).one()
        figures = {
            "invoice_count": count,
            "total": total or ZERO,
            "amount_paid": paid or ZERO,
            "amount_credited": credited or ZERO,
        }
    else:
        count, amount = session.execute(
            select(func.count(), func.sum(Payment.amount, type_=Payment.amount.type)).where(
                Payment.currency == key_values["currency"],
                Payment.paid_on == key_values["paid_on"],
                Payment.voided_at.is_(None),
            )
        ).one()
        figures = {"payment_count": count, "amount": amount or ZERO}
    log.warning("%s %s was out of step; counted again: %s", model.__tablename__, key_values, figures)
    table = model.__table__
    statement = _insert(session.connection())(table).values(**key_values, **figures)
    session.connection().execute(
        statement.on_conflict_do_update(
            index_elements=list(key_values), set_={name: statement.excluded[name] for name in figures}
        )
    )


def apply_deltas(session: Session, deltas: Deltas, *, trailing: bool = False) -> None:
    """Write ``deltas`` to the rollup tables, invoice rows then payment rows, each sorted by key.

    With ``trailing``, the rows that only grow go out as one multi-row upsert
    per table with the commit's last round trip (``shared.transactions.at_commit``);
    a row that goes down is updated at once, as it may need counting again.
    """
    tables = (
        (
            InvoiceRollup,
            INVOICE_KEY,
            ("invoice_count", "total", "amount_paid", "amount_credited"),
            deltas.invoices,
        ),
        (PaymentRollup, ("currency", "paid_on"), ("payment_count", "amount"), deltas.payments),
    )
    for model, key_names, figure_names, changes in tables:
        growing = []
        for key, values in sorted(changes.items()):
            if not any(values):
                continue
            key_values, figures = dict(zip(key_names, key, strict=True)), dict(zip(figure_names, values, strict=True))
            if trailing and all(value >= 0 for value in values):
                growing.append({**key_values, **figures})
            else:
                _apply_one(session, model, key_values, figures)
        if len(growing) == 1:  # most transactions: one invoice or one payment
            at_commit(
                session, _upsert_one(model, key_names, figure_names), {f"row_{k}": v for k, v in growing[0].items()}
            )
        elif growing:
            at_commit(session, _upsert(model, growing, key_names, figure_names))


def _upsert(model, rows: list[dict], key_names: tuple[str, ...], figure_names: tuple[str, ...]):
    """Add ``rows``' figures to their rollup rows, creating the rows that are missing (all figures >= 0)."""
    return insert_adding(model.__table__, rows, keys=key_names, figures=figure_names)


_UPSERT_ONE: dict[Any, Any] = {}


def _upsert_one(model, key_names: tuple[str, ...], figure_names: tuple[str, ...]):
    """:func:`_upsert` of one row given as parameters ``row_<column>``, built once per table."""
    statement = _UPSERT_ONE.get(model)
    if statement is None:
        row = {
            name: bindparam(f"row_{name}", type_=model.__table__.c[name].type) for name in (*key_names, *figure_names)
        }
        statement = _UPSERT_ONE[model] = _upsert(model, [row], key_names, figure_names)
    return statement


def count_inserted(
    session: Session, *, invoices: Iterable[Mapping[str, Any]] = (), payments: Iterable[Mapping[str, Any]] = ()
) -> None:
    """Add rows written by a bulk INSERT (which fires no flush events) to the rollups, in its transaction.

    Invoice rows need ``currency, status, due_date, issue_date, total, amount_paid`` (``amount_credited`` 0 if
    left out);
    payment rows ``currency, paid_on, amount, voided_at``.
    """
    deltas = Deltas()
    for row in invoices:
        deltas.add_invoice(row, +1)
    for row in payments:
        deltas.add_payment(row, +1)
    apply_deltas(session, deltas)


# ---------------------------------------------------------------- the flush listener


def _now(obj: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in names}


def _before(obj: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """Values as the database had them before this flush (history is still pre-flush in after_flush)."""
    state = inspect(obj)
    values = {}
    for name in names:
        history = state.attrs[name].history
        if history.deleted:
            values[name] = history.deleted[0]
        elif history.added:
            # active_history below loads the old value on every set, so this means a bug, not a guess.
            raise RuntimeError(f"{obj!r}.{name} changed without its previous value; rollups cannot follow")
        else:
            values[name] = getattr(obj, name)
    return values


def _changed(obj: Any, names: tuple[str, ...]) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


@event.listens_for(Session, "before_flush")
def _load_what_deletes_take_away(session: Session, _flush_context, _instances) -> None:
    # After the flush the row is gone: an expired attribute could no longer be loaded.
    for obj in session.deleted:
        if isinstance(obj, Invoice):
            _now(obj, INVOICE_FIELDS)
        elif isinstance(obj, Payment):
            _now(obj, PAYMENT_FIELDS)


def _add_new(deltas: Deltas, objects: Iterable[Any]) -> None:
    for obj in objects:
        if isinstance(obj, Invoice):
            deltas.add_invoice(_now(obj, INVOICE_FIELDS), +1)
        elif isinstance(obj, Payment):
            deltas.add_payment(_now(obj, PAYMENT_FIELDS), +1)


def count_new_objects(session: Session, objects: Iterable[Any]) -> None:
    """Count objects inserted past the unit of work (``shared.models.persist.insert_new``) as a flush would."""
    deltas = Deltas()
    _add_new(deltas, objects)
    _keep(session, deltas)


@event.listens_for(Session, "after_flush")
def _count_flushed_changes(session: Session, _flush_context) -> None:
    deltas = Deltas()
    _add_new(deltas, session.new)
    for obj in session.dirty:
        if isinstance(obj, Invoice) and _changed(obj, INVOICE_FIELDS):
            deltas.add_invoice(_before(obj, INVOICE_FIELDS), -1)
            deltas.add_invoice(_now(obj, INVOICE_FIELDS), +1)
        elif isinstance(obj, Payment) and _changed(obj, PAYMENT_FIELDS):
            deltas.add_payment(_before(obj, PAYMENT_FIELDS), -1)
            deltas.add_payment(_now(obj, PAYMENT_FIELDS), +1)
    for obj in session.deleted:
        if isinstance(obj, Invoice):
            deltas.add_invoice(_before(obj, INVOICE_FIELDS), -1)
        elif isinstance(obj, Payment):
            deltas.add_payment(_before(obj, PAYMENT_FIELDS), -1)
    _keep(session, deltas)


def _keep(session: Session, deltas: Deltas) -> None:
    """Net ``deltas`` into the transaction's pending ones (written at commit); in a savepoint, write them now."""
    if not (deltas.invoices or deltas.payments):
        return
    if session.in_nested_transaction():
        apply_deltas(session, deltas)  # a savepoint's rollback must take its deltas with it
        return
    # Kept for this transaction only: a rollback forgets it with the transaction (shared.transactions).
    transaction_memo(session, _PENDING, Deltas).merge(deltas)
    before_trailing_writes(session, _write_pending)


_PENDING = "rollups.pending_deltas"


def _write_pending(session: Session) -> None:
    """The transaction's netted deltas, once, just before it commits (see the module's docstring)."""
    deltas = transaction_memo(session, _PENDING, Deltas)
    forget_memo(session, _PENDING)
    apply_deltas(session, deltas, trailing=True)


def _keep_previous_value(target, value, oldvalue, initiator):
    return value


# Setting one of these on an expired object must still tell us what it replaced.
for _name in INVOICE_FIELDS:
    event.listen(getattr(Invoice, _name), "set", _keep_previous_value, active_history=True)
for _name in PAYMENT_FIELDS:
    event.listen(getattr(Payment, _name), "set", _keep_previous_value, active_history=True)


# ---------------------------------------------------------------- rebuilding and checking

_KEY_DUE_DATE = f"CASE WHEN {one_of('status', LIVE_INVOICE_STATES)} THEN due_date ELSE '{SETTLED_DUE_DATE}' END"

# YYYY-MM of the issue date, as each database writes it.
_KEY_ISSUE_MONTH = {"postgresql": "to_char(issue_date, 'YYYY-MM')", "sqlite": "strftime('%Y-%m', issue_date)"}


def rebuild_sql(dialect: str) -> tuple[str, ...]:
    """The statements that recount both tables (Fixed4 sums stay exact on both databases:
    on SQLite they add scaled integers). Migrations 0005 and 0017 carry frozen copies."""
    return (
        "DELETE FROM invoice_rollups",
        "INSERT INTO invoice_rollups"
        " (currency, status, due_date, issue_month, invoice_count, total, amount_paid, amount_credited)"
        f" SELECT currency, status, {_KEY_DUE_DATE}, {_KEY_ISSUE_MONTH[dialect]},"
        " count(*), sum(total), sum(amount_paid), sum(amount_credited)"
        f" FROM invoices WHERE status <> {sql_literal(InvoiceStatus.DRAFT)} GROUP BY 1, 2, 3, 4",
        "DELETE FROM payment_rollups",
        "INSERT INTO payment_rollups (currency, paid_on, payment_count, amount)"
        " SELECT currency, paid_on, count(*), sum(amount) FROM payments WHERE voided_at IS NULL GROUP BY 1, 2",
    )


# Writers add to rollup rows under ROW EXCLUSIVE; this mode waits for those in
# flight and holds new ones back until the rebuild commits, so each change is
# either seen by the rebuild's SELECT or added on top of its result.
PG_LOCK_SQL = "LOCK TABLE invoice_rollups, payment_rollups IN SHARE ROW EXCLUSIVE MODE"


@dataclass(frozen=True)
class Rebuilt:
    invoice_rows: int
    payment_rows: int


def rebuild_rollups(session: Session) -> Rebuilt:
    """Recompute both rollup tables from every invoice and payment, in the caller's transaction.

    For the migration's backfill, after bulk loads that bypass the ORM, and for
    operators (``flask --app main_service rebuild-rollups``). Does not commit.
    """
    if session.connection().dialect.name == "postgresql":
        session.execute(text(PG_LOCK_SQL))
    counts = [session.execute(text(sql)).rowcount for sql in rebuild_sql(session.get_bind().dialect.name)]
    return Rebuilt(invoice_rows=counts[1], payment_rows=counts[3])


def _expected(session: Session) -> tuple[dict, dict]:
    invoices: dict[InvoiceKey, tuple] = {}
    rows = session.execute(
        select(
            Invoice.currency,
            Invoice.status,
            Invoice.due_date,
            Invoice.issue_date,
            func.count(),
            func.sum(Invoice.total, type_=Invoice.total.type),
            func.sum(Invoice.amount_paid, type_=Invoice.amount_paid.type),
            func.sum(Invoice.amount_credited, type_=Invoice.amount_credited.type),
        ).group_by(Invoice.currency, Invoice.status, Invoice.due_date, Invoice.issue_date)
    )
    for currency, status, due_date, issue_date, count, total, paid, credited in rows:
        key = invoice_key(currency, status, due_date, issue_date)
        if key is None:
            continue
        before = invoices.get(key, (0, ZERO, ZERO, ZERO))
        invoices[key] = (before[0] + count, before[1] + total, before[2] + paid, before[3] + credited)
    payments = {
        (currency, paid_on): (count, amount)
        for currency, paid_on, count, amount in session.execute(
            select(Payment.currency, Payment.paid_on, func.count(), func.sum(Payment.amount, type_=Payment.amount.type))
            .where(Payment.voided_at.is_(None))
            .group_by(Payment.currency, Payment.paid_on)
        )
    }
    return invoices, payments


def rollup_differences(session: Session) -> list[str]:
    """What the rollup tables hold that a fresh GROUP BY does not (empty when they are exact).

    Rows counting nothing (zero count and sums) are kept by the listener and
    ignored here.
    """
    expected_invoices, expected_payments = _expected(session)
    stored_invoices = {
        (r.currency, r.status, r.due_date, r.issue_month): (r.invoice_count, r.total, r.amount_paid, r.amount_credited)
        for r in session.scalars(select(InvoiceRollup))
        if (r.invoice_count, r.total, r.amount_paid, r.amount_credited) != (0, ZERO, ZERO, ZERO)
    }
    stored_payments = {
        (r.currency, r.paid_on): (r.payment_count, r.amount)
        for r in session.scalars(select(PaymentRollup))
        if (r.payment_count, r.amount) != (0, ZERO)
    }
    differences = []
    for name, stored, expected in (
        ("invoice_rollups", stored_invoices, expected_invoices),
        ("payment_rollups", stored_payments, expected_payments),
    ):
        for key in sorted(stored.keys() | expected.keys()):
            if stored.get(key) != expected.get(key):
                differences.append(f"{name} {key}: stored {stored.get(key)}, invoices say {expected.get(key)}")
    return differences
