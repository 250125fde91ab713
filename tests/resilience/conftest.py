"""Resilience fixtures (SPEC §10): a throwaway Postgres cluster, a live API server, the run's figures.

Everything listens on 127.0.0.1 only. The figures every test adds to ``FIGURES``
are printed at the end of the run by ``pytest_terminal_summary``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

import shared.models  # noqa: F401
from shared.db import db
from support.figures import FIGURES
from support.processes import free_port
from support.servers import LiveServer

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def pytest_collection_modifyitems(items):
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.resilience)


def pytest_terminal_summary(terminalreporter):
    if not FIGURES:
        return
    terminalreporter.section("resilience figures")
    for name in (
        "requests sent",
        "faults injected",
        "messages queued",
        "messages delivered",
        "messages lost",
        "duplicates",
        "duplicates in flight at a kill",
    ):
        terminalreporter.write_line(f"{name:>32}: {FIGURES.get(name, 0)}")
    for name, value in sorted(FIGURES.items()):
        if name.startswith("  "):
            terminalreporter.write_line(f"{name:>32}: {value}")


def _as_postgres(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, **kwargs)


class PgCluster:
    """A Postgres cluster of our own (initdb in a temp folder, its own port) that tests may stop and start."""

    def __init__(self) -> None:
        initdb = PG_BIN / "initdb"
        if not initdb.exists():
            pytest.fail(f"initdb is missing at {initdb}: install postgresql-15 (or set PG_BIN) to run the fault tests")
        self.folder = Path(tempfile.mkdtemp(prefix="resilience-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self.data = self.folder / "data"
        self.port = free_port()
        result = _as_postgres([str(initdb), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync"])
        assert result.returncode == 0, result.stderr
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.starts = 0
        self.stops = 0

    def start(self) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off"
        result = _as_postgres(
            [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"), "-w", "start"]
        )
        assert result.returncode == 0, result.stdout + result.stderr + self.log()
        self.starts += 1

    def stop(self, mode: str = "fast") -> None:
        result = _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"])
        assert result.returncode == 0, result.stdout + result.stderr
        self.stops += 1

    def log(self) -> str:
        path = self.folder / "log"
        return path.read_text(errors="replace") if path.exists() else ""

    def close(self) -> None:
        _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    cluster = PgCluster()
    cluster.start()
    engine = sa.create_engine(cluster.url)
    db.metadata.create_all(engine)
    engine.dispose()
    yield cluster
    cluster.close()


@pytest.fixture
def live_server():
    return LiveServer
