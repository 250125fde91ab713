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
from sqlalchemy.ext.hybrid import hybrid_method, hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared import money
from shared.db import db, utcnow
from shared.models.enums import (
    CREDITABLE_INVOICE_STATES,
    DISCOUNT_TYPES,
    INVOICE_STATES,
    LIVE_INVOICE_STATES,
    TAX_ROUNDING_MODES,
    InvoiceStatus,
    one_of,
    sql_literal,
)
from shared.models.lines import PricedDocument, PricedLine, line_checks

LIVE_STATUS_SQL = one_of("status", LIVE_INVOICE_STATES)


def overdue_condition(today: dt.date, *, status, due_date, total, amount_paid, amount_credited) -> ColumnElement[bool]:
    """SPEC §5.2 in SQL, the one place it is written: live, past its due date, something still owed.

    Takes the columns so that a table of invoice figures other than ``invoices``
    (the running totals of ``InvoiceRollup``) asks the same question; callers
    use ``Invoice.overdue_clause(today)`` or ``InvoiceRollup.overdue_clause(today)``.
    ``status IN (live states)`` is written as the partial indexes on live
    invoices are, so they still serve lists of overdue invoices.
    """
    return and_(status.in_(LIVE_INVOICE_STATES), due_date < today, total > amount_paid + amount_credited)


