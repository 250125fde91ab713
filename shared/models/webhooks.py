"""Outgoing webhooks (SPEC §15): endpoints, events (an outbox) and one delivery per endpoint and event."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.db import db, utcnow
from shared.models.enums import (
    ALL_WEBHOOK_EVENTS,
    RETRYABLE_WEBHOOK_STATES,
    WEBHOOK_DELIVERY_STATES,
    WebhookDeliveryState,
    one_of,
)


class WebhookEndpoint(db.Model):
    """A URL that hears about the events it subscribed to, signed with its own secret.

    The secret is kept as given (``whsec_`` + base64): the worker signs with it,
    so it cannot be hashed like an API key; it is shown to staff only when made.
    """

    __tablename__ = "webhook_endpoints"
    activity_subject = "webhook_endpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list] = mapped_column(JSON, default=lambda: [ALL_WEBHOOK_EVENTS])
    enabled: Mapped[bool] = mapped_column(default=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    secret: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def wants(self, event_type: str) -> bool:
        """Whether an event of this type goes to this endpoint (enabled, and subscribed to it or to ``*``)."""
        return self.enabled and (ALL_WEBHOOK_EVENTS in self.events or event_type in self.events)

    def __repr__(self) -> str:
        return f"<WebhookEndpoint {self.id} {self.url}>"


class WebhookEvent(db.Model):
    """Something that happened, written in the same transaction as the change (the outbox row).

    ``body`` is the exact JSON sent (``{"id", "type", "created_at", "data"}``),
    fixed when the event happened, so every attempt sends the same bytes.
    """

    __tablename__ = "webhook_events"
    __table_args__ = (Index("ix_webhook_events_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class WebhookDelivery(db.Model):
    """One event on its way to one endpoint; the worker leases it like a queued message."""

    __tablename__ = "webhook_deliveries"
    activity_subject = "webhook_delivery"
    __table_args__ = (
        CheckConstraint(one_of("state", WEBHOOK_DELIVERY_STATES), name="state"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_webhook_deliveries_state_next_attempt_at", "state", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint_id", "endpoint_id"),
        Index("ix_webhook_deliveries_event_id", "event_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("webhook_events.id", ondelete="CASCADE"))
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(20), default=WebhookDeliveryState.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[dt.datetime | None]
    last_status: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_response: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    event = relationship("WebhookEvent")
    endpoint = relationship("WebhookEndpoint")

    @hybrid_property
    def can_retry(self) -> bool:
        """Staff may send a failed or still pending delivery now (SPEC §15)."""
        return self.state in RETRYABLE_WEBHOOK_STATES

    @can_retry.inplace.expression
    @classmethod
    def _can_retry_expression(cls):
        return cls.state.in_(RETRYABLE_WEBHOOK_STATES)

    @property
    def is_delivered(self) -> bool:
        return self.state == WebhookDeliveryState.DELIVERED

    @property
    def is_failed(self) -> bool:
        return self.state == WebhookDeliveryState.FAILED

    def __repr__(self) -> str:
        return f"<WebhookDelivery {self.id} event={self.event_id} endpoint={self.endpoint_id} {self.state}>"
