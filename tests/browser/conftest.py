"""Browser tests: Debian's Chromium driven by Playwright against a live server.

Chromium comes from apt (``make test`` installs it); Playwright's own browser
download cannot work here, so the launch fixture points at /usr/bin/chromium.
A failing test saves a full-page screenshot under test-artifacts/.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import main_service
from shared.db import db
from support import IN_CI, ROOT, app_config, finish_setup
from support.servers import LiveServer

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts"


def pytest_collection_modifyitems(items):
    """Every test under tests/browser is marked ``browser`` (``make test-fast`` leaves them out)."""
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args():
    """pytest-playwright's launch arguments: the system Chromium, headless."""
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        message = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return {"executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


@pytest.fixture
def live_app(database_url, tmp_path):
    """The admin app on a real port, with outbox files under tmp_path."""
    app = main_service.create_app(
        app_config(database_url, MAIL_BACKEND="file", SMS_BACKEND="file", INSTANCE_PATH=str(tmp_path))
    )
    with app.app_context():
        finish_setup(db.session)  # an install in use: the walkthrough starts on the dashboard
        db.session.remove()
    with LiveServer(app) as server:
        app.config["LIVE_URL"] = server.url
        yield app
    with app.app_context():
        db.engine.dispose()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        page = item.funcargs.get("page")
        if page is not None:
            ARTIFACTS.mkdir(exist_ok=True)
            target = ARTIFACTS / f"{item.name}.png"
            try:
                page.screenshot(path=str(target), full_page=True)
                report.sections.append(("screenshot", str(target)))
            except Exception as exc:  # the page may already be closed
                report.sections.append(("screenshot", f"could not be taken: {exc}"))
