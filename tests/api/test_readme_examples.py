"""The README's "API quick start" works as written, against a live API.

Each ```sh block of that section runs verbatim in a fresh ``bash`` -- no
``set -e``, no activated virtual environment (no ``VIRTUAL_ENV``, no
``.venv/bin`` on ``PATH``, no ``PYTHONPATH``) -- in a copy of the repository as a
reader has it after ``make run`` (its files and its ``.venv``), with the
variables the blocks before it exported, as a reader pasting them in order
would have. ``API`` points at the test server instead of port 5000. An ``ERR``
trap reports any command that fails, as the reader would see it; a
``.curlrc`` makes every curl also write its HTTP status to stderr, so the test
knows each status without the README having to print it.
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

from shared.config import SETTINGS
from support import ROOT
from support.servers import LiveServer

# SQLite only: the README's curl examples check the documentation, not the database.
pytestmark = [pytest.mark.backends("sqlite"), pytest.mark.slow]  # slow: runs bash, curl and flask

SECTION = "## API quick start"
STATUS_MARK = "HTTP_STATUS"
FAILED_MARK = "COMMAND_FAILED"
SECRET = "readme-test-secret-key-that-is-long-enough-0123456789"
# What a shell gets from an activated virtual environment; a reader may have none of it.
VENV_VARIABLES = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "CONDA_PREFIX")

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


def venv_bin_dirs() -> set[Path]:
    return {(Path(sys.prefix) / "bin").resolve(), (ROOT / ".venv" / "bin").resolve()}


def reader_checkout(folder: Path) -> Path:
    """The repository as a reader has it after ``make run``: its files and a ``.venv`` (the one running the tests).

    Hidden files (``.env`` and ``.flaskenv`` would be read by flask) and ``instance/`` are left out.
    """
    assert sys.prefix != sys.base_prefix, "the README tests run in the project's virtual environment"
    folder.mkdir()
    for entry in ROOT.iterdir():
        if not entry.name.startswith(".") and entry.name != "instance":
            (folder / entry.name).symlink_to(entry)
    (folder / ".venv").symlink_to(Path(sys.prefix))
    return folder


def shell_env(database_url: str, home: Path) -> dict[str, str]:
    """A reader's fresh shell: no virtual environment, no settings but the test database's."""
    names = {setting.name for setting in SETTINGS}
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in names and k not in VENV_VARIABLES and not k.startswith(("FLASK_", "CURL"))
    }
    venv_bins = venv_bin_dirs()
    path = [p for p in env.get("PATH", "/usr/bin:/bin").split(os.pathsep) if p and Path(p).resolve() not in venv_bins]
    tmp = home / "tmp"
    tmp.mkdir(exist_ok=True)
    env.update(
        PATH=os.pathsep.join(path),
        DATABASE_URL=database_url,
        SECRET_KEY=SECRET,
        CURL_HOME=str(home),
        TMPDIR=str(tmp),
    )
    return env


def run_block(block: str, env: dict[str, str], cwd: Path, scratch: Path) -> tuple[subprocess.CompletedProcess, dict]:
    """Run one block verbatim; returns its result and the environment it leaves exported.

    The ERR trap changes nothing in how the block runs: it only writes a line to
    stderr when a command fails, as a reader would notice in their terminal.
    """
    env_out = scratch / "exported.env"
    env_out.unlink(missing_ok=True)
    script = (
        f"trap 'echo \"{FAILED_MARK} ($?): $BASH_COMMAND\" >&2' ERR\n"
        f"{block}\n"
        f'status=$?\ntrap - ERR\nenv -0 > "{env_out}"\nexit $status\n'
    )
    result = subprocess.run(
        ["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    exported = dict(item.split("=", 1) for item in env_out.read_text().split("\0") if "=" in item)
    return result, exported


def failed_commands(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith(FAILED_MARK)]


@pytest.fixture
def curl_home(tmp_path) -> Path:
    assert shutil.which("curl"), "curl is needed to run the README's examples (apt-get install -y curl)"
    home = tmp_path / "curl-home"
    home.mkdir()
    # Every curl also writes its status to stderr, so the README need not print it.
    (home / ".curlrc").write_text(f'write-out = "%{{stderr}}{STATUS_MARK} %{{http_code}}\\n"\n')
    return home


@pytest.fixture
def checkout(tmp_path) -> Path:
    return reader_checkout(tmp_path / "checkout")


@pytest.fixture
def reader_env(database_url, curl_home) -> dict[str, str]:
    env = shell_env(database_url, curl_home)
    # The shell really has no virtual environment: a bare `flask` or `python` is not the project's.
    for tool in ("flask", "python", "python3"):
        found = shutil.which(tool, path=env["PATH"])
        assert found is None or Path(found).parent.resolve() not in venv_bin_dirs(), found
    return env


def test_readme_quick_start_calls_the_projects_own_tools():
    """A bare `flask` may be another Python's (or none); the quick start names `.venv/bin/flask`."""
    commands = [line.strip() for block in quick_start_blocks() for line in block.splitlines()]
    bare = [line for line in commands if re.search(r"(^|\$\(|\|\s*)(flask|python|pip)\b", line)]
    assert not bare, f"call the project's tools through .venv/bin: {bare}"
    assert any(".venv/bin/flask --app main_service create-api-key" in line for line in commands)


