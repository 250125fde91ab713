"""Stripe's signed webhook (SPEC §14): ``POST /webhooks/stripe``, no login and no CSRF; the signature is the check."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, request
from sqlalchemy.exc import IntegrityError

from shared import stripe_checkout
from shared.db import db
from shared.errors import DomainError
from shared.services.online_payments import record_online_payment, stripe_actor

log = logging.getLogger(__name__)

bp = Blueprint("webhooks", __name__)


def _answer(status: int, text: str) -> Response:
    return Response(text + "\n", status=status, mimetype="text/plain")


@bp.post("/webhooks/stripe")
def stripe_webhook():
    """Record the money of a paid Checkout Session once; answer 2xx to everything signed, so Stripe stops sending."""
    try:
        event = stripe_checkout.read_event(
            request.get_data(cache=False),
            request.headers.get("Stripe-Signature"),
            current_app.config.get("STRIPE_WEBHOOK_SECRET") or "",
        )
    except stripe_checkout.BadSignature as exc:
        log.warning("Stripe webhook refused: %s", exc)
        return _answer(400, "invalid signature")
    payment = stripe_checkout.payment_from_event(event)
    if payment is None:
        return _answer(200, "ignored")
    try:
        outcome = record_online_payment(db.session, actor=stripe_actor(), data=payment)
    except IntegrityError:
        # The same event delivered twice at the same moment: the other delivery recorded it.
        db.session.rollback()
        return _answer(200, "already recorded")
    except DomainError as exc:
        # Signed by Stripe but for no invoice of ours (or in another currency): retrying cannot help.
        log.warning("Stripe event %s not recorded: %s", payment.event_id, exc.message)
        return _answer(200, "not recorded")
    if outcome is None:
        return _answer(200, "already recorded")
    return _answer(200, "recorded")
