from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import db, utcnow


class StripeEvent(db.Model):
    """A Stripe event that recorded money (SPEC §14): its id is unique, so a redelivered event changes nothing.

    Written in the same transaction as the payment it recorded; ``to_credit``
    is what the invoice's balance could not take (client credit, SPEC §11).
    """

    __tablename__ = "stripe_events"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("to_credit >= 0 AND to_credit <= amount", name="to_credit_in_range"),
        Index("ix_stripe_events_invoice_id", "invoice_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(255), unique=True)
    event_type: Mapped[str] = mapped_column(String(80))
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="RESTRICT"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id", ondelete="RESTRICT"))
    payment_intent: Mapped[str] = mapped_column(String(255), default="")
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    to_credit: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<StripeEvent {self.event_id} {self.amount} {self.currency}>"