def test_readme_api_quick_start_runs_as_written(reader_env, checkout, api_base_url, tmp_path):
    blocks = quick_start_blocks()
    assert len(blocks) == len(EXPECTED_STATUSES), "the quick start changed: update EXPECTED_STATUSES"
    curls = [line for block in blocks for line in block.splitlines() if line.lstrip().startswith("curl ")]
    assert curls and all("--fail-with-body" in line or " -f" in line for line in curls), (
        "every curl in the quick start must fail on an error status, or a broken example would pass"
    )
    files_before = sorted(os.listdir(checkout))
    env = reader_env
    outputs = []
    for number, (block, expected) in enumerate(zip(blocks, EXPECTED_STATUSES, strict=True), start=1):
        result, env = run_block(block, env, checkout, tmp_path)
        shown = f"block {number}:\n{block}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        assert result.returncode == 0 and not failed_commands(result), shown
        assert "Traceback" not in result.stderr, shown
        statuses = [int(code) for code in re.findall(rf"^{STATUS_MARK} (\d+)$", result.stderr, re.MULTILINE)]
        assert statuses == expected, shown
        env["API"] = api_base_url  # the README's port 5000 is wherever the reader runs it; here, the test server
        outputs.append(result.stdout)

    # Nothing is left behind in the reader's copy of the repository (the answer went to a temporary folder).
    assert sorted(os.listdir(checkout)) == files_before

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


def test_readme_quick_start_create_is_idempotent_when_run_twice(reader_env, checkout, api_base_url, tmp_path):
    """Pasting the create block again replays the first invoice instead of making a second one."""
    blocks = quick_start_blocks()
    result, env = run_block(blocks[0], reader_env, checkout, tmp_path)
    assert result.returncode == 0 and not failed_commands(result), result.stderr
    env["API"] = api_base_url
    first, env = run_block(blocks[1], env, checkout, tmp_path)
    again, env = run_block(blocks[1], env, checkout, tmp_path)
    assert first.returncode == 0 and again.returncode == 0, first.stderr + again.stderr
    assert again.stdout == first.stdout
    assert json_documents(again.stdout)[0]["total"] == "29025.00"


def test_readme_quick_start_stops_loudly_when_no_key_is_made(curl_home, checkout, tmp_path):
    """When the command line cannot make a key (here: a database never migrated), the first block says so and fails.

    Without the check the block would end with status 0 and an empty KEY, and
    every request after it would be refused with a puzzling 401.
    """
    env = shell_env(f"sqlite:///{tmp_path / 'never-migrated.db'}", curl_home)
    result, exported = run_block(quick_start_blocks()[0], env, checkout, tmp_path)
    assert exported.get("KEY", "") == ""
    assert result.returncode != 0, result.stderr
    assert failed_commands(result), result.stderr
    assert "the database has no tables yet" in result.stderr  # the command line's own reason
    assert "no API key" in result.stderr  # and the quick start's, in words
