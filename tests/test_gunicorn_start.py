"""Under gunicorn (SPEC §2 production), a bad setting stops the server with one line."""

import subprocess
import sys
from pathlib import Path

import pytest

from support import ROOT
from support.processes import clean_env

GUNICORN = str(Path(sys.executable).parent / "gunicorn")

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("target", ["main_service:create_app()", "api_service:create_app()"])
def test_gunicorn_stops_instead_of_respawning_on_a_bad_setting(target):
    env = clean_env(APP_ENV="production")
    result = subprocess.run(
        [GUNICORN, "--bind", "127.0.0.1:0", "--workers", "1", target],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Worker failed to boot" in result.stderr
    assert "error: SECRET_KEY must be set when APP_ENV=production" in result.stderr
    assert "Traceback" not in result.stderr
