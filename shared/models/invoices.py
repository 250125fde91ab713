from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    and_,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared import money
from shared.db import db, utcnow
from shared.models.enums import DISCOUNT_TYPES, INVOICE_STATES, LIVE_INVOICE_STATES, TAX_ROUNDING_MODES, one_of

LIVE_STATUS_SQL = one_of("status", LIVE_INVOICE_STATES)


def overdue_condition(today: dt.date, *, status, due_date, total, amount_paid) -> ColumnElement[bool]:
    """SPEC §5.2 in SQL, the one place it is written: live, past its due date, something still owed.

    Takes the columns so that a table of invoice figures other than ``invoices``
    (the running totals of ``InvoiceRollup``) asks the same question; callers
    use ``Invoice.overdue_clause(today)`` or ``InvoiceRollup.overdue_clause(today)``.
    ``status IN (live states)`` is written as the partial indexes on live
    invoices are, so they still serve lists of overdue invoices.
    """
    return and_(status.in_(LIVE_INVOICE_STATES), due_date < today, total > amount_paid)


class Invoice(db.Model):
    """An invoice; a draft until issued, then frozen and only ever voided.

    Totals are written by ``shared.services`` from ``shared.money`` and never
    computed anywhere else. ``amount_paid`` is kept in step with live payments
    in the same transaction that records or voids one.
    """

    __tablename__ = "invoices"
    __table_args__ = (
        CheckConstraint(one_of("status", INVOICE_STATES), name="status"),
        CheckConstraint(f"discount_type IS NULL OR {one_of('discount_type', DISCOUNT_TYPES)}", name="discount_type"),
        CheckConstraint(one_of("tax_rounding", TAX_ROUNDING_MODES), name="tax_rounding"),
        CheckConstraint("(status = 'draft') = (number IS NULL)", name="number_iff_issued"),
        CheckConstraint(
            "subtotal >= 0 AND discount_total >= 0 AND tax_total >= 0 AND total >= 0",
            name="totals_not_negative",
        ),
        CheckConstraint("discount_value IS NULL OR discount_value >= 0", name="discount_not_negative"),
        CheckConstraint("amount_paid >= 0 AND amount_paid <= total", name="amount_paid_in_range"),
        CheckConstraint("due_date >= issue_date", name="due_after_issue"),
        Index("ix_invoices_status_due_date", "status", "due_date"),
        Index("ix_invoices_client_id", "client_id"),
        Index("ix_invoices_issue_date", "issue_date"),
        Index("ix_invoices_created_at", "created_at"),
        # Reports: one currency at a time, by issue date (tax) or live balances by due date (aging).
        Index("ix_invoices_currency_issue_date", "currency", "issue_date"),
        Index("ix_invoices_status_currency_due_date", "status", "currency", "due_date"),
        # The reminder sweep reads only live invoices whose next_reminder_on has come (or is unknown).
        Index(
            "ix_invoices_live_next_reminder_on",
            "next_reminder_on",
            postgresql_where=text(LIVE_STATUS_SQL),
            sqlite_where=text(LIVE_STATUS_SQL),
        ),
        # The dashboard's overdue list: the first few live invoices by due date, read in index order.
        Index(
            "ix_invoices_live_currency_due_date",
            "currency",
            "due_date",
            "id",
            postgresql_where=text(LIVE_STATUS_SQL),
            sqlite_where=text(LIVE_STATUS_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(40), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="RESTRICT"))
    currency: Mapped[str] = mapped_column(String(3))
    issue_date: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date] = mapped_column(Date)
    purchase_order: Mapped[str] = mapped_column(String(100), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    discount_type: Mapped[str | None] = mapped_column(String(10))
    discount_value: Mapped[Decimal | None]
    tax_rounding: Mapped[str] = mapped_column(String(10), default="line")
    subtotal: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    discount_total: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    tax_total: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    amount_paid: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    client_snapshot: Mapped[dict | None] = mapped_column(JSON)
    public_token: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    issued_at: Mapped[dt.datetime | None]
    issued_by: Mapped[str | None] = mapped_column(String(200))
    voided_at: Mapped[dt.datetime | None]
    void_reason: Mapped[str | None] = mapped_column(Text)
    last_emailed_at: Mapped[dt.datetime | None]
    # The day the reminder sweep must next look at this invoice; NULL: not worked out yet (shared/reminders.py).
    next_reminder_on: Mapped[dt.date | None] = mapped_column(Date)
    viewed_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    client = relationship("Client")
    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice",
        order_by="InvoiceLine.position",
        cascade="all, delete-orphan",
    )
    payments = relationship("Payment", back_populates="invoice", order_by="Payment.id")

    @property
    def balance_due(self) -> Decimal:
        return money.round_money(self.total - self.amount_paid, self.currency)

    @property
    def is_draft(self) -> bool:
        return self.status == "draft"

    def is_overdue(self, today: dt.date) -> bool:
        """Derived, never stored: past due with something still owed (in SQL: :meth:`overdue_clause`)."""
        return self.status in LIVE_INVOICE_STATES and self.due_date < today and self.balance_due > 0

    @classmethod
    def overdue_clause(cls, today: dt.date) -> ColumnElement[bool]:
        """:meth:`is_overdue` as a WHERE condition, for lists, counts and sums of overdue invoices."""
        return overdue_condition(
            today, status=cls.status, due_date=cls.due_date, total=cls.total, amount_paid=cls.amount_paid
        )

    def amount(self, name: str) -> Decimal:
        """A stored amount quantized to the currency's exponent (``total``, ...)."""
        return money.round_money(getattr(self, name), self.currency)

    @property
    def billed_to(self) -> dict:
        """Client details as they stand on the document (frozen once issued)."""
        return self.client_snapshot or self.client.snapshot()

    def __repr__(self) -> str:
        return f"<Invoice {self.id} {self.number or 'draft'} {self.status}>"


@event.listens_for(Invoice.due_date, "set")
@event.listens_for(Invoice.last_emailed_at, "set")
def _reminder_day_unknown(target: Invoice, value, oldvalue, initiator) -> None:
    """The reminder sweep works out ``next_reminder_on`` again when what it depends on changes."""
    if value != oldvalue:
        target.next_reminder_on = None


class InvoiceLine(db.Model):
    __tablename__ = "invoice_lines"
    __table_args__ = (
        UniqueConstraint("invoice_id", "position", name="uq_invoice_lines_position"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price >= 0", name="unit_price_not_negative"),
        CheckConstraint("tax_rate >= 0", name="tax_rate_not_negative"),
        CheckConstraint("amount >= 0 AND discount >= 0 AND tax >= 0", name="amounts_not_negative"),
        CheckConstraint("discount <= amount", name="discount_within_amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"))
    position: Mapped[int]
    description: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[Decimal]
    unit_price: Mapped[Decimal]
    tax_rate: Mapped[Decimal]
    amount: Mapped[Decimal]
    discount: Mapped[Decimal]
    tax: Mapped[Decimal]

    invoice: Mapped[Invoice] = relationship(back_populates="lines")

    def __repr__(self) -> str:
        return f"<InvoiceLine {self.invoice_id}/{self.position} {self.description!r}>"
