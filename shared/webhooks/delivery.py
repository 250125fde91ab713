"""The worker's half of the webhooks (SPEC §15): claim, sign, POST, record.

The same life as an e-mail (``shared.messages.delivery``, whose lease, claim,
backoff and attempt limit this reuses): due deliveries are leased and
committed; the endpoint's URL is checked again after DNS resolution and the
signed body is POSTed to the checked address with no transaction open; the
outcome is recorded only if this worker still holds the lease. A 2xx answer is
``delivered``; any other answer, a timeout or a refused connection is retried
with the e-mail backoff until ``WORKER_MAX_ATTEMPTS``, then ``failed``; a
target refused as private fails at once. Redirects are not followed. A worker
that dies mid-send leaves the row ``delivering`` until its lease runs out, then
another worker sends it again: receivers deduplicate by ``webhook-id``.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import urllib3
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook

from shared import limits
from shared.db import utcnow
from shared.messages.delivery import (
    DeliverySettings,
    LeasedQueue,
    claim_due_rows,
    leased_row,
    release_rows,
    retry_delay,
)
from shared.messages.errors import DeliveryError, PermanentDeliveryError, TemporaryDeliveryError
from shared.models import WebhookDelivery
from shared.models.enums import WebhookDeliveryState, WebhookEventType
from shared.transactions import atomic
from shared.webhooks.targets import Target, TargetRefused, TargetUnresolved, check_target

log = logging.getLogger("shared.webhooks.delivery")

DEFAULT_TIMEOUT_SECONDS = 10
# A delivery's lease outlasts its request by this much (DNS, recording the outcome).
LEASE_MARGIN_SECONDS = 5
USER_AGENT = "invoicing-webhooks/1"

DELIVERIES = LeasedQueue(WebhookDelivery, waiting=WebhookDeliveryState.PENDING, working=WebhookDeliveryState.DELIVERING)


@dataclass(frozen=True)
class WebhookSettings:
    """The e-mail queue's lease and attempts, the request timeout, and whether private targets are allowed."""

    delivery: DeliverySettings
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    allow_private: bool = False

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> WebhookSettings:
        return cls(
            delivery=DeliverySettings.from_config(config),
            timeout_seconds=float(config.get("WEBHOOK_TIMEOUT_SECONDS") or DEFAULT_TIMEOUT_SECONDS),
            allow_private=bool(config.get("WEBHOOK_ALLOW_PRIVATE")),
        )

    @property
    def lease_seconds(self) -> int:
        """Never shorter than the request's timeout plus a margin (SPEC §15)."""
        return max(self.delivery.lease_seconds, int(self.timeout_seconds) + 1 + LEASE_MARGIN_SECONDS)


@dataclass(frozen=True)
class Answer:
    """What the receiver said: its status and the first 1 KB of its body."""

    status: int
    body: str

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300


def signed_headers(secret: str, event_id: str, body: str, *, at: dt.datetime) -> dict[str, str]:
    """The Standard Webhooks headers: id, Unix timestamp and ``v1,<base64 HMAC-SHA256>`` of ``id.timestamp.body``."""
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(event_id, at, body),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


def post(target: Target, body: bytes, headers: dict[str, str], *, timeout: float) -> Answer:
    """POST to the checked address (never re-resolved), no redirects, at most ``timeout`` seconds in all."""
    pool_class = urllib3.HTTPSConnectionPool if target.scheme == "https" else urllib3.HTTPConnectionPool
    options: dict[str, Any] = {}
    if target.scheme == "https":
        options = {"server_hostname": target.host, "assert_hostname": target.host, "cert_reqs": "CERT_REQUIRED"}
    pool = pool_class(
        str(target.address), target.port, timeout=urllib3.Timeout(total=timeout), retries=False, maxsize=1, **options
    )
    try:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body,
            headers={**headers, "host": target.host_header},
            redirect=False,
            retries=False,
            preload_content=False,
            assert_same_host=False,
        )
        try:
            head = response.read(limits.WEBHOOK_RESPONSE_KEPT, decode_content=False) or b""
        except urllib3.exceptions.HTTPError:
            head = b""
        finally:
            response.release_conn()
        return Answer(response.status, head[: limits.WEBHOOK_RESPONSE_KEPT].decode("utf-8", errors="replace"))
    except urllib3.exceptions.TimeoutError:
        raise TemporaryDeliveryError(f"no answer within {timeout:g} s (timed out)") from None
    except urllib3.exceptions.HTTPError as exc:
        reason = getattr(exc, "reason", None) or exc
        raise TemporaryDeliveryError(f"could not connect: {type(reason).__name__}: {reason}"[:500]) from None
    finally:
        pool.close()


def claim_due_deliveries(
    session: Session, *, owner: str, settings: WebhookSettings, now: dt.datetime | None = None
) -> list[int]:
    """Lease a batch of due deliveries to ``owner`` (the e-mail queue's claim, on this table)."""
    return claim_due_rows(
        session,
        DELIVERIES,
        owner=owner,
        give_up=lambda session, row, error, now: _fail(row, error, now=now),
        limit=settings.delivery.batch_size,
        lease_seconds=settings.lease_seconds,
        max_attempts=settings.delivery.max_attempts,
        now=now,
    )


def _fail(row: WebhookDelivery, error: str, *, now: dt.datetime) -> None:
    row.state = WebhookDeliveryState.FAILED
    row.last_error = error[:2000]
    row.lease_expires_at = None
    row.updated_at = now


@dataclass
class _Attempt:
    row_id: int
    event_id: str = "-"
    event_type: str = "-"
    url: str = "-"
    attempt: int = 0
    outcome: str = "lost"
    detail: str = ""


