"""Which database backends a test runs on: its module's ``backends`` mark, narrowed by ``--backends``.

Collected by a real ``pytest --collect-only`` in a subprocess, so the
conftest's selection is checked exactly as ``make test`` and ``make test-fast``
use it.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from support import ROOT
from support.processes import clean_env

pytestmark = pytest.mark.slow

SQLITE_ONLY_MODULE = "tests/admin/test_admin_pages.py"  # backends("sqlite"), one test parametrized on Postgres
BOTH_MODULE = "tests/shared/test_create_and_issue.py"  # no mark: both backends
PG_TEST = "test_database_outage_shows_a_friendly_page_and_recovers"


def collect(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", *args],
        cwd=ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def ids(result: subprocess.CompletedProcess, module: str) -> list[str]:
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return [line for line in result.stdout.splitlines() if line.startswith(module + "::")]


def test_marks_and_the_backends_option_choose_the_backends():
    default = collect(SQLITE_ONLY_MODULE, BOTH_MODULE)
    marked, unmarked = ids(default, SQLITE_ONLY_MODULE), ids(default, BOTH_MODULE)
    # A module marked backends("sqlite") runs on SQLite, except a test that names its backend itself.
    assert marked and all("sqlite" in i or PG_TEST in i for i in marked), marked
    assert [i for i in marked if "postgresql" in i] == [f"{SQLITE_ONLY_MODULE}::{PG_TEST}[postgresql]"]
    # An unmarked module runs on both.
    assert {i.replace("[postgresql]", "[sqlite]") for i in unmarked if "[postgresql]" in i} == {
        i for i in unmarked if "[sqlite]" in i
    }
    assert any("[postgresql]" in i for i in unmarked)

    fast = collect("--backends", "sqlite", SQLITE_ONLY_MODULE, BOTH_MODULE)
    everything = ids(fast, SQLITE_ONLY_MODULE) + ids(fast, BOTH_MODULE)
    assert everything and not [i for i in everything if "postgresql" in i]
    assert set(everything) == {i for i in marked + unmarked if "postgresql" not in i}


def test_an_unknown_backend_is_a_usage_error_in_one_line():
    result = collect("--backends", "oracle", BOTH_MODULE)
    assert result.returncode == 4  # pytest's usage error
    assert "--backends takes sqlite and/or postgresql, not 'oracle'" in result.stderr
    assert "Traceback" not in result.stderr
