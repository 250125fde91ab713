"""The webhooks page under Settings (SPEC §15): add an endpoint, its secret once, deliveries, retry, test event."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

import main_service
from shared.db import db
from shared.models import WebhookDelivery, WebhookEndpoint
from shared.models.enums import WebhookDeliveryState
from support import app_config, finish_setup, sign_in
from support.apps import reused_app

pytestmark = pytest.mark.backends("sqlite")

RECEIVER = "http://127.0.0.1:9/hooks"


@pytest.fixture
def admin_app(database_url):
    """The admin app with private targets allowed (a receiver on this machine)."""
    with reused_app(main_service.create_app, app_config(database_url, WEBHOOK_ALLOW_PRIVATE="true")) as app:
        with app.app_context():
            finish_setup(db.session)
            db.session.remove()
        yield app


def add(admin, url=RECEIVER, **fields):
    data = {"url": url, "events": ["*"], "enabled": "y", "description": "Web shop", **fields}
    return admin.post_form("/admin/settings/webhooks", data)


def stored(app):
    with app.app_context():
        endpoints = db.session.scalars(select(WebhookEndpoint)).all()
        db.session.remove()
        return endpoints


def test_an_admin_adds_an_endpoint_and_sees_its_secret_once(admin_app, admin):
    response = add(admin, events=["invoice.paid", "payment.recorded"])
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    (endpoint,) = stored(admin_app)
    assert endpoint.secret in html and endpoint.events == ["invoice.paid", "payment.recorded"]
    assert endpoint.description == "Web shop"
    listing = admin.get("/admin/settings/webhooks").get_data(as_text=True)
    assert endpoint.secret not in listing and RECEIVER in listing
    detail = admin.get(f"/admin/settings/webhooks/{endpoint.id}").get_data(as_text=True)
    assert endpoint.secret not in detail
    assert "Webhooks" in admin.get("/admin/settings").get_data(as_text=True)


def test_a_private_target_is_refused_with_a_clear_message(database_url, users):
    app = main_service.create_app(app_config(database_url))
    with app.app_context():
        finish_setup(db.session)
        db.session.remove()
    browser = sign_in(app, "admin@example.com")
    response = add(browser, url="http://169.254.169.254/latest")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "WEBHOOK_ALLOW_PRIVATE" in html and 'aria-invalid="true"' in html
    assert stored(app) == []
    with app.app_context():
        db.engine.dispose()


def test_rotating_the_secret_and_deleting_ask_first(admin_app, admin):
    add(admin)
    (endpoint,) = stored(admin_app)
    page = f"/admin/settings/webhooks/{endpoint.id}/rotate"
    assert "Make a new secret?" in admin.get(page).get_data(as_text=True)
    assert stored(admin_app)[0].secret == endpoint.secret  # asking changes nothing
    shown = admin.post_form(page, {}).get_data(as_text=True)
    (rotated,) = stored(admin_app)
    assert rotated.secret != endpoint.secret and rotated.secret in shown

    page = f"/admin/settings/webhooks/{endpoint.id}/delete"
    assert "Delete this endpoint?" in admin.get(page).get_data(as_text=True)
    assert admin.post_form(page, {}).status_code == 302
    assert stored(admin_app) == []


def test_a_test_event_shows_as_a_delivery_staff_can_retry_once_failed(admin_app, admin, staff):
    add(admin)
    (endpoint,) = stored(admin_app)
    detail = f"/admin/settings/webhooks/{endpoint.id}"
    admin.post_form(detail, {}, to=f"{detail}/test")
    with admin_app.app_context():
        delivery = db.session.scalars(select(WebhookDelivery)).one()
        delivery.state = WebhookDeliveryState.FAILED
        delivery.attempts, delivery.last_status, delivery.last_error = 8, 500, "the endpoint answered 500"
        delivery.last_response = "<h1>Internal Server Error</h1>"
        db.session.commit()
        delivery_id = delivery.id
        db.session.remove()

    html = staff.get(detail).get_data(as_text=True)
    assert "webhook.test" in html and "HTTP 500" in html and "&lt;h1&gt;Internal Server Error" in html
    assert "Rotate secret" not in html  # staff see deliveries, admins change the endpoint
    assert staff.get("/admin/settings/webhooks").status_code == 403
    response = staff.post_form(detail, {}, to=f"/admin/webhook-deliveries/{delivery_id}/retry")
    assert response.status_code == 302
    with admin_app.app_context():
        delivery = db.session.get(WebhookDelivery, delivery_id)
        assert (delivery.state, delivery.attempts) == ("pending", 0)
        db.session.remove()
    assert re.search(r"Webhooks: .*127\.0\.0\.1", staff.get("/admin/delivery").get_data(as_text=True))


def test_editing_an_endpoint_keeps_its_secret(admin_app, admin):
    add(admin)
    (endpoint,) = stored(admin_app)
    detail = f"/admin/settings/webhooks/{endpoint.id}"
    response = admin.post_form(detail, {"url": RECEIVER + "/v2", "events": ["invoice.voided"], "description": ""})
    assert response.status_code == 302
    (changed,) = stored(admin_app)
    assert (changed.url, changed.events, changed.enabled, changed.secret) == (
        RECEIVER + "/v2",
        ["invoice.voided"],
        False,
        endpoint.secret,
    )
    refused = admin.post_form(detail, {"url": "gopher://x", "events": ["*"]})
    assert refused.status_code == 200 and "start with http:// or https://" in refused.get_data(as_text=True)
