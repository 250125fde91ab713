"""A local stand-in for Stripe's API, and webhook bodies signed the way Stripe signs them.

``StripeStub`` answers ``POST /v1/checkout/sessions`` on 127.0.0.1 like Stripe
(a form-encoded request, a JSON Checkout Session back) and keeps every request;
point ``STRIPE_API_BASE`` at ``stub.url``. ``signed`` makes the
``Stripe-Signature`` header Stripe sends: ``t=<unix time>,v1=<hex HMAC-SHA256
of "t.body" keyed with the endpoint's signing secret>``. No test reaches the internet.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

STRIPE_TEST_KEY = "sk_test_stand_in_0123456789"
WEBHOOK_SECRET = "whsec_test_stand_in_0123456789"


def stripe_settings(stub: StripeStub | None = None) -> dict[str, str]:
    """The app settings for online payments, against ``stub`` when given."""
    settings = {"STRIPE_SECRET_KEY": STRIPE_TEST_KEY, "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET}
    if stub is not None:
        settings["STRIPE_API_BASE"] = stub.url
    return settings


class StripeStub:
    """Answers like Stripe's Checkout Sessions API; ``fail`` makes it answer an API error with that HTTP status."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.sessions: list[dict] = []
        self.fail: int | None = None
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
                stub.requests.append(
                    {"path": self.path, "form": form, "authorization": self.headers.get("Authorization", "")}
                )
                if self.path != "/v1/checkout/sessions":
                    status, body = 404, {"error": {"type": "invalid_request_error", "message": "Unrecognized URL"}}
                elif stub.fail:
                    status, body = stub.fail, {"error": {"type": "api_error", "message": "The stand-in is down"}}
                else:
                    status, body = 200, stub._session(form)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):  # keep test output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def _session(self, form: dict[str, str]) -> dict:
        session_id = "cs_test_" + uuid.uuid4().hex
        amount = int(form["line_items[0][price_data][unit_amount]"]) * int(form.get("line_items[0][quantity]", "1"))
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": form.get("mode"),
            "amount_total": amount,
            "currency": form.get("line_items[0][price_data][currency]"),
            "client_reference_id": form.get("client_reference_id"),
            "metadata": {k[len("metadata[") : -1]: v for k, v in form.items() if k.startswith("metadata[")},
            "payment_status": "unpaid",
            "status": "open",
            "payment_intent": None,
            "success_url": form.get("success_url"),
            "cancel_url": form.get("cancel_url"),
            "url": f"https://checkout.stripe.test/c/pay/{session_id}",
        }
        self.sessions.append(session)
        return session

    def __enter__(self) -> StripeStub:
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.shutdown()
        self.server.server_close()


def signed(body: bytes, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header for ``body``, as Stripe computes it."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def checkout_event(
    session: dict,
    *,
    event_id: str | None = None,
    event_type: str = "checkout.session.completed",
    payment_status: str = "paid",
    payment_intent: str | None = None,
    created: int | None = None,
) -> bytes:
    """The JSON body of a Checkout Session event, for ``session`` (as the stub made it) completed and paid."""
    paid = {
        **session,
        "status": "complete",
        "payment_status": payment_status,
        "payment_intent": payment_intent or "pi_test_" + uuid.uuid4().hex[:24],
    }
    event = {
        "id": event_id or "evt_test_" + uuid.uuid4().hex,
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()) if created is None else created,
        "type": event_type,
        "livemode": False,
        "data": {"object": paid},
    }
    return json.dumps(event).encode()
