"""Events as outbox rows: written in the caller's transaction, delivered later by the worker (SPEC §15)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.db import utcnow
from shared.messages.queue import notify_workers
from shared.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from shared.models.enums import WebhookEventType

EventData = dict[str, Any] | Callable[[], dict[str, Any]]


def new_event_id() -> str:
    """A stable, unguessable event id: ``evt_`` and 32 hex digits (the ``webhook-id`` header)."""
    return f"evt_{uuid.uuid4().hex}"


def event_body(event_id: str, event_type: str, created_at, data: dict[str, Any]) -> str:
    """The exact JSON every attempt sends: ``{"id", "type", "created_at", "data"}``."""
    created = created_at.isoformat(timespec="seconds").replace("+00:00", "Z")
    return json.dumps(
        {"id": event_id, "type": str(event_type), "created_at": created, "data": data},
        separators=(",", ":"),
        ensure_ascii=False,
    )


def write_event(
    session: Session, event_type: WebhookEventType, data: dict[str, Any], endpoints: list[WebhookEndpoint]
) -> WebhookEvent:
    """The event row and one pending delivery per endpoint, in the caller's transaction; workers are woken."""
    now = utcnow()
    event_id = new_event_id()
    event = WebhookEvent(
        event_id=event_id, type=str(event_type), body=event_body(event_id, event_type, now, data), created_at=now
    )
    session.add(event)
    session.add_all(
        WebhookDelivery(event=event, endpoint_id=endpoint.id, next_attempt_at=now) for endpoint in endpoints
    )
    notify_workers(session)
    return event


def emit_event(session: Session, event_type: WebhookEventType | str, data: EventData) -> WebhookEvent | None:
    """Record that ``event_type`` happened, with ``data`` as the API shows the object now.

    Call it inside the use case's transaction, after the change (so ``data``
    is the snapshot of the object as changed): the event and its deliveries
    commit with the change or vanish with its rollback. ``data`` is the API's
    own JSON of the object (``shared.representations``), or a function making
    it, called only when an enabled endpoint wants this type. With no such
    endpoint nothing is written and None is returned.

    Example: ``emit_event(session, WebhookEventType.INVOICE_PAID, lambda: invoice_snapshot(session, invoice))``.
    """
    event_type = WebhookEventType(event_type)  # an unknown type is a programming error
    endpoints = [
        e for e in session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.enabled)) if e.wants(event_type)
    ]
    if not endpoints:
        return None
    return write_event(session, event_type, data() if callable(data) else data, endpoints)
