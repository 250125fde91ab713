"""Stand-ins for the outside world in delivery tests: an SMTP server, Twilio; worker settings and PDF text.

Plain helpers and context managers (not fixtures), so each test module wraps
the ones it needs; nothing here is collected as a test. Worker processes,
free ports and polling live in ``support.processes``.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import html
import json
import re
import shutil
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from aiosmtpd.controller import Controller

from shared.config import load_config

from . import IN_CI
from .processes import WORKER_SECRET, free_port


def make_config(database_url: str, folder: Path, **overrides: object) -> dict:
    """Settings as the worker would load them, with the outbox under ``folder``."""
    environ = {"DATABASE_URL": database_url, "SECRET_KEY": WORKER_SECRET, "APP_ENV": "testing"}
    environ.update({k: str(v) for k, v in overrides.items()})
    return load_config(environ, folder=folder)


def _require_pdftotext() -> None:
    if shutil.which("pdftotext") is None:
        message = "pdftotext is missing: apt-get install poppler-utils"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


def pdf_text(pdf: bytes, *, first: int | None = None, last: int | None = None, layout: bool = True) -> str:
    """``pdftotext`` of a PDF (``-layout``, or ``-raw`` content order), no-break spaces as plain spaces."""
    _require_pdftotext()
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(pdf)
        handle.flush()
        command = ["pdftotext", "-layout" if layout else "-raw"]
        if first:
            command += ["-f", str(first)]
        if last:
            command += ["-l", str(last)]
        result = subprocess.run([*command, handle.name, "-"], capture_output=True, check=True, timeout=60)
    return result.stdout.decode("utf-8").replace("\xa0", " ")


@dataclass(frozen=True)
class Word:
    """A word ``pdftotext -bbox`` found, its box in points from the page's top left."""

    text: str
    x_min: float
    y_min: float
    x_max: float
    y_max: float

    def overlaps(self, other: Word, tolerance: float = 0.2) -> bool:
        """Do the two boxes share more than a hairline (``tolerance`` points) across and down?"""
        across = min(self.x_max, other.x_max) - max(self.x_min, other.x_min)
        down = min(self.y_max, other.y_max) - max(self.y_min, other.y_min)
        return across > tolerance and down > tolerance


@dataclass(frozen=True)
class Page:
    width: float
    height: float
    words: list[Word]


_BBOX_PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', re.S)
_BBOX_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>')


def pdf_words(pdf: bytes) -> list[Page]:
    """Every page's words with their boxes (``pdftotext -bbox``): where the text of a PDF landed."""
    _require_pdftotext()
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(pdf)
        handle.flush()
        result = subprocess.run(["pdftotext", "-bbox", handle.name, "-"], capture_output=True, check=True, timeout=60)
    pages = []
    for width, height, body in _BBOX_PAGE.findall(result.stdout.decode("utf-8")):
        words = [
            Word(html.unescape(text), float(x0), float(y0), float(x1), float(y1))
            for x0, y0, x1, y1, text in _BBOX_WORD.findall(body)
        ]
        pages.append(Page(float(width), float(height), words))
    return pages


def squeeze(text: str) -> str:
    """Text without any whitespace: compares strings the PDF may have wrapped."""
    return "".join(text.split())


# ----------------------------------------------------------------------------- SMTP


class SmtpSink:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives.

    ``replies`` maps a recipient to the reply its RCPT TO gets (e.g. a 550);
    ``gate`` holds every DATA until it is set, to catch a worker mid-send.
    """

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.messages: list[EmailMessage] = []
        self.replies: dict[str, str] = {}
        self.gate = threading.Event()
        self.gate.set()
        self.data_started = threading.Event()
        self._lock = threading.Lock()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.replies.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.data_started.set()
        while not self.gate.is_set():
            await asyncio.sleep(0.01)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)
        return f"250 2.0.0 Ok: queued as SINK{len(self.messages):05d}"

    def received(self) -> list[EmailMessage]:
        with self._lock:
            return list(self.messages)

    def message_ids(self) -> list[str]:
        return [m["Message-ID"] for m in self.received()]

    def start(self) -> SmtpSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.gate.set()
        self.controller.stop()


@contextlib.contextmanager
def smtp_sink(port: int | None = None) -> Iterator[SmtpSink]:
    sink = SmtpSink(port).start()
    try:
        yield sink
    finally:
        sink.stop()


# ----------------------------------------------------------------------------- Twilio


class TwilioStub:
    """Answers like Twilio's Messages API, on 127.0.0.1; keeps every request.

    ``errors`` maps a ``To`` number to ``(HTTP status, Twilio error code)``.
    """

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.errors: dict[str, tuple[int, int]] = {}
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                stub.requests.append(
                    {"path": self.path, "form": form, "authorization": self.headers.get("Authorization", "")}
                )
                status, code = stub.errors.get(form.get("To", ""), (201, 0))
                if status >= 400:
                    body = {"code": code, "message": f"Stub refused {form.get('To')}", "status": status}
                else:
                    body = {
                        "sid": "SM" + uuid.uuid4().hex,
                        "status": "queued",
                        "to": form.get("To"),
                        "from": form.get("From"),
                        "body": form.get("Body"),
                    }
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

    def __enter__(self) -> TwilioStub:
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.shutdown()
        self.server.server_close()
