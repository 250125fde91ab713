"""Payments and receipts (SPEC §5.3): record one against the balance, void it, never delete it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from shared import limits, money
from shared.activity import record_activity
from shared.actors import Actor, Notify
from shared.db import utcnow
from shared.documents.formatting import format_money, format_money_code
from shared.errors import Conflict, ValidationFailed
from shared.inputs import PaymentInput
from shared.lookups import get_or_404, get_settings
from shared.messages.queue import cancel_queued, queue_receipt_messages
from shared.models import Invoice, Payment, QueuedMessage
from shared.models.enums import PAYMENT_METHODS, WebhookEventType
from shared.numbering import next_number
from shared.parsing import FieldErrors, clean_text, to_date, to_decimal
from shared.representations import invoice_snapshot, payment_snapshot
from shared.transactions import unit_of_work
from shared.webhooks.events import emit_event


@unit_of_work
def record_payment(
    session: Session,
    *,
    actor: Actor,
    invoice_id: int,
    data: PaymentInput,
    notify: Notify = Notify(),
    today: dt.date | None = None,
) -> tuple[Payment, list[QueuedMessage]]:
    """Record money received, issue its receipt and move the invoice on.

    The invoice row is locked first, so two payments racing for the last of a
    balance are decided one after the other: the second sees the new balance.
    """
    today = today or dt.date.today()
    amount, paid_on, method = data.amount, data.paid_on, data.method
    invoice = get_or_404(session, Invoice, invoice_id, lock=True)
    if invoice.is_draft:
        raise Conflict("this invoice is a draft; issue it before recording a payment")
    if invoice.is_void:
        raise Conflict(f"invoice {invoice.number} is void; it takes no payments")

    errors = FieldErrors()
    with errors.collect():
        amount = to_decimal(amount, "amount", places=limits.DECIMAL_PLACES)
        exponent = money.currency_exponent(invoice.currency)
        if amount != amount.quantize(money.quantum(invoice.currency)):
            raise ValidationFailed.one("amount", f"must have at most {exponent} decimals in {invoice.currency}")
        if amount <= 0:
            raise ValidationFailed.one("amount", "must be more than 0")
    with errors.collect():
        paid_on = today if paid_on in (None, "") else to_date(paid_on, "paid_on")
        if paid_on > today:
            raise ValidationFailed.one("paid_on", "cannot be in the future")
        if paid_on < invoice.issue_date:
            raise ValidationFailed.one(
                "paid_on", f"cannot be before the invoice's issue date ({invoice.issue_date.isoformat()})"
            )
    if method not in PAYMENT_METHODS:
        errors.add("method", f"must be one of {', '.join(PAYMENT_METHODS)}")
    with errors.collect():
        reference = clean_text(data.reference, "reference", max_length=limits.PAYMENT_REFERENCE)
    with errors.collect():
        note = clean_text(data.note, "note", max_length=limits.PAYMENT_NOTE)
    with errors.collect():
        internal_note = clean_text(data.internal_note, "internal_note", max_length=limits.PAYMENT_INTERNAL_NOTE)
    errors.raise_if_any()

    if invoice.is_paid:
        raise Conflict(f"invoice {invoice.number} is already paid in full")
    if invoice.is_credited:
        raise Conflict(f"invoice {invoice.number} is settled by credit notes; nothing is owed")
    balance = invoice.balance_due
    if amount > balance:
        raise Conflict(
            f"the payment of {format_money_code(amount, invoice.currency)} is more than the balance due of "
            f"{format_money_code(balance, invoice.currency)}",
            field="amount",
        )

    settings = get_settings(session)
    payment = Payment(
        invoice=invoice,
        # The receipt is issued today, whatever date the money arrived: a late
        # entry never reopens a closed year's sequence.
        receipt_number=next_number(session, "receipt", today.year, settings.receipt_number_format),
        amount=amount,
        currency=invoice.currency,
        paid_on=paid_on,
        method=method,
        reference=reference,
        note=note,
        internal_note=internal_note,
        recorded_by=actor.label[:200],
    )
    session.add(payment)
    invoice.amount_paid = invoice.amount_paid + amount
    invoice.status = invoice.derived_status
    if invoice.balance_due <= 0:
        cancel_queued(session, invoice.id, ("reminder",), "invoice paid")
    session.flush()
    shown = format_money(amount, invoice.currency)
    record_activity(
        session,
        actor,
        "payment_recorded",
        invoice,
        invoice_id=invoice.id,
        client_id=invoice.client_id,
        summary=f"Payment of {shown} by {method.replace('_', ' ')}; receipt {payment.receipt_number}",
        details={"payment_id": payment.id},
    )
    messages = queue_receipt_messages(session, payment, notify, actor=actor) if notify else []
    emit_event(session, WebhookEventType.PAYMENT_RECORDED, lambda: payment_snapshot(session, payment))
    if invoice.is_paid:
        emit_event(session, WebhookEventType.INVOICE_PAID, lambda: invoice_snapshot(session, invoice))
    return payment, messages


@unit_of_work
def void_payment(session: Session, *, actor: Actor, payment_id: int, reason: str = "") -> Payment:
    """Void a payment: the balance returns to the invoice, the receipt shows VOID."""
    payment = get_or_404(session, Payment, payment_id)
    invoice = get_or_404(session, Invoice, payment.invoice_id, lock=True)
    session.refresh(payment, with_for_update=True)
    if payment.voided_at is not None:
        raise Conflict(f"payment {payment.receipt_number} is already void")
    reason = clean_text(reason, "reason", max_length=limits.VOID_REASON)
    payment.voided_at = utcnow()
    payment.voided_by = actor.label[:200]
    payment.void_reason = reason
    invoice.amount_paid = invoice.amount_paid - payment.amount
    invoice.status = invoice.derived_status
    cancel_queued(session, invoice.id, ("receipt",), "payment voided", payment_id=payment.id)
    record_activity(
        session,
        actor,
        "payment_voided",
        invoice,
        invoice_id=invoice.id,
        client_id=invoice.client_id,
        summary=f"Payment {payment.receipt_number} of {format_money(payment.amount, payment.currency)} voided"
        + (f": {reason}" if reason else ""),
        details={"payment_id": payment.id},
    )
    emit_event(session, WebhookEventType.PAYMENT_VOIDED, lambda: payment_snapshot(session, payment))
    return payment
