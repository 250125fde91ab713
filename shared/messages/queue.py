"""Queue rows of the ``email_queue`` table, written inside the caller's transaction."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared.activity import record_activity
from shared.actors import Actor, Notify
from shared.db import utcnow
from shared.errors import Conflict, ValidationFailed
from shared.lookups import get_or_404
from shared.models import Client, CreditNote, Invoice, Payment, QueuedMessage, Quote
from shared.models.enums import MessageState
from shared.models.persist import insert_new
from shared.transactions import notify_at_commit, unit_of_work

NOTIFY_CHANNEL = "email_queue"


def notify_workers(session: Session) -> None:
    """Wake waiting workers once this transaction commits (Postgres LISTEN/NOTIFY).

    NOTIFY is transactional: it is delivered at COMMIT and dropped on rollback,
    so a worker never wakes for a row that was not written. It goes out once
    per transaction, with the commit's last statement. Elsewhere workers poll.
    """
    notify_at_commit(session, NOTIFY_CHANNEL)


def reachable(client: Client | dict) -> Notify:
    """The channels that can reach a client (or an invoice's billed-to copy): e-mail needs an address, SMS a phone."""
    email = client["email"] if isinstance(client, dict) else client.email
    phone = client["phone"] if isinstance(client, dict) else client.phone
    return Notify(email=bool(email), sms=bool(phone))


def _recipients(client: Client | dict, notify: Notify, prefix: str = "notify") -> list[tuple[str, str]]:
    email = client["email"] if isinstance(client, dict) else client.email
    phone = client["phone"] if isinstance(client, dict) else client.phone
    can = reachable(client)
    found: list[tuple[str, str]] = []
    if notify.email:
        if not can.email:
            raise ValidationFailed.one(f"{prefix}.email", "the client has no e-mail address")
        found.append(("email", email))
    if notify.sms:
        if not can.sms:
            raise ValidationFailed.one(f"{prefix}.sms", "the client has no phone number")
        found.append(("sms", phone))
    return found


def _queue(session: Session, invoice: Invoice, notify: Notify, *, actor: Actor, **fields) -> list[QueuedMessage]:
    """One row per chosen channel to the invoice's client, added to the caller's transaction; the worker is woken."""
    rows = [
        QueuedMessage(
            channel=channel,
            recipient=recipient,
            invoice_id=invoice.id,
            client_id=invoice.client_id,
            requested_by=actor.label[:200],
            **fields,
        )
        for channel, recipient in _recipients(invoice.billed_to, notify)
    ]
    insert_new(session, rows)
    if rows:
        notify_workers(session)
    return rows


def queue_invoice_messages(
    session: Session, invoice: Invoice, notify: Notify, *, actor: Actor, kind: str = "invoice"
) -> list[QueuedMessage]:
    """Queue the invoice to its client on the chosen channels."""
    return _queue(session, invoice, notify, actor=actor, kind=kind)


def queue_receipt_messages(session: Session, payment: Payment, notify: Notify, *, actor: Actor) -> list[QueuedMessage]:
    """Queue a payment's receipt to the client on the chosen channels."""
    return _queue(session, payment.invoice, notify, actor=actor, kind="receipt", payment_id=payment.id)


def queue_credit_note_messages(
    session: Session, credit_note: CreditNote, notify: Notify, *, actor: Actor
) -> list[QueuedMessage]:
    """Queue a credit note to the client by e-mail (SPEC §11: e-mailed like an invoice; no SMS)."""
    if notify.sms:
        raise ValidationFailed.one("notify.sms", "credit notes are sent by e-mail only")
    return _queue(session, credit_note.invoice, notify, actor=actor, kind="credit_note", credit_note_id=credit_note.id)


def queue_quote_messages(session: Session, quote: Quote, notify: Notify, *, actor: Actor) -> list[QueuedMessage]:
    """Queue a quote (with its PDF and a link to its public page) to the client by e-mail."""
    rows = [
        QueuedMessage(
            kind="quote",
            channel=channel,
            recipient=recipient,
            quote_id=quote.id,
            client_id=quote.client_id,
            requested_by=actor.label[:200],
        )
        for channel, recipient in _recipients(quote.billed_to, notify)
    ]
    insert_new(session, rows)
    if rows:
        notify_workers(session)
    return rows


def messages_for_quote(session: Session, quote_id: int) -> list[QueuedMessage]:
    return list(
        session.execute(
            select(QueuedMessage).where(QueuedMessage.quote_id == quote_id).order_by(QueuedMessage.id)
        ).scalars()
    )


@unit_of_work
def queue_statement(session: Session, *, actor: Actor, client_id: int, notify: Notify) -> list[QueuedMessage]:
    """Queue a client's statement of account by e-mail, with its activity entry, in one transaction.

    The worker builds the statement when it sends, as of the day the row was
    queued, so every retry attaches the same PDF. Statements go by e-mail only:
    a running balance does not fit a text message.
    """
    client = get_or_404(session, Client, client_id, label="client")
    if notify.sms:
        raise ValidationFailed.one("notify.sms", "statements are sent by e-mail only")
    if not notify.email:
        raise ValidationFailed.one("notify.email", "choose e-mail to send the statement")
    issued = session.scalar(select(Invoice.id).where(Invoice.client_id == client.id, Invoice.is_issued).limit(1))
    if issued is None:
        raise Conflict(f"{client.name} has no issued invoices; there is no statement to send")
    rows = [
        QueuedMessage(
            kind="statement",
            channel=channel,
            recipient=recipient,
            client_id=client.id,
            requested_by=actor.label[:200],
        )
        for channel, recipient in _recipients(client, notify)
    ]
    session.add_all(rows)
    notify_workers(session)
    record_activity(
        session,
        actor,
        "statement_queued",
        client,
        client_id=client.id,
        summary="Statement of account queued by e-mail to " + ", ".join(row.recipient for row in rows),
    )
    return rows


def cancel_queued(
    session: Session, invoice_id: int, kinds: tuple[str, ...], reason: str, *, payment_id: int | None = None
) -> int:
    """Cancel rows not yet taken by a worker (a paid invoice needs no reminder).

    With ``payment_id`` only that payment's rows go (voiding one payment must
    not silence the receipt of another).
    """
    conditions = [
        QueuedMessage.invoice_id == invoice_id,
        QueuedMessage.kind.in_(kinds),
        QueuedMessage.state == MessageState.QUEUED,
    ]
    if payment_id is not None:
        conditions.append(QueuedMessage.payment_id == payment_id)
    result = session.execute(
        update(QueuedMessage)
        .where(*conditions)
        .values(state=MessageState.CANCELLED, last_error=reason, updated_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount or 0


def messages_for_invoice(session: Session, invoice_id: int) -> list[QueuedMessage]:
    return list(
        session.execute(
            select(QueuedMessage).where(QueuedMessage.invoice_id == invoice_id).order_by(QueuedMessage.id)
        ).scalars()
    )


@unit_of_work
def retry_message(session: Session, *, actor: Actor, message_id: int) -> QueuedMessage:
    """Put a failed (or cancelled) row back in the queue for another round of attempts."""
    row = get_or_404(session, QueuedMessage, message_id, lock=True, label="notification")
    if not row.can_retry:
        raise Conflict(f"notification {row.id} is {row.state}; only failed or cancelled ones can be retried")
    if row.invoice is not None and row.invoice.is_void and row.kind != "receipt":
        raise Conflict(f"invoice {row.invoice.number} is void; its messages cannot be sent again")
    row.state = MessageState.QUEUED
    row.attempts = 0
    row.next_attempt_at = utcnow()
    row.lease_owner = None
    row.lease_expires_at = None
    notify_workers(session)
    if row.invoice is not None or row.client_id is not None:
        record_activity(
            session,
            actor,
            "retried",
            row,
            invoice_id=row.invoice_id,
            client_id=row.client_id,
            summary=f"{row.kind.capitalize()} {row.channel} to {row.recipient} queued again",
        )
    return row


@unit_of_work
def cancel_message(session: Session, *, actor: Actor, message_id: int) -> QueuedMessage:
    row = get_or_404(session, QueuedMessage, message_id, lock=True, label="notification")
    if not row.can_cancel:
        raise Conflict(f"notification {row.id} is {row.state}; only queued ones can be cancelled")
    row.state = MessageState.CANCELLED
    row.last_error = f"cancelled by {actor.label}"
    record_activity(
        session,
        actor,
        "cancelled",  # not a state: the activity verb
        row,
        invoice_id=row.invoice_id,
        client_id=row.client_id,
        summary=f"{row.kind.capitalize()} {row.channel} to {row.recipient} cancelled",
    )
    return row
