"""Plain helpers shared by test modules (importable, unlike conftest): written once, imported everywhere.

``tests/`` is on ``sys.path`` (pytest's rootdir conftest), so ``support`` and its
modules import without path edits:

- here: the repository root, app settings for a test database, a signed-in admin browser;
- ``support.processes``: a clean environment, free ports, polling, a worker process;
- ``support.delivery``: an SMTP server, Twilio, worker settings and PDF text;
- ``support.servers``: a WSGI app on a real port, in a thread;
- ``support.webhooks``: a webhook receiver that verifies each delivery with ``standardwebhooks``;
- ``support.openapi``: the API's OpenAPI document loaded for schemathesis;
- ``support.tcp_proxy``: a loopback proxy a test can cut, to take a database away;
- ``support.figures``: the counts the resilience suite prints at the end.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def app_config(database_url: str, **extra) -> dict:
    """``create_app`` test_config for a test database."""
    return {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "APP_ENV": "testing",
        **extra,
    }


# ---------------------------------------------------------------- admin UI helpers

ADMIN_PASSWORD = "a-long-test-password"
_CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = _CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


class Browser:
    """A signed-in test client that fills in the CSRF token from the page it came from."""

    def __init__(self, client):
        self.client = client

    def get(self, url, **kwargs):
        return self.client.get(url, **kwargs)

    def post_form(self, page_url: str, data: dict, *, to: str | None = None, follow: bool = False):
        token = csrf_from(self.client.get(page_url).get_data(as_text=True))
        return self.client.post(to or page_url, data={"csrf_token": token, **data}, follow_redirects=follow)


def try_sign_in(app, email: str, password: str = ADMIN_PASSWORD):
    client = app.test_client()
    browser = Browser(client)
    return browser, browser.post_form("/admin/login", {"email": email, "password": password})


def sign_in(app, email: str, password: str = ADMIN_PASSWORD) -> Browser:
    browser, response = try_sign_in(app, email, password)
    assert response.status_code == 302, response.get_data(as_text=True)
    return browser


def sign_in_fails(app, email: str, password: str) -> bool:
    _, response = try_sign_in(app, email, password)
    return response.status_code == 200 and "/admin/login" in response.request.path


def finish_setup(session) -> None:
    """Mark the first-run setup done, as on an install in use (tests of other pages start there)."""
    from shared.db import utcnow
    from shared.lookups import get_settings

    get_settings(session).setup_completed_at = utcnow()
    session.commit()
