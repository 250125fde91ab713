"""The README's "API quick start" works as written, against a live API.

Each ```sh block of that section runs in a fresh ``bash`` (``set -euo
pipefail``) with the variables the blocks before it exported, as a reader
pasting them in order would have; ``API`` points at the test server instead of
port 5000. A ``.curlrc`` makes every curl also write its HTTP status to stderr,
so the test knows each status without the README having to print it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support import ROOT
from support.processes import clean_env
from support.servers import LiveServer

# SQLite only: the README's curl examples check the documentation, not the database.
pytestmark = [pytest.mark.backends("sqlite"), pytest.mark.slow]  # slow: runs bash, curl and flask

SECTION = "## API quick start"
STATUS_MARK = "HTTP_STATUS"
VENV_BIN = str(Path(sys.executable).parent)
SECRET = "readme-test-secret-key-that-is-long-enough-0123456789"

# What each block must answer, in order: the HTTP status of each curl it runs.
EXPECTED_STATUSES = [
    [],  # the API key, made with the command line
    [201],  # create the invoice
    [201],  # record a payment
    [200, 200],  # fetch the invoice, list the overdue ones
]


def quick_start_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert SECTION in text, f"README.md has no {SECTION!r} section"
    section = text.split(SECTION, 1)[1]
    section = re.split(r"^## ", section, maxsplit=1, flags=re.MULTILINE)[0]
    return re.findall(r"^```sh\n(.*?)^```", section, flags=re.MULTILINE | re.DOTALL)


def json_documents(text: str) -> list:
    """Every JSON value printed one after another (curl prints bodies back to back)."""
    decoder = json.JSONDecoder()
    documents, position = [], 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position == len(text):
            return documents
        document, position = decoder.raw_decode(text, position)
        documents.append(document)


@pytest.fixture
def api_base_url(api_app):
    with LiveServer(api_app) as server:
        yield f"{server.url}/api/v1"


def shell_env(database_url: str, home: Path) -> dict[str, str]:
    """A reader's shell: our venv's flask and python3 first, no settings but the test database's."""
    env = {k: v for k, v in clean_env().items() if not k.startswith("CURL")}
    env.update(
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}",
        PYTHONPATH=str(ROOT),
        DATABASE_URL=database_url,
        SECRET_KEY=SECRET,
        CURL_HOME=str(home),
    )
    return env


def run_block(block: str, env: dict[str, str], cwd: Path) -> tuple[subprocess.CompletedProcess, dict[str, str]]:
    """Run one block; returns its result and the environment it leaves exported."""
    env_out = cwd / "exported.env"
    script = f'set -euo pipefail\n{block}\nenv -0 > "{env_out}"\n'
    result = subprocess.run(
        ["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    exported = env
    if result.returncode == 0:
        exported = dict(item.split("=", 1) for item in env_out.read_text().split("\0") if "=" in item)
    return result, exported


@pytest.fixture
def reader_env(database_url, tmp_path) -> dict[str, str]:
    assert shutil.which("curl"), "curl is needed to run the README's examples (apt-get install -y curl)"
    home = tmp_path / "curl-home"
    home.mkdir()
    # Every curl also writes its status to stderr, so the README need not print it.
    (home / ".curlrc").write_text(f'write-out = "%{{stderr}}{STATUS_MARK} %{{http_code}}\\n"\n')
    return shell_env(database_url, home)


def test_readme_api_quick_start_runs_as_written(reader_env, api_base_url, tmp_path):
    blocks = quick_start_blocks()
    assert len(blocks) == len(EXPECTED_STATUSES), "the quick start changed: update EXPECTED_STATUSES"
    curls = [line for block in blocks for line in block.splitlines() if line.lstrip().startswith("curl ")]
    assert curls and all("--fail-with-body" in line or " -f" in line for line in curls), (
        "every curl in the quick start must fail on an error status, or a broken example would pass"
    )
    env = reader_env
    outputs = []
    for number, (block, expected) in enumerate(zip(blocks, EXPECTED_STATUSES, strict=True), start=1):
        result, env = run_block(block, env, tmp_path)
        assert result.returncode == 0, f"block {number} failed:\n{block}\nstdout:\n{result.stdout}\n{result.stderr}"
        statuses = [int(code) for code in re.findall(rf"^{STATUS_MARK} (\d+)$", result.stderr, re.MULTILINE)]
        assert statuses == expected, f"block {number}:\n{block}\n{result.stdout}\n{result.stderr}"
        env["API"] = api_base_url  # the README's port 5000 is wherever the reader runs it; here, the test server
        outputs.append(result.stdout)

    # 1: a key from the command line, exported for the blocks after it.
    assert env["KEY"].startswith("inv_") and "\n" not in env["KEY"]

    # 2: the SPEC §7 example, issued, with its id captured from the JSON.
    [invoice] = json_documents(outputs[1])
    assert invoice["status"] == "open" and invoice["number"]
    assert (invoice["subtotal"], invoice["discount_total"], invoice["tax_total"], invoice["total"]) == (
        "30000.00",
        "3000.00",
        "2025.00",
        "29025.00",
    )
    assert env["INVOICE_ID"] == str(invoice["id"])

    # 3: the payment moves it to partially_paid.
    [payment] = json_documents(outputs[2])
    assert payment["amount"] == "10000.00" and payment["receipt_number"]
    assert payment["invoice"] == {
        "id": invoice["id"],
        "number": invoice["number"],
        "status": "partially_paid",
        "amount_paid": "10000.00",
        "balance_due": "19025.00",
    }

    # 4: the invoice as fetched, and a page of overdue invoices (it is not due yet).
    fetched, overdue = json_documents(outputs[3])
    assert (fetched["id"], fetched["status"], fetched["total"]) == (invoice["id"], "partially_paid", "29025.00")
    assert (fetched["amount_paid"], fetched["balance_due"]) == ("10000.00", "19025.00")
    assert overdue == {"data": [], "next_cursor": None}


def test_readme_quick_start_create_is_idempotent_when_run_twice(reader_env, api_base_url, tmp_path):
    """Pasting the create block again replays the first invoice instead of making a second one."""
    blocks = quick_start_blocks()
    result, env = run_block(blocks[0], reader_env, tmp_path)
    assert result.returncode == 0, result.stderr
    env["API"] = api_base_url
    first, env = run_block(blocks[1], env, tmp_path)
    again, env = run_block(blocks[1], env, tmp_path)
    assert first.returncode == 0 and again.returncode == 0, first.stderr + again.stderr
    assert again.stdout == first.stdout
    assert json_documents(again.stdout)[0]["total"] == "29025.00"
