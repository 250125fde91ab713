"""WeasyPrint is imported by the first PDF render, not by starting a service (issue 19).

Importing it costs most of a second of CPU, paid by every process that starts
an app (the services, the CLI, and the test suite's many subprocesses) whether
or not it ever renders a PDF. Checked in a fresh interpreter, since this test
process has long imported it for other tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow  # starts a Python process (make test-fast leaves these out)

PROGRAM = """
import json, sys
from support import app_config
import main_service, api_service, background_service
import background_service.worker, shared.documents, shared.messages.compose, shared.messages.delivery
config = app_config("sqlite:///" + sys.argv[1])
apps = [main_service.create_app(config), api_service.create_app(config), background_service.create_app(config)]
before = "weasyprint" in sys.modules
from shared.documents import engine  # what the first render imports
print(json.dumps({"apps": len(apps), "before": before, "after": "weasyprint" in sys.modules}))
"""


def test_starting_the_three_services_does_not_import_weasyprint(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", PROGRAM, str(tmp_path / "lazy.db")],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'tests'}"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen == {"apps": 3, "before": False, "after": True}
