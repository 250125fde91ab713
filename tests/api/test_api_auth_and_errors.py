"""Keys, scopes and problem+json for every failure (SPEC §7)."""

import datetime as dt

import pytest
from sqlalchemy import select

import api_service
from shared.db import db
from shared.models import ApiKey
from shared.services import Actor, revoke_api_key
from support import app_config

# SQLite only: keys, scopes and problem documents are decided in Python; the outage test chooses Postgres.
pytestmark = pytest.mark.backends("sqlite")

PROBLEM_KEYS = {"type", "title", "status", "detail"}


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert set(body) >= PROBLEM_KEYS and body["status"] == status
    assert "Traceback" not in response.get_data(as_text=True)
    return body


def test_no_key_is_401_with_a_challenge(anonymous_api):
    response = anonymous_api.get("/invoices")
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer nope", "Basic abc", "Bearer", "inv_x"])
def test_a_bad_key_is_401(anonymous_api, header):
    assert_problem(anonymous_api.get("/invoices", headers={"Authorization": header}), 401)


def test_a_revoked_key_is_401(api, api_app):
    assert api.get("/clients").status_code == 200
    with api_app.app_context():
        key = db.session.scalars(select(ApiKey).where(ApiKey.name == "write key")).one()
        revoke_api_key(db.session, actor=Actor.system(), key_id=key.id)
    assert_problem(api.get("/clients"), 401)


def test_read_key_reads_but_cannot_write(read_api):
    assert read_api.get("/invoices").status_code == 200
    body = assert_problem(read_api.post("/clients", json={"name": "X"}), 403)
    assert "read scope" in body["detail"]


def test_only_admin_keys_decide_expenses(api, admin_api):
    expense = api.post("/expenses", json={"title": "Toner", "category": "Supplies", "amount": "100.00"}).get_json()
    assert_problem(api.post(f"/expenses/{expense['id']}/approve", json={}), 403)
    assert admin_api.post(f"/expenses/{expense['id']}/approve", json={"note": "ok"}).status_code == 200


def test_last_used_is_kept(api, api_app):
    api.get("/clients")
    with api_app.app_context():
        key = db.session.scalars(select(ApiKey).where(ApiKey.name == "write key")).one()
        assert key.last_used_at is not None
        assert dt.datetime.now(dt.UTC) - key.last_used_at < dt.timedelta(minutes=5)


def test_unknown_path_and_method_are_problems(api):
    assert_problem(api.get("/nothing-here"), 404)
    assert_problem(api.delete("/invoices"), 405)
    assert_problem(api.get("/invoices/999999"), 404)


def test_malformed_json_is_400(api):
    response = api.client.post(
        "/api/v1/clients",
        data="{not json",
        headers={"Authorization": f"Bearer {api.secret}", "Content-Type": "application/json"},
    )
    assert_problem(response, 400)


def test_nan_is_not_a_number(api):
    response = api.client.post(
        "/api/v1/expenses",
        data='{"title": "x", "category": "y", "amount": NaN}',
        headers={"Authorization": f"Bearer {api.secret}", "Content-Type": "application/json"},
    )
    assert_problem(response, 400)


def test_non_json_body_is_415(api):
    response = api.client.post(
        "/api/v1/clients",
        data="name=x",
        headers={"Authorization": f"Bearer {api.secret}", "Content-Type": "text/plain"},
    )
    assert_problem(response, 415)


def test_oversized_body_is_413(api):
    big = {"name": "x" * (3 * 1024 * 1024)}
    assert_problem(api.post("/clients", json=big), 413)


def test_a_body_that_is_not_an_object_is_422(api):
    body = assert_problem(api.post("/clients", json=[1, 2]), 422)
    assert body["errors"] == {"body": ["must be a JSON object"]}


@pytest.mark.parametrize("backend", ["postgresql"])  # SQLite is a file; there is no server to take away
def test_database_down_is_503_and_recovers(backend, database_url):
    """With the database unreachable the API answers 503 problem+json, then recovers by itself."""
    from support.tcp_proxy import TcpProxy

    host_port = database_url.split("@", 1)[1].split("/", 1)[0]
    host, port = host_port.split(":") if ":" in host_port else (host_port, "5432")
    with TcpProxy(host, int(port)) as proxy:
        url = database_url.replace(host_port, f"127.0.0.1:{proxy.port}")
        app = api_service.create_app(app_config(url))
        with app.app_context():
            from shared.services import create_api_key

            _, secret = create_api_key(db.session, actor=Actor.system(), name="k", scope="read")
            db.session.remove()
        client = app.test_client()
        headers = {"Authorization": f"Bearer {secret}"}
        assert client.get("/api/v1/clients", headers=headers).status_code == 200
        proxy.stop()
        down = client.get("/api/v1/clients", headers=headers)
        body = assert_problem(down, 503)
        assert "database" in body["detail"]
        proxy.start()
        assert client.get("/api/v1/clients", headers=headers).status_code == 200
        with app.app_context():
            db.engine.dispose()


def test_the_api_sets_and_reads_no_session_cookie(api, api_app):
    """Keys, not cookies: the API opens no cookie session, so none is ever set, and a cookie sent is not read."""
    from flask import request
    from flask.sessions import NullSession

    with api_app.test_request_context("/api/v1/invoices", headers={"Cookie": "session=from-the-admin"}):
        assert isinstance(api_app.session_interface.open_session(api_app, request), NullSession)
    api.client.set_cookie("session", "from-the-admin")
    response = api.get("/invoices")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
