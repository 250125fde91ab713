"""Admin UI fixtures: an app on the test database, users of each role, signed-in clients."""

from __future__ import annotations

import pytest

import main_service
from shared.db import db
from shared.services import Actor, create_user
from support import ADMIN_PASSWORD, Browser, app_config, csrf_from, sign_in  # noqa: F401

PASSWORD = ADMIN_PASSWORD


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


@pytest.fixture
def admin(admin_app, users) -> Browser:
    return sign_in(admin_app, "admin@example.com")


@pytest.fixture
def staff(admin_app, users) -> Browser:
    return sign_in(admin_app, "staff@example.com")
