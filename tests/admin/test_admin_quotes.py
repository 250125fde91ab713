"""Quotes in the admin and on the client's page (SPEC §13): editor, review, send, accept by name, convert once."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from shared.db import db
from shared.inputs import ClientInput
from shared.models import Invoice, Quote
from shared.services import Actor, create_client
from support import Browser, csrf_from

pytestmark = pytest.mark.backends("sqlite")


@pytest.fixture
def client_id(admin_app) -> int:
    with admin_app.app_context():
        client = create_client(
            db.session,
            actor=Actor.system(),
            data=ClientInput(name="Brightpath Academy Ltd", email="ap@brightpath.example", default_currency="NGN"),
        )
        return client.id


def _editor_data(client_id: int, **extra) -> dict:
    return {
        "client_id": str(client_id),
        "currency": "NGN",
        "issue_date": dt.date.today().isoformat(),
        "valid_until": "",
        "purchase_order": "PO-778",
        "notes": "",
        "discount_type": "percent",
        "discount_value": "10",
        "lines-0-description": "Consulting",
        "lines-0-quantity": "2",
        "lines-0-unit_price": "15,000.00",
        "lines-0-tax_rate": "7.5",
        "action": "save",
        **extra,
    }


def _quote(admin_app, quote_id: int) -> Quote:
    with admin_app.app_context():
        quote = db.session.get(Quote, quote_id)
        db.session.expunge(quote)
        return quote


def _new_sent_quote(admin: Browser, admin_app, client_id: int) -> Quote:
    saved = admin.post_form("/admin/quotes/new", _editor_data(client_id))
    assert saved.status_code == 302, saved.get_data(as_text=True)
    review_url = saved.headers["Location"]
    quote_id = int(re.search(r"/quotes/(\d+)/review", review_url).group(1))
    review = admin.get(review_url).get_data(as_text=True)
    assert "Review quote before sending" in review and "QUO-" in review and "29,025.00" in review
    picture = admin.get(f"/admin/quotes/{quote_id}/pages/1.png")
    assert picture.status_code == 200 and picture.mimetype == "image/png"
    assert admin.get(f"/admin/quotes/{quote_id}/pages/2.png").status_code == 404
    sent = admin.post_form(review_url, {"email": "y"}, to=f"/admin/quotes/{quote_id}/send")
    assert sent.status_code == 302
    return _quote(admin_app, quote_id)


def test_staff_write_review_and_send_a_quote_which_the_dashboard_lists_as_open(admin, admin_app, client_id):
    quote = _new_sent_quote(admin, admin_app, client_id)
    assert quote.status == "sent" and quote.number.startswith("QUO-")
    assert quote.valid_until == dt.date.today() + dt.timedelta(days=30)
    detail = admin.get(f"/admin/quotes/{quote.id}").get_data(as_text=True)
    assert quote.number in detail and "Convert to invoice" in detail and f"/q/{quote.public_token}" in detail
    listing = admin.get("/admin/quotes").get_data(as_text=True)
    assert quote.number in listing and 'href="/admin/quotes"' in listing  # the nav links the list
    assert quote.number in admin.get("/admin/").get_data(as_text=True)
    assert admin.get(f"/admin/quotes/{quote.id}/pdf").mimetype == "application/pdf"


def test_the_editor_names_a_bad_field_and_saves_nothing(admin, admin_app, client_id):
    page = admin.post_form("/admin/quotes/new", _editor_data(client_id, valid_until="2000-01-01"))
    assert page.status_code == 200
    assert "on or after the issue date" in page.get_data(as_text=True)
    with admin_app.app_context():
        assert db.session.scalars(select(Quote)).all() == []


def test_the_client_accepts_by_typing_a_name_and_staff_convert_it_once(admin, admin_app, client_id):
    quote = _new_sent_quote(admin, admin_app, client_id)
    public = admin_app.test_client()
    url = f"/q/{quote.public_token}"
    page = public.get(url)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "private, no-store"
    html = page.get_data(as_text=True)
    assert "Accept quote" in html and "Decline quote" in html and "29,025.00" in html

    no_token = public.post(f"{url}/accept", data={"name": "Ada Obi"})
    assert no_token.status_code == 400  # CSRF
    nameless = public.post(f"{url}/accept", data={"csrf_token": csrf_from(html), "name": " "})
    assert nameless.status_code == 422 and "type your name to accept" in nameless.get_data(as_text=True)
    accepted = public.post(
        f"{url}/accept",
        data={"csrf_token": csrf_from(html), "name": "Ada Obi"},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
        follow_redirects=True,
    )
    assert "Accepted by" in accepted.get_data(as_text=True)
    quote = _quote(admin_app, quote.id)
    assert (quote.status, quote.accepted_by, quote.accepted_ip) == ("accepted", "Ada Obi", "203.0.113.9")
    assert "Decline quote" not in public.get(url).get_data(as_text=True)

    detail_url = f"/admin/quotes/{quote.id}"
    converted = admin.post_form(detail_url, {"issue": "y"}, to=f"{detail_url}/convert")
    assert converted.status_code == 302 and "/admin/invoices/" in converted.headers["Location"]
    with admin_app.app_context():
        (invoice,) = db.session.scalars(select(Invoice)).all()
        assert (invoice.total, invoice.purchase_order, invoice.number is not None) == (quote.total, "PO-778", True)
    again = admin.post_form(f"/admin/invoices/{invoice.id}", {"issue": "y"}, to=f"{detail_url}/convert", follow=True)
    assert f"already converted to invoice {invoice.number}" in again.get_data(as_text=True)
    with admin_app.app_context():
        assert len(db.session.scalars(select(Invoice)).all()) == 1


def test_the_client_declines_with_a_reason_and_an_expired_quote_takes_no_answer(admin, admin_app, client_id):
    quote = _new_sent_quote(admin, admin_app, client_id)
    public = admin_app.test_client()
    url = f"/q/{quote.public_token}"
    token = csrf_from(public.get(url).get_data(as_text=True))
    public.post(f"{url}/decline", data={"csrf_token": token, "reason": "Over budget"})
    quote = _quote(admin_app, quote.id)
    assert (quote.status, quote.declined_reason) == ("declined", "Over budget")

    other = _new_sent_quote(admin, admin_app, client_id)
    url = f"/q/{other.public_token}"
    token = csrf_from(public.get(url).get_data(as_text=True))
    with admin_app.app_context():
        row = db.session.get(Quote, other.id)
        row.issue_date = dt.date.today() - dt.timedelta(days=40)
        row.valid_until = dt.date.today() - dt.timedelta(days=1)
        db.session.commit()
    page = public.get(url).get_data(as_text=True)
    assert "This quote has expired" in page and "Accept quote" not in page
    refused = public.post(f"{url}/accept", data={"csrf_token": token, "name": "Ada Obi"})
    assert refused.status_code == 422 and "expired" in refused.get_data(as_text=True)
    assert _quote(admin_app, other.id).status == "sent"


def test_unknown_and_draft_quote_links_are_not_found(admin, admin_app, client_id):
    saved = admin.post_form("/admin/quotes/new", _editor_data(client_id))
    quote_id = int(re.search(r"/quotes/(\d+)/review", saved.headers["Location"]).group(1))
    draft = _quote(admin_app, quote_id)
    public = admin_app.test_client()
    assert public.get(f"/q/{draft.public_token}").status_code == 404
    assert public.get("/q/" + "x" * 43).status_code == 404
    assert public.get("/q/short").status_code == 404
