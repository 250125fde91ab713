"""``make run`` listens where ``PORT`` and ``HOST`` say, refuses malformed ones in one line, and the README says so."""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import subprocess
import sys

import pytest

from shared.config import SETTINGS
from support import ROOT

RUN_ALL = ROOT / "scripts" / "run_all.py"


def load_run_all():
    spec = importlib.util.spec_from_file_location("run_all_under_test", RUN_ALL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def run_all():
    return load_run_all()


def test_port_and_host_default_to_this_machine_on_5000(run_all):
    environ = {}
    assert run_all.prepare_environment(environ) == ("127.0.0.1", 5000)
    assert environ["PUBLIC_BASE_URL"] == "http://127.0.0.1:5000"


def test_links_in_messages_follow_port_and_host(run_all):
    environ = {"PORT": "8000", "HOST": "192.168.1.20"}
    assert run_all.prepare_environment(environ) == ("192.168.1.20", 8000)
    assert environ["PUBLIC_BASE_URL"] == "http://192.168.1.20:8000"


def test_every_interface_links_to_this_machine(run_all):
    environ = {"PORT": "8000", "HOST": "0.0.0.0"}
    assert run_all.prepare_environment(environ) == ("0.0.0.0", 8000)
    assert environ["PUBLIC_BASE_URL"] == "http://127.0.0.1:8000"


def test_a_set_public_base_url_is_kept(run_all):
    environ = {"PORT": "8000", "PUBLIC_BASE_URL": "https://invoices.example.com"}
    run_all.prepare_environment(environ)
    assert environ["PUBLIC_BASE_URL"] == "https://invoices.example.com"


@pytest.mark.parametrize(
    ("name", "value"),
    [("PORT", "abc"), ("PORT", "70000"), ("PORT", "0"), ("PORT", "-1"), ("PORT", "80.5"), ("HOST", "http://x/")],
)
def test_a_malformed_port_or_host_stops_make_run_with_one_line(name, value, tmp_path):
    names = {s.name for s in SETTINGS}
    env = {k: v for k, v in os.environ.items() if k not in names and k not in ("PORT", "HOST")}
    env.update({name: value, "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}"})
    process = subprocess.Popen(
        [sys.executable, str(RUN_ALL)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        _, stderr = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # it started serving instead of refusing: stop it and its worker
        process.communicate()
        pytest.fail(f"{name}={value!r} was not refused")
    assert process.returncode == 1
    assert "Traceback" not in stderr
    [line] = stderr.strip().splitlines()
    assert line.startswith(f"error: {name} must be") and repr(value) in line
    assert not (tmp_path / "unused.db").exists(), "nothing starts when the address is malformed"


def test_readme_documents_port_and_host_for_make_run():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in ("PORT", "HOST"):  # what the tests above show make run reads
        assert re.search(rf"make run {name}=|{name}=\S+ make run", readme), f"README: how to set {name} for make run"
