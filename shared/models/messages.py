from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.db import db, utcnow
from shared.models.enums import (
    CHANNELS,
    MESSAGE_KINDS,
    MESSAGE_STATES,
    RETRYABLE_MESSAGE_STATES,
    WAITING_MESSAGE_STATES,
    MessageState,
    one_of,
)


class QueuedMessage(db.Model):
    """One outgoing message: a row of the ``email_queue`` table (SPEC §5.6).

    Written in the same transaction as the change that caused it; the worker
    moves it ``queued -> sending -> sent`` (or ``failed``), holding a lease
    while it sends. ``dedupe_key`` makes a reminder stage unique.
    """

    __tablename__ = "email_queue"
    activity_subject = "notification"
    __table_args__ = (
        CheckConstraint(one_of("kind", MESSAGE_KINDS), name="kind"),
        CheckConstraint(one_of("channel", CHANNELS), name="channel"),
        CheckConstraint(one_of("state", MESSAGE_STATES), name="state"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_email_queue_state_next_attempt_at", "state", "next_attempt_at"),
        Index("ix_email_queue_invoice_id", "invoice_id"),
        Index("ix_email_queue_quote_id", "quote_id"),
        Index("ix_email_queue_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(10))
    recipient: Mapped[str] = mapped_column(String(254))
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id", ondelete="CASCADE"))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    credit_note_id: Mapped[int | None] = mapped_column(ForeignKey("credit_notes.id", ondelete="CASCADE"))
    quote_id: Mapped[int | None] = mapped_column(ForeignKey("quotes.id", ondelete="CASCADE"))
    reminder_stage: Mapped[int | None]
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    state: Mapped[str] = mapped_column(String(20), default=MessageState.QUEUED.value)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_message_id: Mapped[str | None] = mapped_column(String(255))
    message_id: Mapped[str | None] = mapped_column(String(255))
    requested_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    sent_at: Mapped[dt.datetime | None]

    invoice = relationship("Invoice")
    payment = relationship("Payment")
    client = relationship("Client")
    credit_note = relationship("CreditNote")
    quote = relationship("Quote")

    @hybrid_property
    def is_waiting(self) -> bool:
        """Still on its way: queued, or with a worker now."""
        return self.state in WAITING_MESSAGE_STATES

    @is_waiting.inplace.expression
    @classmethod
    def _is_waiting_expression(cls):
        return cls.state.in_(WAITING_MESSAGE_STATES)

    @property
    def can_retry(self) -> bool:
        """Staff may queue a failed or cancelled message again (SPEC §5.6)."""
        return self.state in RETRYABLE_MESSAGE_STATES

    @property
    def can_cancel(self) -> bool:
        """Only a message no worker holds yet can be cancelled."""
        return self.state == MessageState.QUEUED

    def __repr__(self) -> str:
        return f"<QueuedMessage {self.id} {self.kind}/{self.channel} {self.state}>"
