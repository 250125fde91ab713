"""The worker's half of the ``email_queue`` (SPEC §5.6, §8): claim, send, record.

Each message goes through three short transactions and one call outside any:

1. **claim**: due rows (``queued`` and due, or ``sending`` with an expired
   lease) are locked with ``FOR UPDATE SKIP LOCKED`` on Postgres (inside
   ``BEGIN IMMEDIATE`` on SQLite, the single-writer claim), marked
   ``sending`` under this worker's lease, and committed;
2. **build**: the row's e-mail or text is built in a read transaction, which
   ends before anything leaves the machine; the same read checks the lease is
   still this worker's and the message still wanted (the row is locked and
   written first only to cancel it, or to renew a lease of which a tenth has
   gone by);
3. **send** through the configured backend, with no transaction open;
4. **record** the outcome, only if the row is still leased by this worker.

A worker that dies mid-send leaves its rows ``sending``; once the lease runs
out, any worker claims them again. E-mails carry a Message-ID derived from the
row, so the rare second copy is recognisable.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from shared.activity import record_activity
from shared.actors import Actor
from shared.db import utcnow
from shared.documents import DocumentError
from shared.messages import (
    DeliveryCancelled,
    DeliveryError,
    EmailBackend,
    PermanentDeliveryError,
    SmsBackend,
    TemporaryDeliveryError,
    get_email_backend,
    get_sms_backend,
)
from shared.messages.compose import build_email, build_sms, check_recipient
from shared.models import Invoice, QueuedMessage
from shared.models.enums import MessageState, WebhookEventType
from shared.prepared import PREPARED, prepared
from shared.representations import notification_json
from shared.transactions import at_commit, atomic
from shared.webhooks.events import emit_event

log = logging.getLogger("shared.messages.delivery")

RETRY_BASE_SECONDS = 30
RETRY_CAP_SECONDS = 3600
BATCH_SIZE = 10

_random = random.Random()


@dataclass(frozen=True)
class DeliverySettings:
    lease_seconds: int = 120
    max_attempts: int = 8
    batch_size: int = BATCH_SIZE

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> DeliverySettings:
        return cls(
            lease_seconds=int(config.get("WORKER_LEASE_SECONDS") or 120),
            max_attempts=int(config.get("WORKER_MAX_ATTEMPTS") or 8),
        )


@dataclass
class Backends:
    """The e-mail and SMS backends one drain uses (connections are reused across messages)."""

    email: EmailBackend
    sms: SmsBackend

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Backends:
        return cls(email=get_email_backend(config), sms=get_sms_backend(config))

    def close(self) -> None:
        for backend in (self.email, self.sms):
            try:
                backend.close()
            except Exception:  # closing must never hide the outcome of the work
                log.warning("closing %s failed", type(backend).__name__, exc_info=True)


def retry_delay(attempt: int, *, rng: random.Random | None = None) -> dt.timedelta:
    """Exponential backoff with jitter: about 30 s, 1 min, 2 min, ... at most an hour.

    The jitter takes up to a quarter off each step, so messages that failed
    together do not all come back together, while every delay stays longer
    than the one before it (until the cap).
    """
    ceiling = min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2 ** max(0, attempt - 1))
    return dt.timedelta(seconds=ceiling * (0.75 + 0.25 * (rng or _random).random()))


@dataclass(frozen=True)
class LeasedQueue:
    """A table the worker drains under leases: its model and the states a row waits and works in.

    The e-mail and SMS queue and the webhook deliveries (``shared.webhooks.delivery``)
    share the claim, the lease and the hand-back below; each says how it gives up on a row.
    """

    model: Any
    waiting: str
    working: str

    def due(self, now: dt.datetime):
        model = self.model
        return or_(
            and_(model.state == self.waiting, model.next_attempt_at <= now),
            and_(model.state == self.working, model.lease_expires_at < now),
        )


def claim_due_rows(
    session: Session,
    queue: LeasedQueue,
    *,
    owner: str,
    give_up: Callable[[Session, Any, str, dt.datetime], None],
    limit: int = BATCH_SIZE,
    lease_seconds: int = 120,
    max_attempts: int = 8,
    now: dt.datetime | None = None,
) -> list[int]:
    """Lease up to ``limit`` due rows of ``queue`` to ``owner`` and commit; returns their ids.

    Rows whose earlier worker vanished (working, lease expired) are taken
    again, unless they already used every attempt: ``give_up`` ends those
    instead of letting workers that keep dying on them try forever.
    """
    now = now or utcnow()
    model = queue.model
    with atomic(session):
        candidates = session.execute(
            select(model.id, model.state, model.attempts)
            .where(queue.due(now))
            .order_by(model.next_attempt_at, model.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        exhausted = [c.id for c in candidates if c.state == queue.working and c.attempts >= max_attempts]
        claimed = [c.id for c in candidates if c.id not in exhausted]
        for row_id in exhausted:
            row = session.get(model, row_id)
            give_up(
                session,
                row,
                f"gave up after {row.attempts} attempts: the worker sending it stopped (lease expired)",
                now,
            )
        if claimed:
            session.execute(
                update(model)
                .where(model.id.in_(claimed))
                .values(
                    state=queue.working,
                    lease_owner=owner,
                    lease_expires_at=now + dt.timedelta(seconds=lease_seconds),
                    attempts=model.attempts + 1,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
    return claimed


def release_rows(session: Session, queue: LeasedQueue, row_ids: list[int], *, owner: str) -> int:
    """Hand back claimed rows not yet attempted (a worker shutting down), uncounted."""
    if not row_ids:
        return 0
    model = queue.model
    with atomic(session):
        result = session.execute(
            update(model)
            .where(model.id.in_(row_ids), model.state == queue.working, model.lease_owner == owner)
            .values(
                state=queue.waiting,
                lease_owner=None,
                lease_expires_at=None,
                attempts=model.attempts - 1,
                updated_at=utcnow(),
            )
            .execution_options(synchronize_session=False)
        )
    return result.rowcount or 0


def leased_row(session: Session, queue: LeasedQueue, row_id: int, owner: str) -> Any | None:
    """The row, locked, if ``owner`` still holds its lease; else None (another worker has it now)."""
    row = session.get(queue.model, row_id, with_for_update=True, populate_existing=True)
    if row is None or row.state != queue.working or row.lease_owner != owner:
        return None
    return row


MESSAGES = LeasedQueue(QueuedMessage, waiting=MessageState.QUEUED, working=MessageState.SENDING)


def claim_due_messages(
    session: Session,
    *,
    owner: str,
    limit: int = BATCH_SIZE,
    lease_seconds: int = 120,
    max_attempts: int = 8,
    now: dt.datetime | None = None,
) -> list[int]:
    """Lease up to ``limit`` due ``email_queue`` rows to ``owner`` and commit; returns their ids."""
    return claim_due_rows(
        session,
        MESSAGES,
        owner=owner,
        give_up=lambda session, row, error, now: _fail(session, row, error, owner=owner, now=now),
        limit=limit,
        lease_seconds=lease_seconds,
        max_attempts=max_attempts,
        now=now,
    )


def release_claims(session: Session, row_ids: list[int], *, owner: str) -> int:
    """Hand back claimed messages not yet attempted (a worker shutting down), uncounted."""
    return release_rows(session, MESSAGES, row_ids, owner=owner)


def _still_leased(session: Session, row_id: int, owner: str) -> QueuedMessage | None:
    return leased_row(session, MESSAGES, row_id, owner)


FRESH_LEASE = 0.9  # the share of the lease left, at least, for a message to go out without renewing it


def _leased_long_enough(row: QueuedMessage | None, owner: str, now: dt.datetime, settings: DeliverySettings) -> bool:
    """``owner`` holds the row's lease, nearly all of it still to run (as a renewal would leave it)."""
    return (
        row is not None
        and row.state == MessageState.SENDING
        and row.lease_owner == owner
        and row.lease_expires_at is not None
        and row.lease_expires_at - now >= dt.timedelta(seconds=settings.lease_seconds * FRESH_LEASE)
    )


