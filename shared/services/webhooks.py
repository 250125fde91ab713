"""Webhook endpoints and their deliveries (SPEC §15): the admin's use cases, one transaction each.

Endpoints are an admin matter (the API's admin scope, the admin role in the
UI); retrying a delivery is open to staff, like retrying an e-mail.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from shared import limits
from shared.activity import record_activity
from shared.actors import Actor
from shared.db import utcnow
from shared.errors import Conflict, PermissionDenied, ValidationFailed
from shared.inputs import WebhookEndpointChanges, WebhookEndpointInput, given
from shared.lookups import get_or_404
from shared.messages.queue import notify_workers
from shared.models import WebhookDelivery, WebhookEndpoint
from shared.models.enums import ALL_WEBHOOK_EVENTS, WEBHOOK_EVENT_TYPES, WebhookDeliveryState, WebhookEventType
from shared.parsing import FieldErrors, clean_text
from shared.transactions import unit_of_work
from shared.webhooks.events import write_event
from shared.webhooks.targets import TargetRefused, check_target

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # SPEC §15: at least 24


def new_webhook_secret() -> str:
    """``whsec_`` + base64 of 32 random bytes: the Standard Webhooks secret format."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDenied("only an admin can manage webhook endpoints")


def clean_events(value: Any) -> list[str]:
    """A list of event types, or ``["*"]`` for all; each type once, in the order given."""
    if value is None:
        return [ALL_WEBHOOK_EVENTS]
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ValidationFailed.one("events", 'must be a list of event types, or ["*"]')
    if not value:
        raise ValidationFailed.one("events", 'must name at least one event type, or be ["*"] for all')
    known = (ALL_WEBHOOK_EVENTS, *WEBHOOK_EVENT_TYPES)
    chosen: list[str] = []
    errors = FieldErrors()
    for index, name in enumerate(value):
        if not isinstance(name, str) or name not in known:
            errors.add(f"events.{index}", f"must be one of {', '.join(known)}")
        elif name not in chosen:
            chosen.append(name)
    errors.raise_if_any()
    if ALL_WEBHOOK_EVENTS in chosen and len(chosen) > 1:
        raise ValidationFailed.one("events", '"*" already means every event; send it alone')
    return chosen


def clean_url(value: Any, *, allow_private: bool) -> str:
    """A webhook URL that may be called now (SPEC §15), or a ``url`` field error saying why not."""
    if not isinstance(value, str):
        raise ValidationFailed.one("url", "is required" if value is None else "must be text")
    url = value.strip()
    try:
        check_target(url, allow_private=allow_private)
    except TargetRefused as exc:
        raise ValidationFailed.one("url", str(exc)) from None
    return url


def _clean_enabled(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValidationFailed.one("enabled", "must be true or false")
    return value


@unit_of_work
def create_webhook_endpoint(
    session: Session, *, actor: Actor, data: WebhookEndpointInput, allow_private: bool = False
) -> WebhookEndpoint:
    """Save an endpoint with a new signing secret (read it from the result now: it is shown once)."""
    _require_admin(actor)
    errors = FieldErrors()
    cleaned: dict[str, Any] = {}
    with errors.collect():
        cleaned["url"] = clean_url(data.url, allow_private=allow_private)
    with errors.collect():
        cleaned["events"] = clean_events(data.events)
    with errors.collect():
        cleaned["enabled"] = _clean_enabled(data.enabled)
    with errors.collect():
        cleaned["description"] = clean_text(data.description, "description", max_length=limits.WEBHOOK_DESCRIPTION)
    errors.raise_if_any()
    endpoint = WebhookEndpoint(secret=new_webhook_secret(), **cleaned)
    session.add(endpoint)
    record_activity(session, actor, "created", endpoint, summary=f"Webhook endpoint {endpoint.url} created")
    return endpoint


@unit_of_work
def update_webhook_endpoint(
    session: Session, *, actor: Actor, endpoint_id: int, data: WebhookEndpointChanges, allow_private: bool = False
) -> WebhookEndpoint:
    """Change an endpoint; only the fields given change (the secret changes only by rotating)."""
    _require_admin(actor)
    endpoint = get_or_404(session, WebhookEndpoint, endpoint_id, lock=True, label="webhook endpoint")
    changes = given(data)
    errors = FieldErrors()
    cleaners = {
        "url": lambda v: clean_url(v, allow_private=allow_private),
        "events": clean_events,
        "enabled": _clean_enabled,
        "description": lambda v: clean_text(v, "description", max_length=limits.WEBHOOK_DESCRIPTION),
    }
    cleaned: dict[str, Any] = {}
    for name, value in changes.items():
        with errors.collect():
            cleaned[name] = cleaners[name](value)
    errors.raise_if_any()
    for name, value in cleaned.items():
        setattr(endpoint, name, value)
    record_activity(session, actor, "edited", endpoint, summary=f"Webhook endpoint {endpoint.url} changed")
    return endpoint


@unit_of_work
def delete_webhook_endpoint(session: Session, *, actor: Actor, endpoint_id: int) -> None:
    """Remove an endpoint with its deliveries (nothing more is sent to it)."""
    _require_admin(actor)
    endpoint = get_or_404(session, WebhookEndpoint, endpoint_id, lock=True, label="webhook endpoint")
    record_activity(session, actor, "deleted", endpoint, summary=f"Webhook endpoint {endpoint.url} deleted")
    session.delete(endpoint)


@unit_of_work
def rotate_webhook_secret(session: Session, *, actor: Actor, endpoint_id: int) -> WebhookEndpoint:
    """Give an endpoint a new secret; deliveries from now on are signed with it."""
    _require_admin(actor)
    endpoint = get_or_404(session, WebhookEndpoint, endpoint_id, lock=True, label="webhook endpoint")
    endpoint.secret = new_webhook_secret()
    endpoint.updated_at = utcnow()
    record_activity(session, actor, "secret_rotated", endpoint, summary=f"Webhook endpoint {endpoint.url}: new secret")
    return endpoint


@unit_of_work
def send_test_event(session: Session, *, actor: Actor, endpoint_id: int) -> WebhookDelivery:
    """Queue a ``webhook.test`` event to this endpoint only (enabled or not), to check the receiver."""
    _require_admin(actor)
    endpoint = get_or_404(session, WebhookEndpoint, endpoint_id, label="webhook endpoint")
    data = {"endpoint_id": endpoint.id, "url": endpoint.url, "requested_by": actor.label[:200]}
    event = write_event(session, WebhookEventType.TEST, data, [endpoint])
    session.flush()
    record_activity(session, actor, "test_sent", endpoint, summary=f"Test event sent to {endpoint.url}")
    return session.query(WebhookDelivery).filter_by(event_id=event.id).one()


@unit_of_work
def retry_webhook_delivery(session: Session, *, actor: Actor, delivery_id: int) -> WebhookDelivery:
    """Send a failed or pending delivery now, with a fresh round of attempts (SPEC §15)."""
    delivery = get_or_404(session, WebhookDelivery, delivery_id, lock=True, label="webhook delivery")
    if not delivery.can_retry:
        raise Conflict(
            f"webhook delivery {delivery.id} is {delivery.state}; only failed or pending ones can be sent again"
        )
    delivery.state = WebhookDeliveryState.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = utcnow()
    delivery.lease_owner = None
    delivery.lease_expires_at = None
    notify_workers(session)
    record_activity(
        session,
        actor,
        "retried",
        delivery,
        summary=f"Webhook {delivery.event.type} to {delivery.endpoint.url} queued again",
    )
    return delivery
