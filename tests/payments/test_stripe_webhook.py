"""SPEC §14 webhook: POST /webhooks/stripe, verified with Stripe's signature, records each paid event once."""

from __future__ import annotations

import datetime as dt
import json
import time
from decimal import Decimal

import pytest
from sqlalchemy import func, select

import main_service
from shared.inputs import CreditNoteInput, PaymentInput
from shared.models import Activity, Invoice, Payment, QueuedMessage, StripeEvent
from shared.services import record_payment, void_invoice
from shared.services.credit_notes import client_credit_in, issue_credit_note
from support import app_config
from support.apps import reused_app
from support.stripe_stub import checkout_event, signed, stripe_settings

pytestmark = pytest.mark.backends("sqlite")


@pytest.fixture
def shop(database_url):
    with reused_app(main_service.create_app, app_config(database_url, **stripe_settings())) as app:
        yield app


def checkout_for(invoice, amount_minor: int | None = None) -> dict:
    """The Checkout Session the Pay button made for ``invoice`` (as Stripe echoes it back in the event)."""
    return {
        "id": "cs_test_1",
        "object": "checkout.session",
        "amount_total": amount_minor if amount_minor is not None else int(invoice.balance_due * 100),
        "currency": invoice.currency.lower(),
        "client_reference_id": str(invoice.id),
        "metadata": {"invoice_id": str(invoice.id)},
    }


@pytest.fixture
def deliver(shop, session):
    """POST a body to the webhook as Stripe would; the test's session then reads afresh (its snapshot ends)."""

    def post(body: bytes, signature: str | None = "sign"):
        headers = {"Content-Type": "application/json"}
        if signature == "sign":
            signature = signed(body)
        if signature is not None:
            headers["Stripe-Signature"] = signature
        response = shop.test_client().post("/webhooks/stripe", data=body, headers=headers)
        session.rollback()
        return response

    return post


def books(session, invoice_id: int) -> tuple:
    invoice = session.get(Invoice, invoice_id)
    return (
        invoice.amount_paid,
        invoice.status,
        session.scalar(select(func.count()).select_from(Payment)),
        session.scalar(select(func.count()).select_from(QueuedMessage).where(QueuedMessage.kind == "receipt")),
        session.scalar(select(func.count()).select_from(StripeEvent)),
    )


def test_a_paid_checkout_records_one_online_payment_with_its_receipt_e_mail(deliver, session, make_invoice):
    invoice = make_invoice(issue=True)
    body = checkout_event(checkout_for(invoice), payment_intent="pi_test_abc123")
    response = deliver(body)
    assert response.get_data(as_text=True) == "recorded\n"
    [payment] = session.scalars(select(Payment)).all()
    assert (payment.amount, payment.method, payment.reference) == (Decimal("100.00"), "online", "pi_test_abc123")
    assert payment.paid_on == dt.datetime.fromtimestamp(json.loads(body)["created"], dt.UTC).date()
    [receipt] = session.scalars(select(QueuedMessage).where(QueuedMessage.kind == "receipt")).all()
    assert (receipt.channel, receipt.payment_id) == ("email", payment.id)
    assert books(session, invoice.id)[:2] == (Decimal("100.00"), "paid")
    timeline = " | ".join(session.scalars(select(Activity.summary).where(Activity.invoice_id == invoice.id)))
    assert "online" in timeline and "pi_test_abc123" in timeline


def test_a_redelivered_event_changes_nothing(deliver, session, make_invoice):
    invoice = make_invoice(lines=2, issue=True)
    body = checkout_event(checkout_for(invoice, 25000))  # 50.00 more than the 200.00 owed
    assert deliver(body).status_code == 200
    before = books(session, invoice.id)
    for _ in range(2):
        assert deliver(body).status_code == 200
    assert books(session, invoice.id) == before == (Decimal("200.00"), "paid", 1, 1, 1)
    assert client_credit_in(session, invoice.client_id, "USD") == Decimal("50.00")


def test_async_payment_succeeded_records_the_payment_too(deliver, session, make_invoice):
    invoice = make_invoice(issue=True)
    deliver(checkout_event(checkout_for(invoice), event_type="checkout.session.async_payment_succeeded"))
    assert books(session, invoice.id)[:3] == (Decimal("100.00"), "paid", 1)


def test_a_completed_session_still_unpaid_records_nothing(deliver, session, make_invoice):
    invoice = make_invoice(issue=True)
    response = deliver(checkout_event(checkout_for(invoice), payment_status="unpaid"))
    assert response.status_code == 200
    assert books(session, invoice.id) == (Decimal("0.00"), "open", 0, 0, 0)


