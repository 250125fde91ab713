"""Idempotency-Key over real HTTP (SPEC §7): retries replay, races make one invoice.

The API runs under werkzeug's threaded server, so concurrent requests are
concurrent transactions on their own connections, as in production.
"""

from __future__ import annotations

import http.client
import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from shared.db import db
from shared.models import Client, IdempotencyRecord, Invoice, QueuedMessage

RACERS = 20


@dataclass
class Reply:
    status: int
    body: bytes
    headers: dict[str, str]

    def json(self):
        return json.loads(self.body)


class LiveApi:
    """The API app served on a free loopback port by a threaded WSGI server."""

    def __init__(self, app, secret: str):
        self.app = app
        self.secret = secret
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, name="api-server", daemon=True)

    def post(self, path: str, body: dict, key: str | None = None) -> Reply:
        headers = {"Authorization": f"Bearer {self.secret}", "Content-Type": "application/json"}
        if key is not None:
            headers["Idempotency-Key"] = key
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request("POST", f"/api/v1{path}", body=json.dumps(body).encode(), headers=headers)
            response = connection.getresponse()
            return Reply(response.status, response.read(), {k.lower(): v for k, v in response.getheaders()})
        finally:
            connection.close()

    def count(self, model) -> int:
        with self.app.app_context():
            return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def live_api(api_app, keys) -> Iterator[LiveApi]:
    live = LiveApi(api_app, keys["write"])
    live.thread.start()
    yield live
    live.server.shutdown()
    live.server.server_close()
    live.thread.join(timeout=10)


def new_key() -> str:
    return f"test-{uuid.uuid4()}"


def race(live: LiveApi, path: str, body: dict, key: str, n: int = RACERS) -> list[Reply]:
    """Send ``n`` identical requests at once (a barrier releases them together)."""
    barrier = threading.Barrier(n)
    replies: list[Reply | BaseException | None] = [None] * n

    def fire(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            replies[i] = live.post(path, body, key)
        except BaseException as exc:  # reported below, on the test's thread
            replies[i] = exc

    threads = [threading.Thread(target=fire, args=(i,), name=f"racer-{i}") for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    errors = [reply for reply in replies if not isinstance(reply, Reply)]
    assert not errors, f"{len(errors)} requests did not complete: {errors[:3]}"
    return replies  # type: ignore[return-value]


def assert_replays(first: Reply, again: Reply) -> None:
    assert again.status == first.status
    assert again.body == first.body
    assert again.headers.get("idempotent-replayed") == "true"


def assert_key_reused(reply: Reply) -> None:
    assert reply.status == 422, reply.body
    assert reply.headers["content-type"].startswith("application/problem+json")
    assert "Idempotency-Key" in reply.json()["errors"]


# ------------------------------------------------------------------ PostgreSQL: a real race


# Concurrent writers need PostgreSQL; SQLite serialises them in one file.
@pytest.mark.parametrize("backend", ["postgresql"])
def test_twenty_concurrent_creates_with_one_key_make_one_invoice(backend, live_api, ngn_body):
    key = new_key()
    replies = race(live_api, "/invoices", ngn_body, key)

    assert [reply.status for reply in replies] == [201] * RACERS, [r.body[:200] for r in replies if r.status != 201]
    assert len({reply.body for reply in replies}) == 1, "replays must be byte-identical to the first response"
    first = replies[0].json()
    assert all(reply.json() == first for reply in replies)
    assert first["total"] == "29025.00" and first["status"] == "open"
    # One answer was the work itself; the other nineteen waited for it and replayed it.
    assert sum(reply.headers.get("idempotent-replayed") == "true" for reply in replies) == RACERS - 1

    assert live_api.count(Invoice) == 1
    assert live_api.count(Client) == 1
    assert live_api.count(QueuedMessage) == 1  # one invoice e-mail, not twenty
    assert live_api.count(IdempotencyRecord) == 1

    changed = dict(ngn_body, purchase_order="PO-779")
    assert_key_reused(live_api.post("/invoices", changed, key))
    assert live_api.count(Invoice) == 1


# ------------------------------------------------------------------ both backends: one at a time


def test_a_retry_with_the_same_key_and_body_replays_the_first_response(live_api, ngn_body):
    key = new_key()
    first = live_api.post("/invoices", ngn_body, key)
    assert first.status == 201, first.body
    assert "idempotent-replayed" not in first.headers

    again = live_api.post("/invoices", ngn_body, key)
    assert_replays(first, again)
    assert live_api.count(Invoice) == 1
    assert live_api.count(QueuedMessage) == 1


def test_the_same_key_with_another_body_is_refused(live_api, ngn_body):
    key = new_key()
    assert live_api.post("/invoices", ngn_body, key).status == 201
    assert_key_reused(live_api.post("/invoices", dict(ngn_body, notes="a different request"), key))
    # The same key on another path is another request too.
    assert_key_reused(live_api.post("/clients", {"name": "Someone"}, key))
    assert live_api.count(Invoice) == 1


def test_without_a_key_every_post_does_the_work(live_api, ngn_body):
    assert live_api.post("/invoices", ngn_body).status == 201
    assert live_api.post("/invoices", ngn_body).status == 201
    assert live_api.count(Invoice) == 2


def test_a_failed_request_leaves_its_key_free_for_a_corrected_retry(live_api, ngn_body):
    """Documented choice: only a completed request holds its key.

    SPEC §7 says the same key with a different body is a 422. That applies to a
    key whose first request succeeded. A request that failed (here a 422 for a bad
    line) did nothing, so its key is released, and the client may retry the
    corrected body under the same key instead of having to mint a new one.
    """
    key = new_key()
    bad = json.loads(json.dumps(ngn_body))
    bad["items"][0]["quantity"] = "0"
    refused = live_api.post("/invoices", bad, key)
    assert refused.status == 422, refused.body
    assert "items.0.quantity" in refused.json()["errors"]
    assert live_api.count(Invoice) == 0
    assert live_api.count(IdempotencyRecord) == 0

    corrected = live_api.post("/invoices", ngn_body, key)
    assert corrected.status == 201, corrected.body
    assert "idempotent-replayed" not in corrected.headers
    assert corrected.json()["total"] == "29025.00"

    # From now on the key belongs to the corrected request: it replays, and refuses anything else.
    assert_replays(corrected, live_api.post("/invoices", ngn_body, key))
    assert_key_reused(live_api.post("/invoices", bad, key))
    assert live_api.count(Invoice) == 1


def test_an_action_answering_200_replays_too(live_api, ngn_body):
    """Handlers that return a bare body (status 200), like cancel, are replayed like creates."""
    created = live_api.post("/invoices", ngn_body).json()
    message_id = created["notifications"][0]["id"]
    key = new_key()
    first = live_api.post(f"/notifications/{message_id}/cancel", {}, key)
    assert first.status == 200, first.body
    assert first.json()["state"] == "cancelled"
    assert_replays(first, live_api.post(f"/notifications/{message_id}/cancel", {}, key))
    # Without the key the same request meets the new state.
    assert live_api.post(f"/notifications/{message_id}/cancel", {}).status == 409