def _no_longer_wanted(row: QueuedMessage) -> str | None:
    """Why a claimed row should not go out after all (its invoice changed meanwhile).

    A statement names a client, not an invoice: it is built when sent and is
    always still wanted (it shows the account as of the day it was queued).
    """
    invoice = row.invoice
    if invoice is None:
        return None
    if row.kind in ("invoice", "reminder") and invoice.is_void:
        return "invoice voided"
    if row.kind == "reminder":
        if not invoice.can_take_payment:
            return "invoice paid"
        if invoice.client is not None and invoice.client.reminders_opt_out:
            return "client opted out of reminders"
        if row.channel == "sms" and invoice.client is not None and not invoice.client.sms_opt_in:
            return "client opted out of SMS"
    if row.kind == "receipt" and row.payment is not None and row.payment.is_void:
        return "payment voided"
    return None


def _describe(row: QueuedMessage) -> str:
    what = {
        "invoice": "Invoice",
        "receipt": "Receipt",
        "reminder": "Reminder",
        "statement": "Statement of account",
        "quote": "Quote",
    }.get(row.kind, row.kind.capitalize())
    if row.kind == "receipt" and row.payment is not None:
        what = f"Receipt {row.payment.receipt_number}"
    elif row.kind == "credit_note" and row.credit_note is not None:
        what = f"Credit note {row.credit_note.number}"
    elif row.kind == "reminder" and row.reminder_stage:
        what = f"Reminder (stage {row.reminder_stage})"
    how = "e-mail" if row.channel == "email" else "SMS"
    return f"{what} {how} to {row.recipient}"