def test_other_event_types_are_acknowledged_and_ignored(deliver, session, make_invoice):
    invoice = make_invoice(issue=True)
    for kind in ("checkout.session.expired", "payment_intent.succeeded", "charge.refunded"):
        assert deliver(checkout_event(checkout_for(invoice), event_type=kind)).status_code == 200
    assert books(session, invoice.id) == (Decimal("0.00"), "open", 0, 0, 0)


@pytest.mark.parametrize(
    "signature",
    [
        None,  # no header
        "",
        "t=1,v1=00",
        "garbage",
        "other-secret",
        "old",
    ],
)
def test_a_bad_missing_or_old_signature_is_a_400_that_records_nothing(deliver, session, make_invoice, signature):
    invoice = make_invoice(issue=True)
    body = checkout_event(checkout_for(invoice))
    if signature == "other-secret":
        signature = signed(body, secret="whsec_someone_else")
    elif signature == "old":
        signature = signed(body, timestamp=int(time.time()) - 3600)  # beyond Stripe's default 300 s tolerance
    response = deliver(body, signature)
    assert response.status_code == 400
    assert "Traceback" not in response.get_data(as_text=True)
    assert books(session, invoice.id) == (Decimal("0.00"), "open", 0, 0, 0)


def test_a_body_changed_after_signing_is_refused(deliver, session, make_invoice):
    invoice = make_invoice(issue=True)
    body = checkout_event(checkout_for(invoice, 1000))
    response = deliver(body.replace(b'"amount_total": 1000', b'"amount_total": 9000'), signed(body))
    assert response.status_code == 400
    assert books(session, invoice.id)[2] == 0


def test_the_webhook_needs_no_login_and_no_csrf_token(deliver, make_invoice):
    invoice = make_invoice(issue=True)
    response = deliver(checkout_event(checkout_for(invoice)))
    assert response.status_code == 200  # not the CSRF error's 400, not a redirect to the login page


def test_more_than_the_balance_records_the_balance_and_keeps_the_rest_as_credit(deliver, session, actor, make_invoice):
    invoice = make_invoice(issue=True)
    record_payment(session, actor=actor, invoice_id=invoice.id, data=PaymentInput(amount="40.00"))
    deliver(checkout_event(checkout_for(invoice, 10000)))  # paid the full 100.00 online after all
    assert books(session, invoice.id)[:3] == (Decimal("100.00"), "paid", 2)
    online = session.scalars(select(Payment).where(Payment.method == "online")).one()
    assert online.amount == Decimal("60.00")
    event = session.scalars(select(StripeEvent)).one()
    assert (event.amount, event.to_credit, event.payment_id) == (Decimal("100.00"), Decimal("40.00"), online.id)
    assert client_credit_in(session, invoice.client_id, "USD") == Decimal("40.00")  # the rest is client credit


def test_money_for_a_void_invoice_is_all_client_credit(deliver, session, actor, make_invoice):
    invoice = make_invoice(issue=True)
    void_invoice(session, actor=actor, invoice_id=invoice.id, reason="wrong client")
    assert deliver(checkout_event(checkout_for(invoice, 10000))).status_code == 200
    assert books(session, invoice.id)[:3] == (Decimal("0.00"), "void", 0)
    event = session.scalars(select(StripeEvent)).one()
    assert (event.payment_id, event.to_credit) == (None, Decimal("100.00"))
    assert client_credit_in(session, invoice.client_id, "USD") == Decimal("100.00")


def test_money_for_a_credited_invoice_is_all_client_credit(deliver, session, actor, make_invoice):
    invoice = make_invoice(issue=True)
    issue_credit_note(session, actor=actor, invoice_id=invoice.id, data=CreditNoteInput(reason="cancelled", full=True))
    deliver(checkout_event(checkout_for(invoice, 10000)))
    assert books(session, invoice.id)[:3] == (Decimal("0.00"), "credited", 0)
    assert client_credit_in(session, invoice.client_id, "USD") == Decimal("100.00")  # all of Stripe's


def test_an_event_for_no_invoice_of_ours_is_acknowledged_and_records_nothing(deliver, session, make_invoice):
    invoice = make_invoice(issue=True)
    checkout = {**checkout_for(invoice), "metadata": {"invoice_id": "999999"}, "client_reference_id": "999999"}
    assert deliver(checkout_event(checkout)).status_code == 200
    assert books(session, invoice.id) == (Decimal("0.00"), "open", 0, 0, 0)
