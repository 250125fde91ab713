"""Stripe Checkout (SPEC §14): the session a client pays in, and reading Stripe's signed events.

The official ``stripe`` package talks to Stripe (or to ``STRIPE_API_BASE``, a
proxy or a local test server); it is imported only when a session is made or an
event read, so nothing else pays for its import.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from shared import money
from shared.inputs import OnlinePaymentInput
from shared.models.enums import StripePaymentStatus

if TYPE_CHECKING:
    from shared.models import Invoice

log = logging.getLogger(__name__)

# The events that mean money arrived (SPEC §14): a card paid at once, or a delayed method that cleared later.
PAYMENT_EVENTS = ("checkout.session.completed", "checkout.session.async_payment_succeeded")
NETWORK_TIMEOUT_SECONDS = 20


class CheckoutUnavailable(Exception):
    """Stripe refused to make a session or could not be reached; the message is for the log, not the client."""


class BadSignature(Exception):
    """A webhook body whose Stripe-Signature is missing, wrong or too old."""


def checkout_session_params(invoice: Invoice, page_url: str) -> dict[str, Any]:
    """The Checkout Session for ``invoice``'s balance: one line named after its number, back to ``page_url`` after."""
    return {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": invoice.currency.lower(),
                    "unit_amount": money.to_minor_units(invoice.balance_due, invoice.currency),
                    "product_data": {"name": f"Invoice {invoice.number}"},
                },
            }
        ],
        "metadata": {"invoice_id": str(invoice.id)},
        "client_reference_id": str(invoice.id),
        "success_url": f"{page_url}?paid=1",
        "cancel_url": page_url,
    }


def _client(config: Mapping[str, Any]):
    import stripe

    base = config.get("STRIPE_API_BASE") or ""
    return stripe.StripeClient(
        config["STRIPE_SECRET_KEY"],
        base_addresses={"api": base} if base else None,
        # The client is waiting on the page: one answer or a friendly error, no silent retries.
        max_network_retries=0,
        http_client=stripe.RequestsClient(timeout=NETWORK_TIMEOUT_SECONDS),
    )


def create_checkout_session(config: Mapping[str, Any], invoice: Invoice, page_url: str) -> str:
    """Make the Checkout Session for ``invoice`` and return the URL to send the client to."""
    import stripe

    try:
        checkout = _client(config).v1.checkout.sessions.create(params=checkout_session_params(invoice, page_url))
    except stripe.StripeError as exc:
        raise CheckoutUnavailable(f"Stripe refused a Checkout Session for invoice {invoice.id}: {exc}") from exc
    url = getattr(checkout, "url", None)
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise CheckoutUnavailable(f"Stripe's Checkout Session for invoice {invoice.id} has no URL")
    return url


def read_event(payload: bytes, signature: str | None, secret: str) -> dict[str, Any]:
    """Stripe's event from a webhook body, once its signature (and timestamp, default tolerance) checks out.

    Returned as the plain JSON the signature covers (the package's Event object is not a mapping).
    """
    import stripe

    if not signature or not secret:
        raise BadSignature("no Stripe-Signature header" if secret else "STRIPE_WEBHOOK_SECRET is not set")
    try:
        stripe.Webhook.construct_event(payload, signature, secret)
        event = json.loads(payload)
        if not isinstance(event, dict) or not event.get("id"):
            raise ValueError("not an event object")
        return event
    except stripe.SignatureVerificationError as exc:
        raise BadSignature(str(exc)) from None
    except ValueError as exc:  # a signed body that is not JSON cannot come from Stripe
        raise BadSignature(f"the body is not a Stripe event: {exc}") from None


def payment_from_event(event: Mapping[str, Any]) -> OnlinePaymentInput | None:
    """The payment a verified event reports, or None when it reports none (another type, not paid yet, not ours)."""
    if event.get("type") not in PAYMENT_EVENTS:
        return None
    checkout = (event.get("data") or {}).get("object") or {}
    if checkout.get("payment_status") != StripePaymentStatus.PAID:
        return None
    metadata = checkout.get("metadata") or {}
    raw_id = metadata.get("invoice_id") or checkout.get("client_reference_id")
    currency = str(checkout.get("currency") or "").upper()
    amount = checkout.get("amount_total")
    intent = checkout.get("payment_intent") or ""
    if not isinstance(intent, str):  # expanded into the PaymentIntent object
        intent = intent.get("id") or ""
    try:
        invoice_id = int(str(raw_id))
        if not money.is_known_currency(currency) or not isinstance(amount, int) or amount <= 0:
            raise ValueError
    except (TypeError, ValueError):
        log.warning("Stripe event %s has no usable invoice id, currency or amount; ignored", event.get("id"))
        return None
    return OnlinePaymentInput(
        event_id=str(event["id"]),
        event_type=str(event["type"]),
        invoice_id=invoice_id,
        amount_minor=amount,
        currency=currency,
        payment_intent=str(intent),
        paid_on=dt.datetime.fromtimestamp(int(event.get("created") or 0), dt.UTC).date(),
    )