class Invoice(PricedDocument, db.Model):
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
        CheckConstraint(f"(status = {sql_literal(InvoiceStatus.DRAFT)}) = (number IS NULL)", name="number_iff_issued"),
        CheckConstraint(
            "subtotal >= 0 AND discount_total >= 0 AND tax_total >= 0 AND total >= 0",
            name="totals_not_negative",
        ),
        CheckConstraint("discount_value IS NULL OR discount_value >= 0", name="discount_not_negative"),
        CheckConstraint("amount_paid >= 0 AND amount_paid <= total", name="amount_paid_in_range"),
        # SPEC §11: what credit notes and client credit settled; with the payments never more than the total.
        CheckConstraint(
            "amount_credited >= 0 AND amount_paid + amount_credited <= total", name="amount_credited_in_range"
        ),
        CheckConstraint("due_date >= issue_date", name="due_after_issue"),
        Index("ix_invoices_status_due_date", "status", "due_date"),
        Index("ix_invoices_client_id", "client_id"),
        Index("ix_invoices_issue_date", "issue_date"),
        Index("ix_invoices_created_at", "created_at"),
        # SPEC §12: each run of a recurring invoice is made once.
        UniqueConstraint("recurring_invoice_id", "recurring_run_on", name="uq_invoices_recurring_run"),
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
    status: Mapped[str] = mapped_column(String(20), default=InvoiceStatus.DRAFT.value)
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
    # SPEC §11: the ``applied`` part of its credit notes plus client credit applied to it.
    amount_credited: Mapped[Decimal] = mapped_column(default=Decimal("0"), server_default="0")
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
    # The recurring invoice (SPEC §12) that made this one, and the run date it was made for.
    recurring_invoice_id: Mapped[int | None] = mapped_column(ForeignKey("recurring_invoices.id", ondelete="SET NULL"))
    recurring_run_on: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    client = relationship("Client")
    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice",
        order_by="InvoiceLine.position",
        cascade="all, delete-orphan",
    )
    payments = relationship("Payment", back_populates="invoice", order_by="Payment.id")
    credit_notes = relationship("CreditNote", back_populates="invoice", order_by="CreditNote.id")

    # ---- the questions every door asks (SPEC §5.2); each is answered here only.
    # Hybrids read the same in Python (``invoice.is_live``), in SQL
    # (``select(Invoice).where(Invoice.is_live)``) and in Jinja.

    @hybrid_property
    def is_draft(self) -> bool:
        """Not issued yet: no number, freely edited and deleted."""
        return self.status == InvoiceStatus.DRAFT

    @hybrid_property
    def is_void(self) -> bool:
        return self.status == InvoiceStatus.VOID

    @hybrid_property
    def is_paid(self) -> bool:
        return self.status == InvoiceStatus.PAID

    @hybrid_property
    def is_live(self) -> bool:
        """Issued, not void, not settled: it takes payments, can be overdue and gets reminders."""
        return self.status in LIVE_INVOICE_STATES

    @is_live.inplace.expression
    @classmethod
    def _is_live_expression(cls):
        return cls.status.in_(LIVE_INVOICE_STATES)

    @hybrid_property
    def is_issued(self) -> bool:
        """Numbered and not voided: counts as invoiced (income, tax, statements)."""
        return self.status not in (InvoiceStatus.DRAFT, InvoiceStatus.VOID)

    @is_issued.inplace.expression
    @classmethod
    def _is_issued_expression(cls):
        return cls.status.not_in((InvoiceStatus.DRAFT, InvoiceStatus.VOID))

    @hybrid_method
    def is_overdue(self, today: dt.date) -> bool:
        """Derived, never stored (SPEC §5.2): past due with something still owed."""
        return self.is_live and self.due_date < today and self.balance_due > 0

    @is_overdue.expression
    @classmethod
    def _is_overdue_expression(cls, today: dt.date):
        return cls.overdue_clause(today)

    @property
    def can_edit(self) -> bool:
        """Only a draft is edited or deleted; an issued invoice is voided instead."""
        return self.is_draft

    @property
    def can_send(self) -> bool:
        """Issued and not void: it can be e-mailed or texted (again)."""
        return not self.is_draft and not self.is_void

    @property
    def can_take_payment(self) -> bool:
        return self.is_live and self.balance_due > 0

    @property
    def can_pay_online(self) -> bool:
        """SPEC §14: a balance Stripe Checkout can charge (whether Stripe is configured is ``online_payment_enabled``)."""
        return self.can_take_payment and money.stripe_can_charge(self.balance_due, self.currency)

    @property
    def offers_bank_transfer_only(self) -> bool:
        """SPEC §14: a balance is owed but Stripe cannot charge it (a 3-decimal amount not ending in 0)."""
        return self.can_take_payment and not self.can_pay_online

    @property
    def has_live_payment(self) -> bool:
        return self.amount_paid > 0 or any(not p.is_void for p in self.payments)

    @property
    def has_credit_note(self) -> bool:
        """SPEC §11: at least one credit note corrects this invoice."""
        return bool(self.credit_notes)

    @property
    def can_void(self) -> bool:
        """SPEC §5.2: ``open`` with no live payment ``-> void``; SPEC §11: and no credit note."""
        return self.status == InvoiceStatus.OPEN and not self.has_live_payment and not self.has_credit_note

    @hybrid_property
    def is_credited(self) -> bool:
        return self.status == InvoiceStatus.CREDITED

    @property
    def can_take_credit_note(self) -> bool:
        """SPEC §11: an issued, not void invoice with something left to credit."""
        return self.status in CREDITABLE_INVOICE_STATES and self.creditable_amount > 0

    @property
    def amount_credit_noted(self) -> Decimal:
        """The totals of this invoice's credit notes added up (applied and to client credit alike)."""
        return money.round_money(sum((note.total for note in self.credit_notes), Decimal(0)), self.currency)

    @property
    def creditable_amount(self) -> Decimal:
        """SPEC §11: how much more credit notes may still credit (their totals never pass the invoice's)."""
        return money.round_money(self.total - self.amount_credit_noted, self.currency)

    @property
    def can_take_client_credit(self) -> bool:
        """Client credit can settle it: live, with a balance (SPEC §11)."""
        return self.is_live and self.balance_due > 0

    @property
    def derived_status(self) -> InvoiceStatus:
        """SPEC §11's states from the figures: balance 0 is ``paid`` (money came in) or ``credited``; else open or part-paid.

        The one place the state of an issued invoice is worked out; recording or
        voiding a payment, a credit note and applying client credit all set
        ``status`` from here. A zero invoice, with nothing paid or credited, is ``paid``.
        """
        if self.balance_due <= 0:
            if self.amount_paid > 0 or self.amount_credited <= 0:
                return InvoiceStatus.PAID
            return InvoiceStatus.CREDITED
        return InvoiceStatus.PARTIALLY_PAID if self.amount_paid > 0 else InvoiceStatus.OPEN

    @property
    def expects_payment(self) -> bool:
        """Whether the document asks to be paid (payment instructions): a draft's preview does, paid or void do not."""
        return self.status not in (InvoiceStatus.PAID, InvoiceStatus.VOID, InvoiceStatus.CREDITED)

    @property
    def owes(self) -> bool:
        """Whether a balance means anything: not for drafts (not issued) or void invoices."""
        return self.can_send

    @hybrid_property
    def balance_due(self) -> Decimal:
        """SPEC §11: ``total - amount_paid - amount_credited``, never below 0."""
        return max(money.round_money(self.total - self.amount_paid - self.amount_credited, self.currency), Decimal(0))

    @balance_due.inplace.expression
    @classmethod
    def _balance_due_expression(cls):
        # The CHECK ``amount_paid + amount_credited <= total`` keeps this from going below 0.
        return cls.total - cls.amount_paid - cls.amount_credited

    @classmethod
    def overdue_clause(cls, today: dt.date) -> ColumnElement[bool]:
        """``is_overdue`` as a WHERE condition, for lists, counts and sums of overdue invoices."""
        return overdue_condition(
            today,
            status=cls.status,
            due_date=cls.due_date,
            total=cls.total,
            amount_paid=cls.amount_paid,
            amount_credited=cls.amount_credited,
        )

    # tax_by_rate, shows_tax_by_rate, amount() and billed_to: shared.models.lines.PricedDocument

    def __repr__(self) -> str:
        return f"<Invoice {self.id} {self.number or '(unnumbered)'} {self.status}>"


@event.listens_for(Invoice.due_date, "set")
@event.listens_for(Invoice.last_emailed_at, "set")
def _reminder_day_unknown(target: Invoice, value, oldvalue, initiator) -> None:
    """The reminder sweep works out ``next_reminder_on`` again when what it depends on changes."""
    if value != oldvalue:
        target.next_reminder_on = None


class InvoiceLine(PricedLine, db.Model):
    __tablename__ = "invoice_lines"
    __table_args__ = (
        UniqueConstraint("invoice_id", "position", name="uq_invoice_lines_position"),
        *line_checks(discounted=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"))
    position: Mapped[int]
    discount: Mapped[Decimal]  # the rest of a line's columns: shared.models.lines.PricedLine

    invoice: Mapped[Invoice] = relationship(back_populates="lines")

    def __repr__(self) -> str:
        return f"<InvoiceLine {self.invoice_id}/{self.position} {self.description!r}>"
