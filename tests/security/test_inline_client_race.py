"""Issue 12 item 15: parallel invoices for one new inline client make one client, not ten.

SPEC §7: "an inline ``client`` whose e-mail matches an existing client reuses
that client". Ten ``POST /invoices`` at once, each naming the same new
e-mail, all looked for the client before any had committed one, and nine
duplicates were made. The find-or-create (``shared.services.clients.
find_or_create_client``, moved out of the API resource: issue 11) now holds a
lock on the normalised e-mail until its transaction ends. The race runs over
real HTTP against a threaded server, so each request has its own connection
and transaction, on Postgres and on SQLite.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from shared.db import db
from shared.errors import ValidationFailed
from shared.inputs import ClientInput
from shared.models import Client, Invoice
from shared.services import Actor, archive_client
from shared.services.clients import find_or_create_client

RACERS = 10


class LiveApi:
    """The API app on a free loopback port, one thread per request."""

    def __init__(self, app, secret: str):
        self.app = app
        self.secret = secret
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, name="api-server", daemon=True)

    def post(self, path: str, body: dict) -> tuple[int, dict]:
        connection = http.client.HTTPConnection("127.0.0.1", self.server.server_port, timeout=90)
        try:
            connection.request(
                "POST",
                f"/api/v1{path}",
                body=json.dumps(body).encode(),
                headers={"Authorization": f"Bearer {self.secret}", "Content-Type": "application/json"},
            )
            response = connection.getresponse()
            return response.status, json.loads(response.read())
        finally:
            connection.close()


@pytest.fixture
def live_api(api_app, keys) -> Iterator[LiveApi]:
    live = LiveApi(api_app, keys["write"])
    live.thread.start()
    yield live
    live.server.shutdown()
    live.server.server_close()
    live.thread.join(timeout=10)


def invoice_for(email: str) -> dict:
    return {
        "client": {"name": "Ada Okafor", "email": email},
        "currency": "NGN",
        "items": [{"description": "Consulting", "quantity": "1", "unit_price": "15000.00", "tax_rate": "7.5"}],
        "issue": True,
        "notify": {"email": True},
    }


def race(live: LiveApi, bodies: list[dict]) -> list[tuple[int, dict]]:
    """Send every body at once (a barrier releases them together)."""
    barrier = threading.Barrier(len(bodies))
    replies: list = [None] * len(bodies)

    def fire(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            replies[i] = live.post("/invoices", bodies[i])
        except BaseException as exc:  # reported on the test's thread
            replies[i] = exc

    threads = [threading.Thread(target=fire, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    failures = [reply for reply in replies if not isinstance(reply, tuple)]
    assert not failures, failures[:3]
    return replies


def test_ten_parallel_invoices_for_one_new_email_make_one_client(live_api, api_app):
    # The same address as people type it: case and surrounding spaces differ.
    spellings = ["ada@example.com", "Ada@Example.com", " ADA@example.COM "]
    replies = race(live_api, [invoice_for(spellings[i % len(spellings)]) for i in range(RACERS)])

    assert [status for status, _ in replies] == [201] * RACERS, [body for status, body in replies if status != 201]
    assert len({body["client"]["id"] for _, body in replies}) == 1
    with api_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Client)) == 1
        assert db.session.scalar(select(func.count()).select_from(Invoice)) == RACERS
        assert db.session.scalar(select(Client.email)) == "ada@example.com"
        db.session.remove()


def test_an_inline_client_reuses_the_live_client_with_that_email(session, make_client):
    existing = make_client(email="ada@example.com")
    found = find_or_create_client(
        session, actor=Actor.system("tests"), data=ClientInput(name="A", email="ADA@example.com")
    )
    session.commit()
    assert found.id == existing.id
    assert session.scalar(select(func.count()).select_from(Client)) == 1


def test_an_archived_client_is_never_reused(session, make_client):
    archived = make_client(email="ada@example.com")
    archive_client(session, actor=Actor.system("tests"), client_id=archived.id)
    made = find_or_create_client(
        session, actor=Actor.system("tests"), data=ClientInput(name="Ada", email="ada@example.com")
    )
    session.commit()
    assert made.id != archived.id and made.archived_at is None


def test_a_bad_inline_client_is_refused_with_fields_named_under_client(session):
    with pytest.raises(ValidationFailed) as refused:
        find_or_create_client(
            session, actor=Actor.system("tests"), data=ClientInput(name="", email="not an address"), prefix="client."
        )
    assert "client.email" in refused.value.errors
    session.rollback()
    with pytest.raises(ValidationFailed) as refused:
        find_or_create_client(
            session, actor=Actor.system("tests"), data=ClientInput(email="new@example.com"), prefix="client."
        )
    assert list(refused.value.errors) == ["client.name"]
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Client)) == 0
