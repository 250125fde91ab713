"""Every admin page needs a sign-in, every POST a CSRF token, admin pages the admin role."""

import re

import pytest

from main_service.demo import seed_demo
from shared.db import db

# SQLite only: who may open which page is decided in Python; the pages read the same rows on either backend.
pytestmark = pytest.mark.backends("sqlite")

ADMIN_ONLY = {
    "admin.settings",
    "admin.settings_logo",
    "admin.settings_logo_remove",
    "admin.users",
    "admin.user_active",
    "admin.api_keys",
    "admin.api_key_revoke",
    "admin.expense_decide",
    "admin.webhooks",
    "admin.webhook_rotate",
    "admin.webhook_delete",
    "admin.webhook_test",
}
SAMPLE_VALUES = {
    "action": "retry",
    "decision": "approve",
    "change": "deactivate",
}


def admin_urls(app) -> list[tuple[str, str, set[str]]]:
    """(endpoint, url, methods) for every /admin rule, with sample ids filled in."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin") or rule.endpoint == "admin.static":
            continue
        url = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: str(SAMPLE_VALUES.get(m.group(1), 1)), rule.rule)
        found.append((rule.endpoint, url, set(rule.methods) - {"HEAD", "OPTIONS"}))
    return found


@pytest.fixture
def seeded(admin_app):
    with admin_app.app_context():
        seed_demo(db.session, echo=lambda _: None)
        db.session.remove()


def test_every_admin_page_redirects_to_sign_in_when_signed_out(admin_app, seeded):
    client = admin_app.test_client()
    checked = 0
    for endpoint, url, methods in admin_urls(admin_app):
        if endpoint == "admin.login":
            continue
        for method in methods:
            response = client.open(url, method=method)
            if method == "POST":
                # A POST with no session has no CSRF token either: refused before anything else.
                assert response.status_code in (302, 400), (method, url, response.status_code)
                assert response.status_code != 200
            else:
                assert response.status_code == 302, (method, url)
                assert "/admin/login" in response.headers["Location"], url
            checked += 1
    assert checked > 30


def test_every_post_without_a_csrf_token_is_refused(admin_app, seeded, admin):
    posts = [(endpoint, url) for endpoint, url, methods in admin_urls(admin_app) if "POST" in methods]
    assert len(posts) > 15
    for endpoint, url in posts:
        response = admin.client.post(url, data={"name": "x", "email": "x@example.com", "amount": "1"})
        assert response.status_code == 400, (endpoint, url, response.status_code)
        assert "expired" in response.get_data(as_text=True) or "request" in response.get_data(as_text=True)


def test_no_state_changes_on_get(admin_app, seeded, admin):
    """GET on an action URL never changes anything: the confirm pages only show a form."""
    from sqlalchemy import func, select

    from shared.models import Activity

    with admin_app.app_context():
        before = db.session.scalar(select(func.count()).select_from(Activity))
    for endpoint, url, methods in admin_urls(admin_app):
        if "GET" in methods and endpoint != "admin.logout":
            admin.get(url)
    with admin_app.app_context():
        # Viewing never writes activity (public "viewed" is outside /admin).
        assert db.session.scalar(select(func.count()).select_from(Activity)) == before


def test_staff_get_403_on_admin_only_pages(admin_app, seeded, staff):
    for endpoint, url, methods in admin_urls(admin_app):
        if endpoint not in ADMIN_ONLY:
            continue
        for method in methods:
            response = staff.get(url) if method == "GET" else staff.post_form("/admin/", {}, to=url)
            assert response.status_code == 403, (endpoint, method, url, response.status_code)
            assert "You do not have access" in response.get_data(as_text=True)


def test_staff_can_use_the_daily_pages(admin_app, seeded, staff):
    for url in (
        "/admin/",
        "/admin/invoices",
        "/admin/clients",
        "/admin/payments",
        "/admin/expenses",
        "/admin/delivery",
    ):
        assert staff.get(url).status_code == 200, url
    nav = staff.get("/admin/").get_data(as_text=True)
    assert "/admin/settings" not in nav and "/admin/users" not in nav


def test_security_headers_and_cookie_flags(admin_app, admin):
    response = admin.get("/admin/")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors" in response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    cookie = admin.client.get_cookie("session")
    assert cookie is not None and cookie.http_only


@pytest.mark.parametrize("backend", ["postgresql"])  # production refuses SQLite
def test_production_cookies_are_secure(backend, database_url):
    import main_service
    from support import app_config

    app = main_service.create_app(app_config(database_url, APP_ENV="production"))
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True


def test_friendly_error_pages(admin):
    response = admin.get("/admin/invoices/999999")
    assert response.status_code == 404
    assert "invoice 999999 does not exist" in response.get_data(as_text=True).lower()
    assert "Traceback" not in response.get_data(as_text=True)
