"""A quote converts once (SPEC §13), even when two converts arrive at the same moment.

The client accepts the quote on its public page (the admin app), then two API
requests convert it at once, each in its own thread, app context and database
connection: the quote's row lock makes the second wait for the first to
commit, and it then finds the invoice already made.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from shared.db import db
from shared.models import Invoice, Quote
from support import csrf_from

pytestmark = pytest.mark.backends("postgresql")


def test_a_quote_accepted_on_its_page_and_converted_twice_at_once_makes_one_invoice(api, api_app, admin_app):
    client = api.post("/clients", json={"name": "Adaeze Okafor", "email": "ada@example.com"}).json
    quote = api.post(
        "/quotes",
        json={
            "client_id": client["id"],
            "currency": "NGN",
            "discount": {"type": "fixed", "value": "1000.00"},
            "items": [
                {"description": "Consulting", "quantity": "2", "unit_price": "15000.00", "tax_rate": "7.5"},
                {"description": "Travel", "quantity": "1", "unit_price": "3333.33", "tax_rate": "0"},
            ],
        },
    ).json
    quote = api.post(f"/quotes/{quote['id']}/send", json={}).json

    public = admin_app.test_client()
    url = f"/q/{quote['links']['public'].rsplit('/', 1)[1]}"
    token = csrf_from(public.get(url).get_data(as_text=True))
    assert public.post(f"{url}/accept", data={"csrf_token": token, "name": "Adaeze Okafor"}).status_code == 302

    barrier = threading.Barrier(2)
    replies: list = [None, None]

    def convert(slot: int) -> None:
        http = api_app.test_client()
        barrier.wait(timeout=30)
        replies[slot] = http.post(
            f"/api/v1/quotes/{quote['id']}/convert",
            json={"issue": True, "notify": {"email": False}},
            headers=api._headers(None),
        )

    threads = [threading.Thread(target=convert, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    statuses = sorted(reply.status_code for reply in replies)
    assert statuses == [201, 409], [reply.get_json() for reply in replies]
    made = next(reply.get_json() for reply in replies if reply.status_code == 201)
    refused = next(reply.get_json() for reply in replies if reply.status_code == 409)
    assert made["number"] in refused["detail"]
    for name in ("subtotal", "discount_total", "tax_total", "total", "currency", "discount"):
        assert made[name] == quote[name], name
    with api_app.app_context():
        assert [invoice.id for invoice in db.session.scalars(select(Invoice))] == [made["id"]]
        stored = db.session.get(Quote, quote["id"])
        assert (stored.status, stored.invoice_id) == ("invoiced", made["id"])
