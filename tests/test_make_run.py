"""``make run`` end to end (SPEC §2): migrate, first admin, all three services, Ctrl-C stops everything.

The steps of the Makefile's ``run`` target are run as subprocesses against a
throwaway SQLite file, so the developer's ``instance/`` is never touched.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from support import ROOT
from support.processes import FLASK, clean_env, free_port

SECRET = "make-run-test-secret-key-0123456789abcdef"


def status_of(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return None


def session_members(sid: int) -> list[int]:
    """Pids of live (non-zombie) processes whose session id is ``sid``."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp session ...; comm may contain spaces and brackets.
        fields = text[text.rindex(")") + 2 :].split()
        state, session = fields[0], int(fields[3])
        if session == sid and state != "Z":
            members.append(int(stat.parent.name))
    return members


def group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return not session_members(pgid)  # only zombies left, waiting for their parent


@pytest.fixture(scope="module")
def prepared_database(tmp_path_factory) -> Path:
    """The first two steps of ``make run`` (migrate, first admin), run once: both tests start from a copy."""
    database = tmp_path_factory.mktemp("make-run") / "run.db"
    env = clean_env(DATABASE_URL=f"sqlite:///{database}", SECRET_KEY=SECRET)
    for step in (["db", "upgrade"], ["ensure-admin"]):
        result = subprocess.run(
            [FLASK, "--app", "main_service", *step],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, (step, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
    assert "password:" in result.stdout  # ensure-admin printed the first admin's password
    return database


@pytest.mark.slow
@pytest.mark.parametrize("target", ["process", "group"], ids=["sigint-run-all", "sigint-process-group"])
def test_make_run_serves_admin_and_api_and_stops_on_ctrl_c(tmp_path, target, prepared_database):
    port = free_port()
    for suffix in ("", "-wal"):  # a journal left behind (normally none) belongs to the copy too
        if Path(f"{prepared_database}{suffix}").exists():
            shutil.copyfile(f"{prepared_database}{suffix}", tmp_path / f"run.db{suffix}")
    env = clean_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'run.db'}",
        SECRET_KEY=SECRET,
        PORT=str(port),
        WORKER_POLL_SECONDS="1",
        PYTHONUNBUFFERED="1",
    )

    log = tmp_path / "run_all.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "scripts/run_all.py"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    pgid = process.pid
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        ready = False
        while time.monotonic() < deadline and process.poll() is None:
            if status_of(f"{base}/admin/login") == 200 and status_of(f"{base}/api/v1/") == 200:
                ready = True
                break
            time.sleep(0.3)
        assert ready, "run_all.py did not answer within 60 s:\n" + log.read_text()
        assert status_of(f"{base}/admin/") == 200  # urllib follows the redirect to the login page
        assert status_of(f"{base}/api/v1/no-such-thing") == 404

        # The worker was started beside the web server.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "worker ready" not in log.read_text():
            time.sleep(0.2)
        assert "worker ready" in log.read_text(), log.read_text()
        assert len(session_members(pgid)) >= 2

        if target == "process":
            os.kill(process.pid, signal.SIGINT)
        else:  # what Ctrl-C in a terminal does
            os.killpg(pgid, signal.SIGINT)
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail("run_all.py did not stop within 30 s of SIGINT:\n" + log.read_text())
        output = log.read_text()
        assert code == 0, output
        assert "Traceback" not in output
        assert "Stopped." in output

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not group_gone(pgid):
            time.sleep(0.1)
        assert group_gone(pgid), f"processes left behind: {session_members(pgid)}"
        assert status_of(f"{base}/admin/login") is None  # nothing listens any more
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        if process.poll() is None:
            process.wait(timeout=10)