def _close(
    session: Session, row: QueuedMessage, state: MessageState, verb: str, reason: str, *, owner: str, now: dt.datetime
) -> None:
    """End a row that will not be sent (failed or cancelled), with its reason on the row and the timeline."""
    row.state = state
    row.last_error = reason
    row.lease_expires_at = None
    row.updated_at = now
    record_activity(
        session,
        Actor.worker(owner),
        verb,
        row,
        invoice_id=row.invoice_id,
        client_id=row.client_id,
        summary=f"{_describe(row)} {state}: {reason}",
    )


def _fail(session: Session, row: QueuedMessage, error: str, *, owner: str, now: dt.datetime) -> None:
    _close(session, row, MessageState.FAILED, "delivery_failed", error, owner=owner, now=now)
    emit_event(session, WebhookEventType.MESSAGE_FAILED, lambda: notification_json(row))


def _cancel(session: Session, row: QueuedMessage, reason: str, *, owner: str, now: dt.datetime) -> None:
    _close(session, row, MessageState.CANCELLED, "cancelled", reason, owner=owner, now=now)  # not a state: the verb


@dataclass
class _Attempt:
    row_id: int
    document: str = "-"
    kind: str = "-"
    channel: str = "-"
    attempt: int = 0
    outcome: str = "lost"
    detail: str = ""


