"""Admin UI fixtures: an app on the test database, users of each role, signed-in clients."""

from __future__ import annotations

import re

import pytest

import main_service
from shared.db import db
from shared.services import Actor, create_user
from support import app_config

PASSWORD = "a-long-test-password"
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


@pytest.fixture
def admin_app(database_url):
    app = main_service.create_app(app_config(database_url))
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def users(admin_app):
    with admin_app.app_context():
        made = {
            role: create_user(
                db.session,
                actor=Actor.system(),
                email=f"{role}@example.com",
                name=f"{role.title()} User",
                role=role,
                password=PASSWORD,
            ).id
            for role in ("admin", "staff")
        }
        db.session.remove()
        return made


class Browser:
    """A signed-in test client that fills in the CSRF token from the page it came from."""

    def __init__(self, client):
        self.client = client

    def get(self, url, **kwargs):
        return self.client.get(url, **kwargs)

    def post_form(self, page_url: str, data: dict, *, to: str | None = None, follow: bool = False):
        token = csrf_from(self.client.get(page_url).get_data(as_text=True))
        return self.client.post(to or page_url, data={"csrf_token": token, **data}, follow_redirects=follow)


def sign_in(app, email: str) -> Browser:
    client = app.test_client()
    browser = Browser(client)
    response = browser.post_form("/admin/login", {"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    return browser


@pytest.fixture
def admin(admin_app, users) -> Browser:
    return sign_in(admin_app, "admin@example.com")


@pytest.fixture
def staff(admin_app, users) -> Browser:
    return sign_in(admin_app, "staff@example.com")
