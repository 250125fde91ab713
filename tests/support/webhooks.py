"""A webhook receiver on 127.0.0.1 that checks every delivery with the ``standardwebhooks`` package.

``with WebhookReceiver() as receiver:`` serves at ``receiver.url``; set
``receiver.secret`` to the endpoint's secret. ``answers`` is a list of status
codes to give in turn (then 200); ``hang`` makes it wait (without answering)
until ``release`` is set, to time a sender out; ``hang_at`` holds only the
request that arrives ``hang_at``-th (1-based) that way, to catch a sender in flight.
``arrivals`` lists the ``webhook-id`` of every request as it arrives, answered or not.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    event_id: str
    verified: bool
    body: bytes
    headers: dict[str, str]
    status: int

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    secret: str = ""
    answers: list[int] = field(default_factory=list)
    hang: bool = False
    hang_at: int | None = None
    received: list[Received] = field(default_factory=list)
    arrivals: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.arrived = threading.Event()  # a request came in (set for each)
        self.in_flight: set[str] = set()
        self.held: str | None = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True  # headers and body go out at once, not 40 ms apart

            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                event_id = headers.get("webhook-id", "")
                with receiver.lock:
                    receiver.in_flight.add(event_id)
                    receiver.arrivals.append(event_id)
                    held = receiver.hang or receiver.hang_at == len(receiver.arrivals)
                    if held:
                        receiver.held = event_id
                receiver.arrived.set()
                if held:
                    receiver.release.wait(60)
                try:
                    Webhook(receiver.secret).verify(body, headers)
                    verified = True
                except (WebhookVerificationError, ValueError):
                    verified = False
                with receiver.lock:
                    status = receiver.answers.pop(0) if receiver.answers else 200
                    receiver.received.append(Received(event_id, verified, body, headers, status))
                try:
                    self.send_response(status)
                    self.send_header("content-type", "text/plain")
                    answer = f"answer {status} " + "x" * 2000
                    self.send_header("content-length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer.encode())
                except OSError:
                    pass  # the sender gave up (timed out) or was killed
                finally:
                    with receiver.lock:
                        receiver.in_flight.discard(event_id)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks?source=test"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def ids(self) -> list[str]:
        with self.lock:
            return [r.event_id for r in self.received if r.status < 300]

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
