"""Security test fixtures: the admin and API apps on the test database, users of each role, API keys."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import api_service
import main_service
from shared.db import db
from shared.services import Actor, create_api_key, create_user
from support import ADMIN_PASSWORD, app_config, sign_in

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "delivery"))


@pytest.fixture
def admin_app(database_url):
    app = main_service.create_app(app_config(database_url))
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def api_app(database_url):
    app = api_service.create_app(app_config(database_url))
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
                password=ADMIN_PASSWORD,
            ).id
            for role in ("admin", "staff")
        }
        db.session.remove()
        return made


@pytest.fixture
def admin(admin_app, users):
    return sign_in(admin_app, "admin@example.com")


@pytest.fixture
def keys(api_app) -> dict[str, str]:
    with api_app.app_context():
        made = {
            scope: create_api_key(db.session, actor=Actor.system("tests"), name=f"{scope} key", scope=scope)[1]
            for scope in ("read", "write", "admin")
        }
        db.session.remove()
        return made
