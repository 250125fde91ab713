"""Helpers for tests that start real processes: a clean environment, free ports, a worker process."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from shared.config import SETTINGS

from . import ROOT

FLASK = str(Path(sys.executable).parent / "flask")
WORKER_SECRET = "worker-tests-secret-key-0123456789abcdef"


def clean_env(**extra: object) -> dict[str, str]:
    """The test process's environment without any of our settings or Flask's, plus ``extra``."""
    names = {s.name for s in SETTINGS}
    env = {k: v for k, v in os.environ.items() if k not in names and not k.startswith("FLASK_")}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def worker_env(database_url: str, **settings: object) -> dict[str, str]:
    """The environment of a worker process: ours only, nothing inherited that could steer it."""
    return clean_env(
        DATABASE_URL=database_url, SECRET_KEY=WORKER_SECRET, APP_ENV="testing", PYTHONUNBUFFERED="1", **settings
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
