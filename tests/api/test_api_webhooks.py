"""The webhook API (SPEC §15): admin-scoped endpoints, secrets shown once, deliveries in cursor pages, retry."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

import api_service
from shared.db import db, utcnow
from shared.models import WebhookEvent
from shared.services import Actor, create_api_key
from shared.webhooks.delivery import drain_webhooks
from support import app_config
from support.apps import reused_app
from support.webhooks import WebhookReceiver

pytestmark = pytest.mark.backends("sqlite")

DRAIN = {"WEBHOOK_ALLOW_PRIVATE": True, "WEBHOOK_TIMEOUT_SECONDS": 1, "WORKER_MAX_ATTEMPTS": 2}


@pytest.fixture
def api_app(database_url):
    """The API with private targets allowed: the test receiver listens on 127.0.0.1."""
    with reused_app(api_service.create_app, app_config(database_url, WEBHOOK_ALLOW_PRIVATE="true")) as app:
        yield app


@pytest.fixture
def receiver():
    with WebhookReceiver() as receiver:
        yield receiver


def add_endpoint(admin_api, receiver, **fields) -> dict:
    response = admin_api.post("/webhook-endpoints", json={"url": receiver.url, **fields})
    assert response.status_code == 201, response.get_json()
    receiver.secret = response.get_json()["secret"]
    return response.get_json()


def test_an_endpoints_secret_is_shown_when_made_and_rotated_only(admin_api, receiver):
    made = add_endpoint(admin_api, receiver, events=["invoice.paid", "payment.recorded"], description="Web shop")
    assert made["secret"].startswith("whsec_")
    assert (made["events"], made["enabled"], made["description"]) == (
        ["invoice.paid", "payment.recorded"],
        True,
        "Web shop",
    )
    shown = admin_api.get(f"/webhook-endpoints/{made['id']}").get_json()
    assert "secret" not in shown
    assert "secret" not in admin_api.get("/webhook-endpoints").get_json()["data"][0]

    rotated = admin_api.post(f"/webhook-endpoints/{made['id']}/rotate-secret", json={}).get_json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != made["secret"]

    changed = admin_api.patch(f"/webhook-endpoints/{made['id']}", json={"enabled": False, "events": ["*"]})
    assert changed.status_code == 200
    assert (changed.get_json()["enabled"], changed.get_json()["events"]) == (False, ["*"])
    assert admin_api.delete(f"/webhook-endpoints/{made['id']}").status_code == 204
    assert admin_api.get(f"/webhook-endpoints/{made['id']}").status_code == 404


def test_webhooks_need_an_admin_key(api, read_api):
    for client in (api, read_api):
        assert client.get("/webhook-endpoints").status_code == 403
        assert client.post("/webhook-endpoints", json={"url": "https://example.com/"}).status_code == 403
        assert client.post("/webhook-deliveries/1/retry", json={}).status_code == 403


def test_bad_endpoints_are_422_naming_the_field(admin_api):
    response = admin_api.post("/webhook-endpoints", json={"url": "ftp://example.com/", "events": ["invoice.eaten"]})
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"events.0"}
    response = admin_api.post("/webhook-endpoints", json={"url": "ftp://example.com/"})
    assert response.status_code == 422 and "url" in response.get_json()["errors"]
    response = admin_api.post("/webhook-endpoints", json={"url": "https://example.com/", "colour": "red"})
    assert response.status_code == 422 and "colour" in response.get_json()["errors"]


@pytest.mark.parametrize("url", ["http://127.0.0.1/", "http://10.0.0.1/", "http://169.254.169.254/"])
def test_private_targets_are_refused_unless_allowed(database_url, url):
    app = api_service.create_app(app_config(database_url))
    with app.app_context():
        _, secret = create_api_key(db.session, actor=Actor.system("tests"), name="admin", scope="admin")
        db.session.remove()
    response = app.test_client().post(
        "/api/v1/webhook-endpoints", json={"url": url}, headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 422
    assert "WEBHOOK_ALLOW_PRIVATE" in response.get_json()["errors"]["url"][0]
    with app.app_context():
        db.engine.dispose()


def test_an_event_carries_what_the_apis_get_returned(admin_api, api, receiver, session, ngn_body):
    add_endpoint(admin_api, receiver, events=["invoice.issued"])
    created = api.post("/invoices", json=ngn_body)
    assert created.status_code == 201
    shown = api.get(f"/invoices/{created.get_json()['id']}").get_json()
    (event,) = session.scalars(select(WebhookEvent)).all()
    assert json.loads(event.body)["data"] == shown


def test_an_invoice_created_and_issued_emits_both_events_in_order(admin_api, api, receiver, session, ngn_body):
    add_endpoint(admin_api, receiver)
    api.post("/invoices", json=ngn_body)
    types = [e.type for e in session.scalars(select(WebhookEvent).order_by(WebhookEvent.id))]
    assert types == ["invoice.created", "invoice.issued"]


def test_deliveries_come_in_cursor_pages_and_a_failed_one_is_delivered_by_a_retry(admin_api, receiver, session):
    endpoint = add_endpoint(admin_api, receiver)
    for _ in range(3):
        assert admin_api.post(f"/webhook-endpoints/{endpoint['id']}/test", json={}).status_code == 202
    receiver.answers = [500] * 6
    drain_webhooks(session, owner="A", config=DRAIN)
    drain_webhooks(session, owner="A", config=DRAIN, now=_later())

    first = admin_api.get(f"/webhook-endpoints/{endpoint['id']}/deliveries?limit=2").get_json()
    assert len(first["data"]) == 2 and first["next_cursor"]
    rest = admin_api.get(f"/webhook-endpoints/{endpoint['id']}/deliveries?limit=2&cursor={first['next_cursor']}")
    rows = first["data"] + rest.get_json()["data"]
    assert rest.get_json()["next_cursor"] is None
    assert [row["state"] for row in rows] == ["failed"] * 3
    assert rows[0]["attempts"] == 2 and rows[0]["last_status"] == 500
    assert rows[0]["event_type"] == "webhook.test" and rows[0]["event_id"].startswith("evt_")
    assert rows[0]["last_error"].startswith("the endpoint answered 500")

    retried = admin_api.post(f"/webhook-deliveries/{rows[0]['id']}/retry", json={})
    assert retried.status_code == 200 and retried.get_json()["state"] == "pending"
    assert drain_webhooks(session, owner="A", config=DRAIN) == {"delivered": 1}
    shown = admin_api.get(f"/webhook-endpoints/{endpoint['id']}/deliveries?state=delivered").get_json()["data"]
    assert [row["id"] for row in shown] == [rows[0]["id"]]
    assert receiver.received[-1].verified

    again = admin_api.post(f"/webhook-deliveries/{rows[0]['id']}/retry", json={})
    assert again.status_code == 409
    assert admin_api.post("/webhook-deliveries/999/retry", json={}).status_code == 404


def _later():
    return utcnow() + dt.timedelta(hours=2)
