from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared import money
from shared.db import db, utcnow
from shared.models.enums import PAYMENT_METHODS, PaymentState, one_of


class Payment(db.Model):
    """Money received against an invoice, with its own gapless receipt number.

    A payment is voided, never deleted, so its receipt can still show VOID.
    """

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(one_of("method", PAYMENT_METHODS), name="method"),
        Index("ix_payments_invoice_id", "invoice_id"),
        Index("ix_payments_paid_on", "paid_on"),
        Index("ix_payments_currency_paid_on", "currency", "paid_on"),  # reports: money received per currency
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="RESTRICT"))
    receipt_number: Mapped[str] = mapped_column(String(40), unique=True)
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    paid_on: Mapped[dt.date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str] = mapped_column(String(200), default="")
    # ``note`` is printed on the client's receipt; ``internal_note`` is for staff only.
    note: Mapped[str] = mapped_column(Text, default="")
    internal_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    recorded_by: Mapped[str] = mapped_column(String(200))
    voided_at: Mapped[dt.datetime | None]
    voided_by: Mapped[str | None] = mapped_column(String(200))
    void_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    invoice = relationship("Invoice", back_populates="payments")

    @hybrid_property
    def is_void(self) -> bool:
        return self.voided_at is not None

    @is_void.inplace.expression
    @classmethod
    def _is_void_expression(cls):
        return cls.voided_at.is_not(None)

    @property
    def state(self) -> PaymentState:
        return PaymentState.VOID if self.is_void else PaymentState.LIVE

    @property
    def display_amount(self) -> Decimal:
        return money.round_money(self.amount, self.currency)

    def __repr__(self) -> str:
        return f"<Payment {self.receipt_number} {self.amount}>"