def deliver_webhook(
    session: Session,
    row_id: int,
    *,
    owner: str,
    settings: WebhookSettings,
    now: dt.datetime | None = None,
    send: Callable[..., Answer] = post,
) -> str:
    """Sign and send one claimed delivery, then record what happened.

    Returns ``delivered``, ``retry``, ``failed`` or ``lost`` (the lease passed
    to another worker; nothing is recorded).
    """
    clock = (lambda: now) if now is not None else utcnow
    started = time.monotonic()
    attempt = _Attempt(row_id)

    # 1. Renew the lease and read what to send, in a transaction that ends before sending.
    with atomic(session):
        row = leased_row(session, DELIVERIES, row_id, owner)
        if row is not None:
            row.lease_expires_at = clock() + dt.timedelta(seconds=settings.lease_seconds)
            endpoint, event = row.endpoint, row.event
            attempt.event_id, attempt.event_type, attempt.url = event.event_id, event.type, endpoint.url
            attempt.attempt = row.attempts
            url, secret, body, enabled = endpoint.url, endpoint.secret, event.body, endpoint.enabled
    if row is None:
        _log_attempt(attempt, started)
        return attempt.outcome

    # 2. Check the target after resolving it, and send with no transaction open.
    error: DeliveryError | None = None
    answer: Answer | None = None
    try:
        if not enabled and attempt.event_type != WebhookEventType.TEST:  # a test event goes to a disabled one too
            raise PermanentDeliveryError("the endpoint is disabled")
        try:
            target = check_target(url, allow_private=settings.allow_private)
        except TargetUnresolved as exc:
            raise TemporaryDeliveryError(str(exc)) from None
        except TargetRefused as exc:
            raise PermanentDeliveryError(f"refused: {exc}") from None
        headers = signed_headers(secret, attempt.event_id, body, at=dt.datetime.now(dt.UTC))
        answer = send(target, body.encode("utf-8"), headers, timeout=settings.timeout_seconds)
        if not answer.accepted:
            error = TemporaryDeliveryError(f"the endpoint answered {answer.status}")
    except DeliveryError as exc:
        error = exc
    except SQLAlchemyError:
        session.rollback()
        raise
    except Exception as exc:  # a bug here must not lose the delivery
        log.exception("sending webhook delivery %s failed unexpectedly", row_id)
        error = TemporaryDeliveryError(f"unexpected error while sending: {type(exc).__name__}")

    # 3. Record the outcome, if the row is still ours.
    attempt.outcome, attempt.detail = _record(
        session, row_id, owner=owner, settings=settings, now=clock(), error=error, answer=answer
    )
    _log_attempt(attempt, started)
    return attempt.outcome


def _record(
    session: Session,
    row_id: int,
    *,
    owner: str,
    settings: WebhookSettings,
    now: dt.datetime,
    error: DeliveryError | None,
    answer: Answer | None,
) -> tuple[str, str]:
    with atomic(session):
        row = leased_row(session, DELIVERIES, row_id, owner)
        if row is None:
            return "lost", "the lease passed to another worker before the outcome was recorded"
        row.last_status = answer.status if answer is not None else None
        row.last_response = answer.body if answer is not None else None
        row.lease_expires_at = None
        row.updated_at = now
        if error is None:
            row.state = WebhookDeliveryState.DELIVERED
            row.delivered_at = now
            row.last_error = None
            return WebhookDeliveryState.DELIVERED, f"status={row.last_status}"
        if isinstance(error, PermanentDeliveryError):
            _fail(row, error.message, now=now)
            return WebhookDeliveryState.FAILED, error.message
        if row.attempts >= settings.delivery.max_attempts:
            _fail(row, f"{error.message} (gave up after {row.attempts} attempts)", now=now)
            return WebhookDeliveryState.FAILED, error.message
        delay = retry_delay(row.attempts)
        row.state = WebhookDeliveryState.PENDING
        row.next_attempt_at = now + delay
        row.last_error = error.message[:2000]
        return "retry", f"next attempt in {int(delay.total_seconds())} s: {error.message}"


def _log_attempt(attempt: _Attempt, started: float) -> None:
    duration_ms = int((time.monotonic() - started) * 1000)
    level = logging.INFO if attempt.outcome == WebhookDeliveryState.DELIVERED else logging.WARNING
    log.log(
        level,
        "webhook delivery=%s event=%s type=%s url=%s attempt=%s outcome=%s duration_ms=%d %s",
        attempt.row_id,
        attempt.event_id,
        attempt.event_type,
        attempt.url,
        attempt.attempt,
        attempt.outcome,
        duration_ms,
        attempt.detail,
    )


def drain_webhooks(
    session: Session,
    *,
    owner: str,
    config: Mapping[str, Any],
    now: dt.datetime | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    send: Callable[..., Answer] = post,
) -> Counter[str]:
    """Deliver every webhook due now, batch by batch, until none is left (or asked to stop).

    With ``now`` given, time stands still (tests drive retries by passing later times).
    """
    settings = WebhookSettings.from_config(config)
    outcomes: Counter[str] = Counter()
    while not should_stop():
        claimed = claim_due_deliveries(session, owner=owner, settings=settings, now=now)
        if not claimed:
            break
        for index, row_id in enumerate(claimed):
            if should_stop():
                release_rows(session, DELIVERIES, claimed[index:], owner=owner)
                break
            outcomes[deliver_webhook(session, row_id, owner=owner, settings=settings, now=now, send=send)] += 1
    return outcomes
