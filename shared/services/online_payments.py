"""Online payments (SPEC §14): money Stripe reports for an invoice, recorded once per event.

One use case, ``record_online_payment``: the part of the amount the invoice's
balance can take becomes a payment (method ``online``, reference = the payment
intent id) with its receipt and receipt e-mail, through ``record_payment``;
the rest becomes client credit (SPEC §11) through ``credit_online_overpayment``.
The event id is stored unique in the same transaction, so a redelivered event
changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import money
from shared.activity import record_activity
from shared.actors import Actor, Notify
from shared.documents.formatting import format_money
from shared.errors import Conflict
from shared.inputs import OnlinePaymentInput, PaymentInput
from shared.lookups import get_or_404
from shared.messages.queue import reachable
from shared.models import Invoice, Payment, StripeEvent
from shared.services.credit_notes import credit_online_overpayment
from shared.services.payments import record_payment
from shared.transactions import unit_of_work

ONLINE = "online"  # the payment method (shared.models.enums.PAYMENT_METHODS) of money paid through Stripe


def stripe_actor() -> Actor:
    """Who records a payment Stripe reports: shown on the receipt's "recorded by" and the timeline."""
    return Actor.system("Stripe")


@dataclass(frozen=True)
class OnlinePaymentOutcome:
    """What one event did: the payment recorded (None when the invoice could take nothing) and the excess."""

    event: StripeEvent
    payment: Payment | None
    to_credit: Decimal


@unit_of_work
def record_online_payment(
    session: Session, *, actor: Actor, data: OnlinePaymentInput, today: dt.date | None = None
) -> OnlinePaymentOutcome | None:
    """Record the money of one Stripe event; None when this event was recorded before (a redelivery).

    The invoice row is locked first: two events for one invoice are decided one
    after the other, so together they never record more than its balance, and
    the second delivery of one event finds the first's row and stops.
    """
    invoice = get_or_404(session, Invoice, data.invoice_id, lock=True)
    seen = session.scalar(select(StripeEvent.id).where(StripeEvent.event_id == data.event_id))
    if seen is not None:
        return None
    if data.currency != invoice.currency:
        raise Conflict(f"the payment is in {data.currency} but invoice {invoice.number} is in {invoice.currency}")
    amount = money.from_minor_units(data.amount_minor, invoice.currency)
    # A void, paid or credited invoice takes nothing: all of it is the client's credit.
    applied = min(amount, invoice.balance_due) if invoice.can_take_payment else Decimal(0)
    payment = None
    if applied > 0:
        # The event's UTC day may be the day before a local issue date or after the local today.
        paid_on = max(data.paid_on, invoice.issue_date)
        payment, _ = record_payment(
            session,
            actor=actor,
            invoice_id=invoice.id,
            data=PaymentInput(amount=applied, paid_on=paid_on, method=ONLINE, reference=data.payment_intent),
            notify=Notify(email=reachable(invoice.billed_to).email),
            today=max(today or dt.date.today(), paid_on),
        )
    excess = money.round_money(amount - applied, invoice.currency)
    event = StripeEvent(
        event_id=data.event_id,
        event_type=data.event_type,
        invoice_id=invoice.id,
        payment_id=payment.id if payment else None,
        payment_intent=data.payment_intent,
        amount=amount,
        currency=invoice.currency,
        to_credit=excess,
    )
    session.add(event)
    session.flush()  # the unique event id is checked here, inside the payment's transaction
    receipt = f"; receipt {payment.receipt_number}" if payment else ""
    record_activity(
        session,
        actor,
        "online_payment",
        invoice,
        invoice_id=invoice.id,
        client_id=invoice.client_id,
        summary=f"Paid online: {format_money(amount, invoice.currency)}, payment intent {data.payment_intent}"
        + receipt,
        details={"event_id": data.event_id, "payment_intent": data.payment_intent, "stripe_event": event.id},
    )
    if excess > 0:
        # SPEC §11: what the balance could not take (paid twice, paid another way, credited, void) is client credit.
        credit_online_overpayment(
            session,
            actor=actor,
            client_id=invoice.client_id,
            currency=invoice.currency,
            amount=excess,
            payment_id=payment.id if payment else None,
            invoice_id=invoice.id,
            received_on=data.paid_on,
            note=f"Online payment {data.payment_intent} (Stripe event {data.event_id})",
        )
    return OnlinePaymentOutcome(event=event, payment=payment, to_credit=excess)
