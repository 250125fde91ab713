"""Outgoing webhooks (SPEC §15): events in the change's transaction, signed deliveries, retries, the SSRF guard."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from shared.db import utcnow
from shared.errors import ValidationFailed
from shared.inputs import PaymentInput, WebhookEndpointInput
from shared.messages.delivery import drain_queue
from shared.models import QueuedMessage, WebhookDelivery, WebhookEvent
from shared.models.enums import WebhookDeliveryState
from shared.representations import invoice_snapshot, notification_json, payment_snapshot
from shared.services import Notify, atomic, issue_invoice, record_payment, void_invoice, void_payment
from shared.services.webhooks import (
    create_webhook_endpoint,
    retry_webhook_delivery,
    rotate_webhook_secret,
    send_test_event,
    update_webhook_endpoint,
)
from shared.webhooks.delivery import WebhookSettings, drain_webhooks
from shared.webhooks.targets import TargetRefused, check_target
from support.delivery import make_config
from support.webhooks import WebhookReceiver

pytestmark = pytest.mark.backends("sqlite")

CONFIG = {"WEBHOOK_ALLOW_PRIVATE": True, "WEBHOOK_TIMEOUT_SECONDS": 1, "WORKER_MAX_ATTEMPTS": 3}
PRIVATE_URLS = ["http://127.0.0.1/", "http://10.0.0.1/", "http://169.254.169.254/"]


@pytest.fixture
def receiver():
    with WebhookReceiver() as receiver:
        yield receiver


def add_endpoint(session, actor, receiver, **fields):
    endpoint = create_webhook_endpoint(
        session, actor=actor, data=WebhookEndpointInput(url=receiver.url, **fields), allow_private=True
    )
    receiver.secret = endpoint.secret
    return endpoint


def drain(session, *, hours: int = 0, config=CONFIG):
    return drain_webhooks(session, owner="A", config=config, now=utcnow() + dt.timedelta(hours=hours))


def deliveries(session) -> list[WebhookDelivery]:
    session.expire_all()
    return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def test_every_delivery_verifies_with_the_endpoints_secret_and_a_tampered_body_does_not(
    session, actor, receiver, make_invoice
):
    endpoint = add_endpoint(session, actor, receiver)
    assert endpoint.secret.startswith("whsec_") and len(endpoint.secret) >= 6 + 32
    invoice = make_invoice(issue=True)

    assert drain(session) == {"delivered": 2}
    assert [r.json["type"] for r in receiver.received] == ["invoice.created", "invoice.issued"]
    assert all(r.verified for r in receiver.received)
    first = receiver.received[0]
    assert first.event_id.startswith("evt_") and first.json["id"] == first.event_id
    assert first.headers["content-type"] == "application/json"
    assert first.json["created_at"].endswith("Z")
    assert receiver.received[1].json["data"]["number"] == invoice.number

    wh = Webhook(endpoint.secret)
    assert wh.verify(first.body, first.headers)["id"] == first.event_id
    tampered = first.body.replace(b'"invoice.created"', b'"invoice.voided"')
    with pytest.raises(WebhookVerificationError):
        wh.verify(tampered, first.headers)


def test_an_endpoint_answering_500_twice_then_200_gets_it_delivered_on_the_third_attempt(
    session, actor, receiver, make_invoice
):
    add_endpoint(session, actor, receiver, events=["invoice.issued"])
    receiver.answers = [500, 302]  # a redirect is an answer, not followed
    make_invoice(issue=True)

    assert drain(session) == {"retry": 1}
    (row,) = deliveries(session)
    assert (row.state, row.attempts, row.last_status) == ("pending", 1, 500)
    assert row.last_error == "the endpoint answered 500"
    assert drain(session, hours=1) == {"retry": 1}
    assert deliveries(session)[0].last_status == 302
    assert drain(session, hours=2) == {"delivered": 1}

    (row,) = deliveries(session)
    assert (row.state, row.attempts, row.last_status, row.last_error) == ("delivered", 3, 200, None)
    assert row.delivered_at is not None
    assert row.last_response.startswith("answer 200") and len(row.last_response.encode()) == 1024
    assert len({r.event_id for r in receiver.received}) == 1  # one event, three tries


def test_an_endpoint_that_times_out_is_retried(session, actor, receiver, make_invoice):
    add_endpoint(session, actor, receiver, events=["invoice.issued"])
    receiver.hang = True
    make_invoice(issue=True)

    assert drain(session) == {"retry": 1}
    (row,) = deliveries(session)
    assert "timed out" in row.last_error and row.last_status is None

    receiver.hang = False
    assert drain(session, hours=1) == {"delivered": 1}
    assert deliveries(session)[0].attempts == 2


def test_a_lease_is_never_shorter_than_the_timeout_plus_a_margin():
    settings = WebhookSettings.from_config({"WORKER_LEASE_SECONDS": 5, "WEBHOOK_TIMEOUT_SECONDS": 10})
    assert settings.lease_seconds >= 15
    assert WebhookSettings.from_config({}).timeout_seconds == 10


def test_an_endpoint_that_never_answers_2xx_fails_visibly_and_a_retry_delivers_it(
    session, actor, receiver, make_invoice
):
    add_endpoint(session, actor, receiver, events=["invoice.issued"])
    receiver.answers = [503, 503, 503]
    make_invoice(issue=True)
    for hour in range(3):
        drain(session, hours=hour)
    (row,) = deliveries(session)
    assert (row.state, row.attempts) == ("failed", 3)
    assert "gave up after 3 attempts" in row.last_error
    assert drain(session, hours=10) == {}

    retry_webhook_delivery(session, actor=actor, delivery_id=row.id)
    assert drain(session) == {"delivered": 1}
    assert deliveries(session)[0].state == WebhookDeliveryState.DELIVERED


@pytest.mark.parametrize("url", PRIVATE_URLS)
def test_private_targets_are_refused_at_save_unless_allowed(session, actor, url):
    with pytest.raises(ValidationFailed) as refused:
        create_webhook_endpoint(session, actor=actor, data=WebhookEndpointInput(url=url))
    assert "WEBHOOK_ALLOW_PRIVATE" in refused.value.errors["url"][0]
    endpoint = create_webhook_endpoint(session, actor=actor, data=WebhookEndpointInput(url=url), allow_private=True)
    assert endpoint.url == url


@pytest.mark.parametrize(
    "url", ["http://localhost:8080/x", "http://[::1]/", "http://[::ffff:10.0.0.1]/", "http://0.0.0.0/"]
)
def test_names_and_other_spellings_of_private_addresses_are_refused_after_resolving(url):
    with pytest.raises(TargetRefused):
        check_target(url, allow_private=False)


@pytest.mark.parametrize("url", ["ftp://example.com/", "http:///nohost", "not a url", "", "http://a:99999/"])
def test_a_malformed_url_is_refused(session, actor, url):
    with pytest.raises(ValidationFailed) as refused:
        create_webhook_endpoint(session, actor=actor, data=WebhookEndpointInput(url=url), allow_private=True)
    assert "url" in refused.value.errors


def test_a_private_target_is_refused_at_send_and_fails_at_once(session, actor, receiver, make_invoice):
    add_endpoint(session, actor, receiver, events=["invoice.issued"])
    make_invoice(issue=True)
    assert drain(session, config={**CONFIG, "WEBHOOK_ALLOW_PRIVATE": False}) == {"failed": 1}
    (row,) = deliveries(session)
    assert (row.state, row.attempts) == ("failed", 1)
    assert row.last_error.startswith("refused:") and "127.0.0.1" in row.last_error
    assert receiver.received == []


def test_the_events_of_invoices_and_payments_carry_the_apis_own_json(session, actor, receiver, make_invoice):
    add_endpoint(session, actor, receiver)
    invoice = make_invoice(issue=True)
    payment, _ = record_payment(
        session, actor=actor, invoice_id=invoice.id, data=PaymentInput(amount="100.00", paid_on=None)
    )
    expected_payment = payment_snapshot(session, payment)
    expected_invoice = invoice_snapshot(session, invoice)
    void_payment(session, actor=actor, payment_id=payment.id, reason="bounced")
    void_invoice(session, actor=actor, invoice_id=invoice.id)
    drain(session)

    bodies = [r.json for r in receiver.received]
    assert [b["type"] for b in bodies] == [
        "invoice.created",
        "invoice.issued",
        "payment.recorded",
        "invoice.paid",
        "payment.voided",
        "invoice.voided",
    ]
    assert bodies[2]["data"] == json.loads(json.dumps(expected_payment))
    assert bodies[3]["data"] == json.loads(json.dumps(expected_invoice))
    assert bodies[3]["data"]["status"] == "paid"
    assert bodies[4]["data"]["void"] is True
    assert bodies[5]["data"]["status"] == "void"
    assert len({b["id"] for b in bodies}) == 6


def test_an_endpoint_gets_only_the_events_it_chose_and_a_disabled_one_none(session, actor, receiver, make_invoice):
    add_endpoint(session, actor, receiver, events=["invoice.voided"])
    off = add_endpoint(session, actor, receiver)
    update_webhook_endpoint(session, actor=actor, endpoint_id=off.id, data=_changes(enabled=False))
    invoice = make_invoice(issue=True)
    assert session.scalar(select(func.count()).select_from(WebhookEvent)) == 0
    void_invoice(session, actor=actor, invoice_id=invoice.id)
    assert [(d.event.type, d.endpoint_id) for d in deliveries(session)] == [("invoice.voided", off.id - 1)]


def _changes(**fields):
    from shared.inputs import WebhookEndpointChanges

    return WebhookEndpointChanges(**fields)


def test_a_failed_message_is_an_event(session, actor, receiver, make_invoice, database_url, tmp_path):
    add_endpoint(session, actor, receiver, events=["message.failed"])
    invoice = make_invoice(issue=True)
    session.add(QueuedMessage(kind="invoice", channel="email", recipient="not-an-address", invoice_id=invoice.id))
    session.commit()
    assert drain_queue(session, owner="A", config=make_config(database_url, tmp_path)) == {"failed": 1}
    row = session.scalars(select(QueuedMessage)).one()
    drain(session)
    (event,) = [r.json for r in receiver.received]
    assert event["type"] == "message.failed"
    assert event["data"] == json.loads(json.dumps(notification_json(row)))
    assert event["data"]["state"] == "failed"


def test_a_test_event_and_a_rotated_secret(session, actor, receiver):
    endpoint = add_endpoint(session, actor, receiver)
    old = endpoint.secret
    rotated = rotate_webhook_secret(session, actor=actor, endpoint_id=endpoint.id)
    assert rotated.secret != old and rotated.secret.startswith("whsec_")
    receiver.secret = rotated.secret
    delivery = send_test_event(session, actor=actor, endpoint_id=endpoint.id)
    assert delivery.event.type == "webhook.test"
    assert drain(session) == {"delivered": 1}
    assert receiver.received[0].verified


@pytest.mark.backends("sqlite", "postgresql")
def test_a_change_rolled_back_leaves_no_event(session, actor, receiver, make_invoice):
    add_endpoint(session, actor, receiver)
    draft = make_invoice()
    before = session.scalar(select(func.count()).select_from(WebhookEvent))
    with pytest.raises(RuntimeError), atomic(session):
        issue_invoice(session, actor=actor, invoice_id=draft.id, notify=Notify())
        assert session.scalar(select(func.count()).select_from(WebhookEvent)) == before + 1
        raise RuntimeError("the change fails after the event was written")
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(WebhookEvent)) == before
    assert session.scalar(select(func.count()).select_from(WebhookDelivery)) == before
    assert draft.is_draft


def test_a_credit_note_and_an_accepted_quote_are_events_with_the_apis_json(session, actor, receiver, make_invoice):
    """SPEC §15's ``credit_note.issued`` and ``quote.accepted``, and ``invoice.paid`` when credit settles the rest."""
    from shared.inputs import CreditNoteInput, QuoteDraft
    from shared.representations import credit_note_snapshot, quote_snapshot
    from shared.services import accept_quote, create_quote, issue_credit_note, send_quote

    add_endpoint(session, actor, receiver, events=["credit_note.issued", "quote.accepted", "invoice.paid"])
    invoice = make_invoice(issue=True)
    total = invoice.total
    record_payment(session, actor=actor, invoice_id=invoice.id, data=PaymentInput(amount=str(total - 10)))
    note, _ = issue_credit_note(
        session, actor=actor, invoice_id=invoice.id, data=CreditNoteInput(reason="Ten short", items=None, full=True)
    )
    expected_note = credit_note_snapshot(session, note)
    items = [{"description": "Work", "quantity": "1", "unit_price": "50.00", "tax_rate": "0"}]
    quote = create_quote(
        session, actor=actor, data=QuoteDraft.from_mapping({"client_id": invoice.client_id, "items": items})
    )
    send_quote(session, actor=actor, quote_id=quote.id, notify=Notify())
    accept_quote(session, actor=actor, quote_id=quote.id, name="Ada Client")
    expected_quote = quote_snapshot(session, quote)
    drain(session)

    bodies = {b["type"]: b for b in (r.json for r in receiver.received)}
    assert set(bodies) == {"credit_note.issued", "quote.accepted", "invoice.paid"}
    assert bodies["credit_note.issued"]["data"] == json.loads(json.dumps(expected_note))
    assert bodies["credit_note.issued"]["data"]["applied"] == f"{Decimal(10):.2f}"
    assert bodies["quote.accepted"]["data"] == json.loads(json.dumps(expected_quote))
    assert bodies["quote.accepted"]["data"]["accepted_by"] == "Ada Client"
    assert bodies["invoice.paid"]["data"]["status"] == "paid"
