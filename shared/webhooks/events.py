"""Events as outbox rows: written in the caller's transaction, delivered later by the worker (SPEC §15)."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from shared.db import utcnow
from shared.lookups import get_settings
from shared.messages.queue import notify_workers
from shared.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from shared.models.enums import ALL_WEBHOOK_EVENTS, WebhookEventType
from shared.numbering import settle_numbers
from shared.transactions import forget_memo, transaction_memo

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
    session: Session,
    event_type: WebhookEventType,
    data: dict[str, Any],
    endpoints: list[WebhookEndpoint] | list[EndpointRef],
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


ENABLED_ENDPOINTS = "webhooks.enabled_endpoints"


@dataclass(frozen=True)
class EndpointRef:
    """What emitting an event needs of an enabled endpoint, kept in memory between requests."""

    id: int
    events: tuple[str, ...]

    def wants(self, event_type: str) -> bool:
        return ALL_WEBHOOK_EVENTS in self.events or event_type in self.events


_cache_lock = threading.Lock()
_cached: tuple[str, list[EndpointRef]] | None = None  # (settings.webhook_endpoints_version, endpoints)


def enabled_endpoints(session: Session) -> list[EndpointRef]:
    """The enabled endpoints: from this process's memory while ``settings.webhook_endpoints_version`` holds.

    Every change to an endpoint gives the settings row a new version in the
    same transaction (:func:`_new_version_when_endpoints_change`), so another
    process's change is seen as soon as it commits. The settings row is
    usually in the session already (creating an invoice reads it with the
    client), which makes an event cost no round trip when nobody listens.
    Asked once per transaction however many events it emits.
    """

    def load() -> list[EndpointRef]:
        global _cached
        version = get_settings(session).webhook_endpoints_version
        cached = _cached
        if version and cached is not None and cached[0] == version:
            return cached[1]
        rows = session.execute(select(WebhookEndpoint.id, WebhookEndpoint.events).where(WebhookEndpoint.enabled))
        endpoints = [EndpointRef(id, tuple(events or ())) for id, events in rows]
        if version:  # a row written without the model's default ("") is never cached
            with _cache_lock:
                _cached = (version, endpoints)
        return endpoints

    return transaction_memo(session, ENABLED_ENDPOINTS, load)


@event.listens_for(Session, "before_flush")
def _new_version_when_endpoints_change(session: Session, _flush_context, _instances) -> None:
    touched = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(obj, WebhookEndpoint) for obj in touched):
        get_settings(session).webhook_endpoints_version = uuid.uuid4().hex
        forget_memo(session, ENABLED_ENDPOINTS)


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
    endpoints = [e for e in enabled_endpoints(session) if e.wants(event_type)]
    if not endpoints:
        return None
    settle_numbers(session)  # the snapshot leaves the transaction: it shows the real number, not a provisional one
    return write_event(session, event_type, data() if callable(data) else data, endpoints)