def deliver_message(
    session: Session,
    row_id: int,
    *,
    owner: str,
    config: Mapping[str, Any],
    backends: Backends,
    settings: DeliverySettings | None = None,
    now: dt.datetime | None = None,
) -> str:
    """Build and send one claimed row, then record what happened.

    Returns the outcome: ``sent``, ``retry``, ``failed``, ``cancelled`` or
    ``lost`` (the lease passed to another worker; nothing is recorded).
    """
    settings = settings or DeliverySettings.from_config(config)
    clock = (lambda: now) if now is not None else utcnow
    started = time.monotonic()
    attempt = _Attempt(row_id)

    # 1. Check the lease is still ours and the message still wanted. Usually a read, in the
    # transaction that builds the message: the claim leased the batch a moment ago, and no
    # one else may take a row while its lease runs. Only when a tenth of the lease has gone
    # by, or the message is no longer wanted, is the row locked and written (renewed or
    # cancelled) in a transaction of its own, which costs a commit.
    row = session.get(QueuedMessage, row_id, populate_existing=True, execution_options=PREPARED)
    if not _leased_long_enough(row, owner, clock(), settings) or _no_longer_wanted(row):
        session.rollback()
        with atomic(session):
            row = _still_leased(session, row_id, owner)
            if row is not None:
                row.lease_expires_at = clock() + dt.timedelta(seconds=settings.lease_seconds)
                reason = _no_longer_wanted(row)
                if reason:
                    attempt.kind, attempt.channel, attempt.attempt = row.kind, row.channel, row.attempts
                    attempt.document = _document_number(row)
                    _cancel(session, row, reason, owner=owner, now=clock())
                    attempt.outcome, attempt.detail = MessageState.CANCELLED, reason
        if row is None or attempt.outcome == MessageState.CANCELLED:
            _log_attempt(attempt, started)
            return attempt.outcome
        row = session.get(QueuedMessage, row_id)
    attempt.kind, attempt.channel, attempt.attempt = row.kind, row.channel, row.attempts
    attempt.document = _document_number(row)

    # 2. Build the message in a read transaction that ends before sending.
    error: DeliveryError | None = None
    payload: Any = None
    recipient = ""
    sent = None
    try:
        sent = _Sent.of(row)  # what recording a sent message needs, read while the row is loaded
        recipient = row.recipient
        check_recipient(row.channel, recipient)  # a malformed address fails at once, whatever the backend
        if row.channel == "email":
            payload = build_email(session, row, config, now=clock())
        else:
            payload = build_sms(session, row, config, now=clock())
    except DeliveryError as exc:
        error = exc
    except DocumentError as exc:
        error = PermanentDeliveryError(str(exc))
    except SQLAlchemyError:
        session.rollback()
        raise  # the database is in trouble; the lease brings the row back later
    except Exception as exc:
        log.exception("building message %s failed", row_id)
        error = TemporaryDeliveryError(f"could not build the message: {type(exc).__name__}: {exc}")
    finally:
        session.rollback()

    # 3. Send, with no transaction open.
    provider_id = ""
    if error is None:
        try:
            if attempt.channel == "email":
                provider_id = backends.email.send(payload, recipient)
            else:
                provider_id = backends.sms.send(recipient, payload, reference=f"email-queue-{row_id}")
        except DeliveryError as exc:
            error = exc
        except Exception as exc:  # a backend bug must not lose the row
            log.exception("sending message %s failed unexpectedly", row_id)
            error = TemporaryDeliveryError(f"unexpected error while sending: {type(exc).__name__}")

    # 4. Record the outcome, if the row is still ours.
    message_id = payload["Message-ID"] if attempt.channel == "email" and payload is not None else None
    attempt.outcome, attempt.detail = _record(
        session,
        row_id,
        owner=owner,
        settings=settings,
        now=clock(),
        error=error,
        provider_id=provider_id,
        message_id=message_id,
        sent=sent,
    )
    _log_attempt(attempt, started)
    return attempt.outcome


@dataclass(frozen=True)
class _Sent:
    """A claimed row as recording its successful send needs it (the timeline's subject and summary)."""

    id: int
    kind: str
    channel: str
    invoice_id: int | None
    client_id: int | None
    summary: str
    activity_subject = QueuedMessage.activity_subject

    @classmethod
    def of(cls, row: QueuedMessage) -> _Sent:
        return cls(row.id, row.kind, row.channel, row.invoice_id, row.client_id, _describe(row))


# Built once, and sent prepared (shared.prepared): every sent message is recorded with these (SPEC §9's worker
# overhead).
_MARK_SENT = prepared(
    update(QueuedMessage)
    .where(
        QueuedMessage.id == bindparam("row_key"),
        QueuedMessage.state == MessageState.SENDING,
        QueuedMessage.lease_owner == bindparam("lease_holder"),
    )
    .values(
        state=MessageState.SENT,
        sent_at=bindparam("sent_time"),
        provider_message_id=bindparam("provider_key"),
        message_id=bindparam("header_id"),
        last_error=None,
        lease_expires_at=None,
        updated_at=bindparam("sent_time"),
    )
    .execution_options(synchronize_session=False)
)
# Sent with the commit: nothing reads it back. As Invoice's listener does, the reminder day is worked out again.
_EMAILED = (
    update(Invoice)
    .where(Invoice.id == bindparam("emailed_invoice"))
    .values(last_emailed_at=bindparam("emailed_time"), next_reminder_on=None, updated_at=bindparam("emailed_time"))
)


def _document_number(row: QueuedMessage) -> str:
    if row.kind == "receipt" and row.payment is not None:
        return row.payment.receipt_number
    if row.kind == "credit_note" and row.credit_note is not None:
        return row.credit_note.number
    if row.invoice is not None and row.invoice.number:
        return row.invoice.number
    if row.kind == "quote" and row.quote is not None and row.quote.number:
        return row.quote.number
    if row.kind == "statement" and row.client_id is not None:
        return f"statement:client-{row.client_id}"
    return "-"


