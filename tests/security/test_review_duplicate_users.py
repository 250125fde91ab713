"""Issue 12 item 7: creating the same user e-mail twice at the same moment gave a 500 (unique violation).

Both requests passed the "does this e-mail exist?" check before either had
inserted, so the second insert hit the database's unique index and the error
escaped as a 500 page (admin) or a traceback (CLI). Now the loser of the race
gets the same "already exists" refusal as a plain duplicate, and nothing changes.
"""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

import main_service
import shared.services.users as user_services
from shared.db import db
from shared.errors import Conflict
from shared.models import User
from shared.services import Actor, create_user
from support import ADMIN_PASSWORD, app_config

EMAIL = "twin@example.com"


def _user_names(engine) -> list[str]:
    with Session(engine) as session:
        return list(session.scalars(sa.select(User.name).where(User.email == EMAIL)))


def test_two_simultaneous_creations_of_one_email_make_one_user_and_one_already_exists(engine):
    """Real concurrency: two sessions check, hash and insert at the same moment (on Postgres both pass the check)."""
    start = threading.Barrier(2)
    outcomes: list[object] = []

    def create(name: str) -> None:
        with Session(engine) as session:
            start.wait()
            try:
                create_user(
                    session, actor=Actor.system("tests"), email=EMAIL, name=name, role="staff", password=ADMIN_PASSWORD
                )
                outcomes.append("created")
            except Exception as exc:  # noqa: BLE001  (the test reports whatever escaped)
                outcomes.append(exc)

    threads = [threading.Thread(target=create, args=(name,)) for name in ("One", "Two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert outcomes.count("created") == 1, outcomes
    refusals = [o for o in outcomes if o != "created"]
    assert len(refusals) == 1 and isinstance(refusals[0], Conflict), outcomes
    assert f"{EMAIL} already exists" in refusals[0].message
    assert len(_user_names(engine)) == 1


@pytest.fixture
def lost_race(monkeypatch, engine):
    """Force the race: the other request's user is committed after our existence check said "free"."""
    with Session(engine) as session:
        create_user(
            session, actor=Actor.system("tests"), email=EMAIL, name="Winner", role="staff", password=ADMIN_PASSWORD
        )
    monkeypatch.setattr(user_services, "find_user_by_email", lambda session, email: None)


def test_the_admin_users_page_answers_already_exists_when_it_loses_the_race(admin, lost_race, engine):
    response = admin.post_form(
        "/admin/users",
        {"email": EMAIL, "name": "Loser", "role": "staff", "password": ADMIN_PASSWORD},
    )
    assert response.status_code == 200
    assert f"{EMAIL} already exists" in response.get_data(as_text=True)
    assert _user_names(engine) == ["Winner"]


def test_the_create_user_command_answers_already_exists_when_it_loses_the_race(database_url, lost_race, engine):
    app = main_service.create_app(app_config(database_url))
    try:
        result = app.test_cli_runner().invoke(
            args=["create-user", "--email", EMAIL, "--name", "Loser", "--role", "staff", "--password", ADMIN_PASSWORD]
        )
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    assert result.exit_code == 1
    assert "Traceback" not in result.output + result.stderr
    assert result.stderr.strip() == f"error: a user with e-mail {EMAIL} already exists"
    assert _user_names(engine) == ["Winner"]
