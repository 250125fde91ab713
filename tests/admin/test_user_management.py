"""An admin resets another user's password and changes roles (issue 13 item 11).

One's own password is changed with the current one on /admin/account
(tests/security/test_review_sessions.py); these are the admin's tools.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared.db import db
from shared.errors import Conflict, PermissionDenied
from shared.models import User
from shared.services import Actor
from shared.services.users import change_role, reset_password
from support import ADMIN_PASSWORD, sign_in, sign_in_fails

# SQLite only: pages and the rules around them (Python); the one lock race below runs on both backends.
pytestmark = pytest.mark.backends("sqlite")

NEW_PASSWORD = "a-fresh-password-from-the-admin"


def signed_out(browser) -> bool:
    response = browser.get("/admin/")
    return response.status_code == 302 and "/admin/login" in response.headers["Location"]


def role_of(app, email: str) -> str:
    with app.app_context():
        role = db.session.scalar(select(User.role).where(User.email == email))
        db.session.remove()
        return role


def test_an_admin_resets_a_users_password_and_their_sessions_end(admin_app, admin, users):
    staff = sign_in(admin_app, "staff@example.com")
    page = admin.get(f"/admin/users/{users['staff']}")
    assert page.status_code == 200 and "Reset password" in page.get_data(as_text=True)
    response = admin.post_form(
        f"/admin/users/{users['staff']}",
        {"new_password": NEW_PASSWORD, "repeat_password": NEW_PASSWORD},
        to=f"/admin/users/{users['staff']}/password",
        follow=True,
    )
    assert "every session they had has ended" in response.get_data(as_text=True)
    assert signed_out(staff)
    assert sign_in_fails(admin_app, "staff@example.com", ADMIN_PASSWORD)
    sign_in(admin_app, "staff@example.com", NEW_PASSWORD)
    assert admin.get("/admin/").status_code == 200  # the admin's own session is untouched


@pytest.mark.parametrize(
    ("new", "repeat", "message"),
    [("short", "short", "at least 10 characters"), (NEW_PASSWORD, NEW_PASSWORD + "x", "does not match")],
)
def test_a_weak_or_mistyped_reset_is_named_and_changes_nothing(admin_app, admin, users, new, repeat, message):
    staff = sign_in(admin_app, "staff@example.com")
    response = admin.post_form(
        f"/admin/users/{users['staff']}",
        {"new_password": new, "repeat_password": repeat},
        to=f"/admin/users/{users['staff']}/password",
    )
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert not signed_out(staff)
    sign_in(admin_app, "staff@example.com", ADMIN_PASSWORD)


def test_an_admin_makes_staff_an_admin_and_back(admin_app, admin, users):
    staff = sign_in(admin_app, "staff@example.com")
    assert staff.get("/admin/settings").status_code == 403
    url = f"/admin/users/{users['staff']}"
    response = admin.post_form(url, {"role": "admin"}, to=url + "/role", follow=True)
    assert "staff@example.com is now admin." in response.get_data(as_text=True)
    assert staff.get("/admin/settings").status_code == 200  # the same session, the new role
    admin.post_form(url, {"role": "staff"}, to=url + "/role")
    assert role_of(admin_app, "staff@example.com") == "staff"
    assert staff.get("/admin/settings").status_code == 403


def test_nobody_changes_their_own_role_or_resets_their_own_password_here(admin_app, admin, users):
    url = f"/admin/users/{users['admin']}"
    page = admin.get(url).get_data(as_text=True)
    assert "This is you" in page and "Reset password" not in page
    response = admin.post_form("/admin/users", {"role": "staff"}, to=url + "/role")
    assert (
        response.status_code == 422
        and "another admin must change your own role" in response.get_data(as_text=True).lower()
    )
    response = admin.post_form(
        "/admin/users", {"new_password": NEW_PASSWORD, "repeat_password": NEW_PASSWORD}, to=url + "/password"
    )
    assert response.status_code == 422 and "Your password page" in response.get_data(as_text=True)
    assert role_of(admin_app, "admin@example.com") == "admin"
    sign_in(admin_app, "admin@example.com", ADMIN_PASSWORD)


def test_staff_can_neither_reset_passwords_nor_change_roles(admin_app, staff, users):
    url = f"/admin/users/{users['admin']}"
    assert staff.get(url).status_code == 403
    token_page = "/admin/account"
    assert staff.post_form(token_page, {"role": "staff"}, to=url + "/role").status_code == 403
    assert staff.post_form(token_page, {"new_password": NEW_PASSWORD}, to=url + "/password").status_code == 403
    assert role_of(admin_app, "admin@example.com") == "admin"


def test_the_services_refuse_non_admins_and_keep_the_last_admin(session, users):
    staff = session.get(User, users["staff"])
    admin = session.get(User, users["admin"])
    with pytest.raises(PermissionDenied):
        reset_password(session, actor=Actor.user(staff), user_id=admin.id, new_password=NEW_PASSWORD)
    with pytest.raises(PermissionDenied):
        change_role(session, actor=Actor.user(staff), user_id=staff.id, role="admin")
    script = Actor.system("script", is_admin=True)
    with pytest.raises(Conflict, match="last active admin"):
        change_role(session, actor=script, user_id=admin.id, role="staff")
    change_role(session, actor=script, user_id=staff.id, role="admin")
    change_role(session, actor=script, user_id=admin.id, role="staff")  # another admin remains now
    session.expire_all()
    assert {u.email: u.role for u in session.scalars(select(User))} == {
        "admin@example.com": "staff",
        "staff@example.com": "admin",
    }


@pytest.mark.backends("sqlite", "postgresql")
def test_two_admins_demoting_each_other_leave_one_admin(session, users, engine):
    """Both demotions lock the other admins' rows first (run on PostgreSQL too): one of them is refused."""
    session.execute(update(User).values(role="admin"))
    session.commit()
    first, second = users["admin"], users["staff"]
    script = Actor.system("script", is_admin=True)

    outcomes: list[str] = []

    def demote(user_id: int) -> None:
        with Session(engine) as own:
            try:
                change_role(own, actor=script, user_id=user_id, role="staff")
                outcomes.append("demoted")
            except Conflict:
                outcomes.append("refused")

    threads = [threading.Thread(target=demote, args=(user_id,)) for user_id in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["demoted", "refused"]
    session.expire_all()
    assert [u.role for u in session.scalars(select(User))].count("admin") == 1
