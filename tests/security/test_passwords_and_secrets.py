"""Passwords are scrypt hashes; no password, key or secret shows in the database, logs, CLI output or error pages."""

from __future__ import annotations

import base64
import logging

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

import main_service
from shared.db import db
from shared.messages.delivery import drain_queue
from shared.models import ApiKey, QueuedMessage, User
from shared.services import Notify
from support import app_config, sign_in_fails, try_sign_in
from support.delivery import TwilioStub, make_config
from support.processes import free_port

# SQLite only: hashing and what logs and pages show are decided in Python.
pytestmark = pytest.mark.backends("sqlite")

PASSWORD = "correct-horse-battery-staple-42"
SMTP_PASSWORD = "smtp-pa55word-do-not-log"
TWILIO_SID = "AC" + "1" * 32
TWILIO_TOKEN = "twilio-token-do-not-log-0123456789"
SECRET_KEY = "test-secret-key-that-is-long-enough-0123456789"


def dump(engine: sa.Engine) -> str:
    """Every value of every table, as text."""
    text = []
    with engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            text += [repr(tuple(row)) for row in conn.execute(sa.select(table))]
    return "\n".join(text)


def test_password_is_an_scrypt_hash_and_nowhere_in_db_logs_or_cli(admin_app, engine, caplog):
    caplog.set_level(logging.DEBUG)
    result = admin_app.test_cli_runner().invoke(
        args=["create-user", "--email", "ada@example.com", "--name", "Ada", "--role", "admin", "--password", "-"],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    with Session(engine) as session:
        stored = session.scalars(sa.select(User.password_hash)).one()
    assert stored.startswith("scrypt:")  # werkzeug's scrypt: memory-hard, salted
    assert len(stored.split("$")[1]) >= 16  # a salt per user
    assert sign_in_fails(admin_app, "ada@example.com", PASSWORD + "x")
    _, response = try_sign_in(admin_app, "ada@example.com", PASSWORD)
    assert response.status_code == 302
    assert PASSWORD not in dump(engine)
    assert PASSWORD not in caplog.text


def test_two_users_with_one_password_get_different_hashes(admin_app, engine):
    for who in ("a", "b"):
        admin_app.test_cli_runner().invoke(
            args=["create-user", "--email", f"{who}@example.com", "--name", who, "--role", "staff", "--password", "-"],
            input=PASSWORD + "\n",
        )
    with Session(engine) as session:
        hashes = session.scalars(sa.select(User.password_hash)).all()
    assert len(set(hashes)) == 2


def test_api_key_is_printed_once_and_stored_only_as_a_hash(admin_app, engine, caplog):
    caplog.set_level(logging.DEBUG)
    result = admin_app.test_cli_runner().invoke(args=["create-api-key", "--name", "shop", "--scope", "read"])
    secret = result.output.strip().splitlines()[-1]
    assert len(secret) >= 40
    assert secret not in dump(engine)
    assert secret not in caplog.text


def test_error_pages_show_no_secret(admin_app, api_app, keys, database_url, caplog):
    """A 404, a 405 and an unexpected 500 on both services: nothing of the configuration leaks."""
    caplog.set_level(logging.DEBUG)
    app = main_service.create_app(app_config(database_url))  # not the shared admin_app: this test adds a route

    @app.get("/boom")
    def boom():
        raise RuntimeError(f"failure near {app.config['SECRET_KEY'][:0]}")

    pages = [
        app.test_client().get("/boom"),
        app.test_client().get("/admin/nowhere"),
        api_app.test_client().get("/api/v1/nowhere", headers={"Authorization": f"Bearer {keys['admin']}"}),
        api_app.test_client().delete("/api/v1/invoices", headers={"Authorization": f"Bearer {keys['admin']}"}),
    ]
    with app.app_context():
        db.engine.dispose()
    assert pages[0].status_code == 500
    for page in pages:
        body = page.get_data(as_text=True)
        assert "Traceback" not in body
        for secret in (SECRET_KEY, *keys.values()):
            assert secret not in body
    for secret in (SECRET_KEY, *keys.values()):
        assert secret not in caplog.text


@pytest.fixture
def refusing_smtp():
    """An SMTP server that asks for a login and refuses every one (535)."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            return "250 OK"

    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # AUTH without TLS: fine on 127.0.0.1 for this test
        controller = _controller(Controller, Handler, AuthResult)
        controller.start()
    yield controller.port
    controller.stop()


def _controller(Controller, Handler, AuthResult):
    return Controller(
        Handler(),
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=lambda server, session, envelope, mechanism, data: AuthResult(success=False, handled=False),
        auth_require_tls=False,
        auth_required=False,  # AUTH is still offered (no TLS needed on loopback); every login is refused
    )


def test_no_secret_in_logs_on_a_failed_smtp_login_and_a_failed_twilio_call(
    session, database_url, tmp_path, make_invoice, refusing_smtp, caplog
):
    caplog.set_level(logging.DEBUG)
    invoice = make_invoice(issue=True, notify=Notify(email=True, sms=True))
    with TwilioStub() as stub:
        stub.errors["+2348030000000"] = (401, 20003)
        config = make_config(
            database_url,
            tmp_path,
            MAIL_BACKEND="smtp",
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=refusing_smtp,
            SMTP_USERNAME="mailer",
            SMTP_PASSWORD=SMTP_PASSWORD,
            SMS_BACKEND="twilio",
            TWILIO_ACCOUNT_SID=TWILIO_SID,
            TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
            TWILIO_FROM_NUMBER="+15005550006",
            TWILIO_API_BASE_URL=stub.url,
        )
        outcomes = drain_queue(session, owner="security-test", config=config)
        assert stub.requests, "the Twilio stub was never called"
    assert outcomes == {"retry": 2}
    session.rollback()
    errors = " ".join(r.last_error or "" for r in session.scalars(sa.select(QueuedMessage)))
    assert "535" in errors or "auth" in errors.lower(), errors  # the login really failed
    basic = base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
    plain_auth = base64.b64encode(f"\0mailer\0{SMTP_PASSWORD}".encode()).decode()
    for secret in (SMTP_PASSWORD, TWILIO_TOKEN, basic, plain_auth, SECRET_KEY):
        assert secret not in caplog.text
        assert secret not in errors
    assert invoice.id


def test_api_keys_hashes_are_not_reversible(api_app, keys, engine):
    with Session(engine) as session:
        stored = " ".join(repr(tuple(row)) for row in session.execute(sa.select(ApiKey)))
    for secret in keys.values():
        assert secret not in stored
        assert secret[len(secret) // 2 :] not in stored  # the random half (a split on "_" could leave one letter)
    assert app_config  # the helper module is the one the apps use
