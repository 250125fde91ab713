"""Fixtures of tests/reports: the hand-worked books (report_books.py) and an admin app on the same database."""

from __future__ import annotations

import pytest
from report_books import Books, build_books

from shared.db import db
from shared.services import Actor, create_user
from support import ADMIN_PASSWORD, Browser, sign_in


@pytest.fixture
def books(session) -> Books:
    return build_books(session)


# ---------------------------------------------------------------- the admin app on the same database


@pytest.fixture
def admin(admin_app, remembered_password_hashes) -> Browser:
    with admin_app.app_context():
        create_user(
            db.session,
            actor=Actor.system(),
            email="admin@example.com",
            name="Admin User",
            role="admin",
            password=ADMIN_PASSWORD,
        )
        create_user(
            db.session,
            actor=Actor.system(),
            email="staff@example.com",
            name="Staff User",
            role="staff",
            password=ADMIN_PASSWORD,
        )
        db.session.remove()
    return sign_in(admin_app, "admin@example.com")
