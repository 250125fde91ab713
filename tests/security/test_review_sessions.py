"""Issue 12 item 3: signing out did not end the session; a copied session cookie kept working for 31 days.

Sessions are now revocable (SPEC §6): each user has a session version, the
session carries the version it was signed in with, and every request checks
it. Signing out, changing the password and deactivating the user move the
version on, so every cookie issued before stops working at once, copies
included. A session also ends twelve hours after its sign-in, whatever happens.
"""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from shared.models import User
from shared.services.sign_in import SESSION_LIFETIME
from support import ADMIN_PASSWORD, Browser, sign_in

# SQLite only: session versions are compared in Python on each request.
pytestmark = pytest.mark.backends("sqlite")

NEW_PASSWORD = "another-long-password"


def copy_of(app, browser: Browser) -> Browser:
    """A second browser holding a copy of ``browser``'s session cookie (what a thief would have)."""
    thief = app.test_client()
    thief.set_cookie("session", browser.client.get_cookie("session").value)
    return Browser(thief)


def signed_out(browser: Browser) -> bool:
    response = browser.get("/admin/")
    return response.status_code == 302 and "/admin/login" in response.headers["Location"]


def test_signing_out_ends_a_copied_session_cookie(admin_app, users):
    staff = sign_in(admin_app, "staff@example.com")
    thief = copy_of(admin_app, staff)
    assert thief.get("/admin/").status_code == 200
    assert staff.post_form("/admin/", {}, to="/admin/logout").status_code == 302
    assert signed_out(staff)
    assert signed_out(thief)


def test_signing_in_again_does_not_revive_an_old_cookie(admin_app, users):
    staff = sign_in(admin_app, "staff@example.com")
    thief = copy_of(admin_app, staff)
    staff.post_form("/admin/", {}, to="/admin/logout")
    again = sign_in(admin_app, "staff@example.com")
    assert again.get("/admin/").status_code == 200
    assert signed_out(thief)


def test_changing_the_password_ends_every_other_session(admin_app, users, engine):
    staff = sign_in(admin_app, "staff@example.com")
    elsewhere = sign_in(admin_app, "staff@example.com")
    thief = copy_of(admin_app, staff)
    response = staff.post_form(
        "/admin/account",
        {"current_password": ADMIN_PASSWORD, "new_password": NEW_PASSWORD, "repeat_password": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert staff.get("/admin/").status_code == 200  # the browser that changed it stays signed in
    assert signed_out(elsewhere)
    assert signed_out(thief)
    with Session(engine) as session:
        assert (
            session.scalars(sa.select(User).where(User.email == "staff@example.com")).one().check_password(NEW_PASSWORD)
        )


def test_a_wrong_current_password_or_a_weak_new_one_changes_nothing(admin_app, users, engine):
    staff = sign_in(admin_app, "staff@example.com")
    elsewhere = sign_in(admin_app, "staff@example.com")
    for current, new, repeat, message in (
        ("not-my-password", NEW_PASSWORD, NEW_PASSWORD, "Is not your current password."),
        (ADMIN_PASSWORD, "short", "short", "Must be at least 10 characters."),
        (ADMIN_PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", "Does not match the new password."),
    ):
        response = staff.post_form(
            "/admin/account", {"current_password": current, "new_password": new, "repeat_password": repeat}
        )
        assert response.status_code == 200 and message in response.get_data(as_text=True), message
    assert elsewhere.get("/admin/").status_code == 200
    with Session(engine) as session:
        assert (
            session.scalars(sa.select(User).where(User.email == "staff@example.com"))
            .one()
            .check_password(ADMIN_PASSWORD)
        )


def test_a_deactivated_users_cookie_stays_dead_after_reactivation(admin_app, admin, users):
    staff = sign_in(admin_app, "staff@example.com")
    admin.post_form("/admin/users", {}, to=f"/admin/users/{users['staff']}/deactivate")
    assert signed_out(staff)
    admin.post_form("/admin/users", {}, to=f"/admin/users/{users['staff']}/activate")
    assert signed_out(staff)
    assert sign_in(admin_app, "staff@example.com").get("/admin/").status_code == 200


def test_a_session_ends_at_its_absolute_lifetime(admin_app, users):
    staff = sign_in(admin_app, "staff@example.com")
    with staff.client.session_transaction() as cookie:
        cookie["signed_in_at"] = int(time.time() - SESSION_LIFETIME.total_seconds() + 60)
    assert staff.get("/admin/").status_code == 200
    with staff.client.session_transaction() as cookie:
        cookie["signed_in_at"] = int(time.time() - SESSION_LIFETIME.total_seconds() - 1)
    assert signed_out(staff)


def test_the_session_cookie_signature_expires_with_the_lifetime(admin_app):
    assert admin_app.permanent_session_lifetime == SESSION_LIFETIME


def test_a_session_without_a_sign_in_time_or_version_is_refused(admin_app, users):
    """Cookies from before this change (``_user_id`` alone, no version or sign-in time) are signed out."""
    staff = sign_in(admin_app, "staff@example.com")
    with staff.client.session_transaction() as cookie:
        cookie["_user_id"] = str(users["staff"])
    assert signed_out(staff)
    staff = sign_in(admin_app, "staff@example.com")
    with staff.client.session_transaction() as cookie:
        del cookie["signed_in_at"]
    assert signed_out(staff)