def _record(
    session: Session,
    row_id: int,
    *,
    owner: str,
    settings: DeliverySettings,
    now: dt.datetime,
    error: DeliveryError | None,
    provider_id: str,
    message_id: str | None,
    sent: _Sent | None,
) -> tuple[str, str]:
    if error is None:  # sent: _Sent was read with the row, before the build could fail
        return _record_sent(session, sent, owner=owner, now=now, provider_id=provider_id, message_id=message_id)
    with atomic(session):
        row = _still_leased(session, row_id, owner)
        if row is None:
            return "lost", "the lease passed to another worker before the outcome was recorded"
        if isinstance(error, DeliveryCancelled):
            _cancel(session, row, error.message, owner=owner, now=now)
            return MessageState.CANCELLED, error.message
        if isinstance(error, PermanentDeliveryError):
            _fail(session, row, error.message, owner=owner, now=now)
            return MessageState.FAILED, error.message
        if row.attempts >= settings.max_attempts:
            _fail(session, row, f"{error.message} (gave up after {row.attempts} attempts)", owner=owner, now=now)
            return MessageState.FAILED, error.message
        delay = retry_delay(row.attempts)
        row.state = MessageState.QUEUED
        row.next_attempt_at = now + delay
        row.last_error = error.message
        row.lease_expires_at = None
        row.updated_at = now
        return "retry", f"next attempt in {int(delay.total_seconds())} s: {error.message}"


def _record_sent(
    session: Session, sent: _Sent, *, owner: str, now: dt.datetime, provider_id: str, message_id: str | None
) -> tuple[str, str]:
    """Mark the row sent if ``owner`` still holds its lease: one conditional UPDATE, the rest with the commit."""
    provider = (provider_id or "")[:255] or None
    with atomic(session):
        marked = session.execute(
            _MARK_SENT,
            {
                "row_key": sent.id,
                "lease_holder": owner,
                "sent_time": now,
                "provider_key": provider,
                "header_id": message_id,
            },
        ).rowcount
        if not marked:
            return "lost", "the lease passed to another worker before the outcome was recorded"
        if sent.kind == "invoice" and sent.channel == "email" and sent.invoice_id is not None:
            at_commit(session, _EMAILED, {"emailed_invoice": sent.invoice_id, "emailed_time": now})
        verb = "reminder_sent" if sent.kind == "reminder" else "sent"  # not a state: activity verbs
        record_activity(
            session,
            Actor.worker(owner),
            verb,
            sent,
            invoice_id=sent.invoice_id,
            client_id=sent.client_id,
            summary=sent.summary,
        )
    return MessageState.SENT, f"provider_id={provider}"


def _log_attempt(attempt: _Attempt, started: float) -> None:
    duration_ms = int((time.monotonic() - started) * 1000)
    level = logging.INFO if attempt.outcome in (MessageState.SENT, MessageState.CANCELLED) else logging.WARNING
    log.log(
        level,
        "delivery row=%s document=%s kind=%s channel=%s attempt=%s outcome=%s duration_ms=%d %s",
        attempt.row_id,
        attempt.document,
        attempt.kind,
        attempt.channel,
        attempt.attempt,
        attempt.outcome,
        duration_ms,
        attempt.detail,
    )


def drain_queue(
    session: Session,
    *,
    owner: str,
    config: Mapping[str, Any],
    backends: Backends | None = None,
    now: dt.datetime | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> Counter[str]:
    """Deliver every message due now, batch by batch, until none is left (or asked to stop).

    Returns how many messages ended in each outcome. With ``now`` given, time
    stands still (tests drive retries by passing later times).
    """
    settings = DeliverySettings.from_config(config)
    own_backends = backends is None
    backends = backends or Backends.from_config(config)
    outcomes: Counter[str] = Counter()
    try:
        while not should_stop():
            claimed = claim_due_messages(
                session,
                owner=owner,
                limit=settings.batch_size,
                lease_seconds=settings.lease_seconds,
                max_attempts=settings.max_attempts,
                now=now,
            )
            if not claimed:
                break
            for index, row_id in enumerate(claimed):
                if should_stop():
                    release_claims(session, claimed[index:], owner=owner)
                    break
                outcomes[
                    deliver_message(
                        session, row_id, owner=owner, config=config, backends=backends, settings=settings, now=now
                    )
                ] += 1
    finally:
        if own_backends:
            backends.close()
    return outcomes
