"""Credit notes, client credit and refunds (SPEC §11): how an issued invoice is corrected.

A credit note is issued when it is made (no drafts) and never changed. Its
``applied`` part settled its invoice; its ``to_credit`` part went into the
client's credit in that currency. Client credit is a ledger
(:class:`CreditMovement`, one row per movement) and a balance row per client
and currency (:class:`ClientCredit`) that every movement locks and updates in
the same transaction, so the balance is the ledger's sum and never below 0.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared import money
from shared.db import db, utcnow
from shared.models.enums import (
    CREDIT_INCREASING_KINDS,
    CREDIT_MOVEMENT_KINDS,
    PAYMENT_METHODS,
    TAX_ROUNDING_MODES,
    one_of,
)
from shared.models.lines import PricedFigures, PricedLine, line_checks


class CreditNote(PricedFigures, db.Model):
    """A correction of one issued invoice, with its own gapless number (``CN-{year}-{seq:05d}``)."""

    __tablename__ = "credit_notes"
    activity_subject = "credit_note"
    __table_args__ = (
        CheckConstraint("subtotal >= 0 AND tax_total >= 0 AND total > 0", name="totals"),
        CheckConstraint("applied >= 0 AND to_credit >= 0 AND applied + to_credit = total", name="split"),
        CheckConstraint(one_of("tax_rounding", TAX_ROUNDING_MODES), name="tax_rounding"),
        Index("ix_credit_notes_invoice_id", "invoice_id"),
        Index("ix_credit_notes_client_id", "client_id"),
        Index("ix_credit_notes_currency_issue_date", "currency", "issue_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="RESTRICT"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="RESTRICT"))
    currency: Mapped[str] = mapped_column(String(3))
    issue_date: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    # The invoice's rounding mode, frozen at its issue (SPEC §11), not the current setting.
    tax_rounding: Mapped[str] = mapped_column(String(10))
    subtotal: Mapped[Decimal]
    tax_total: Mapped[Decimal]
    total: Mapped[Decimal]
    applied: Mapped[Decimal]
    to_credit: Mapped[Decimal]
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    invoice = relationship("Invoice", back_populates="credit_notes")
    client = relationship("Client")
    items: Mapped[list[CreditNoteItem]] = relationship(
        back_populates="credit_note", order_by="CreditNoteItem.position", cascade="all, delete-orphan"
    )

    @property
    def priced_lines(self) -> list[CreditNoteItem]:
        """What tax_by_rate and the other shared figures (shared.models.lines.PricedFigures) read: the items."""
        return self.items

    def __repr__(self) -> str:
        return f"<CreditNote {self.number} {self.total}>"


class CreditNoteItem(PricedLine, db.Model):
    """One credited line: §5.1 with no discount, so ``amount`` is the taxable base."""

    __tablename__ = "credit_note_items"
    __table_args__ = (
        UniqueConstraint("credit_note_id", "position", name="uq_credit_note_items_position"),
        *line_checks(discounted=False),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    credit_note_id: Mapped[int] = mapped_column(ForeignKey("credit_notes.id", ondelete="CASCADE"))
    position: Mapped[int]

    credit_note: Mapped[CreditNote] = relationship(back_populates="items")


class ClientCredit(db.Model):
    """A client's credit in one currency: the ledger's running balance, the row every movement locks."""

    __tablename__ = "client_credits"
    __table_args__ = (CheckConstraint("balance >= 0", name="balance_not_negative"),)

    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    balance: Mapped[Decimal] = mapped_column(default=Decimal(0))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def display_balance(self) -> Decimal:
        return money.round_money(self.balance, self.currency)


class CreditMovement(db.Model):
    """One movement of client credit (SPEC §11): credit-note excess, online overpayment, application, refund."""

    __tablename__ = "credit_movements"
    __table_args__ = (
        CheckConstraint(one_of("kind", CREDIT_MOVEMENT_KINDS), name="kind"),
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_credit_movements_client_id_currency", "client_id", "currency"),
        Index("ix_credit_movements_invoice_id", "invoice_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    currency: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal]  # always positive; ``kind`` says which way it moved
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", ondelete="RESTRICT"))
    credit_note_id: Mapped[int | None] = mapped_column(ForeignKey("credit_notes.id", ondelete="RESTRICT"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id", ondelete="RESTRICT"))
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refunds.id", ondelete="RESTRICT"))
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    invoice = relationship("Invoice")
    credit_note = relationship("CreditNote")

    @property
    def adds_credit(self) -> bool:
        return self.kind in CREDIT_INCREASING_KINDS

    @property
    def signed_amount(self) -> Decimal:
        return self.amount if self.adds_credit else -self.amount


class Refund(db.Model):
    """Client credit paid back to the client (SPEC §11)."""

    __tablename__ = "refunds"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(one_of("method", PAYMENT_METHODS), name="method"),
        Index("ix_refunds_client_id", "client_id"),
        Index("ix_refunds_currency_refunded_on", "currency", "refunded_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="RESTRICT"))
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal]
    method: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str] = mapped_column(String(200), default="")
    refunded_on: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    client = relationship("Client")

    @property
    def display_amount(self) -> Decimal:
        return money.round_money(self.amount, self.currency)
