"""Stand-ins for the outside world in delivery tests: an SMTP server, Twilio, worker processes.

Plain helpers and context managers (not fixtures), so each test module wraps
the ones it needs; nothing here is collected as a test.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from aiosmtpd.controller import Controller

from shared.config import SETTINGS, load_config

ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
SECRET = "delivery-tests-secret-key-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_config(database_url: str, folder: Path, **overrides: object) -> dict:
    """Settings as the worker would load them, with the outbox under ``folder``."""
    environ = {"DATABASE_URL": database_url, "SECRET_KEY": SECRET, "APP_ENV": "testing"}
    environ.update({k: str(v) for k, v in overrides.items()})
    return load_config(environ, folder=folder)


def wait_until(condition: Callable[[], object], seconds: float, interval: float = 0.05):
    """Poll ``condition`` until it is truthy (returned) or ``seconds`` pass (None)."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            return None
        time.sleep(interval)


def pdf_text(pdf: bytes, *, first: int | None = None, last: int | None = None, layout: bool = True) -> str:
    """``pdftotext`` of a PDF (``-layout``, or ``-raw`` content order), no-break spaces as plain spaces."""
    if shutil.which("pdftotext") is None:
        message = "pdftotext is missing: apt-get install poppler-utils"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
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


# ----------------------------------------------------------------------------- worker processes


def worker_env(database_url: str, **settings: object) -> dict[str, str]:
    """The environment of a worker process: ours only, nothing inherited that could steer it."""
    names = {s.name for s in SETTINGS}
    env = {k: v for k, v in os.environ.items() if k not in names and not k.startswith("FLASK_")}
    env.update(DATABASE_URL=database_url, SECRET_KEY=SECRET, APP_ENV="testing", PYTHONUNBUFFERED="1")
    env.update({k: str(v) for k, v in settings.items()})
    return env


class WorkerProcess:
    """``python -m background_service`` in its own process group; its stderr read on a thread."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "background_service", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self._reader = threading.Thread(target=self._pump, daemon=True)
        self._reader.start()

    def _pump(self) -> None:
        for line in self.process.stderr:
            self.lines.put(line)

    def wait_for(self, text: str, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                if self.process.poll() is not None and self.lines.empty():
                    return False
                continue
            self.seen.append(line)
            if text in line:
                return True
        return False

    def output(self) -> str:
        self._reader.join(timeout=5)
        while not self.lines.empty():
            self.seen.append(self.lines.get_nowait())
        return "".join(self.seen)

    def wait(self, seconds: float) -> int | None:
        try:
            return self.process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            return None

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def __enter__(self) -> WorkerProcess:
        return self

    def __exit__(self, *exc_info) -> None:
        self.kill()
        if self.process.stderr:
            self.process.stderr.close()
