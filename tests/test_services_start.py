"""The three services start, refuse bad settings cleanly, and stop on a signal (SPEC §2–§4, §6, §7)."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy.orm import Session

import api_service
import main_service
from shared.config import SETTINGS
from shared.db import db
from shared.services import Actor, create_user
from support import ROOT, app_config, finish_setup
from support.processes import FLASK, WorkerProcess, clean_env

# SQLite only: starting, signing in and stopping; the worker's migrate hint below runs on both.
pytestmark = pytest.mark.backends("sqlite")

SECRET = "s" * 40
PASSWORD = "a-long-enough-password"


# ---------------------------------------------------------------- refusing bad settings

REFUSALS = {
    # case id: (environment, the variable the one line must name)
    "no-secret-in-production": ({"APP_ENV": "production"}, "SECRET_KEY"),
    "sqlite-in-production": (
        {"APP_ENV": "production", "SECRET_KEY": SECRET, "DATABASE_URL": "sqlite:////tmp/never-created.db"},
        "DATABASE_URL",
    ),
    "poll-not-a-number": (
        {"SECRET_KEY": SECRET, "DATABASE_URL": "sqlite:////tmp/never-created.db", "WORKER_POLL_SECONDS": "abc"},
        "WORKER_POLL_SECONDS",
    ),
}

COMMANDS = {
    "flask-routes": [FLASK, "--app", "main_service", "routes"],
    "worker-once": [sys.executable, "-m", "background_service", "--once"],
}


def assert_one_line_naming(stderr: str, variable: str) -> None:
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert variable in lines[0], lines[0]


# Each command is started once, with a different refusal: which settings are refused is
# decided in configure_app (every case, both factories, in the test below); what the real
# command line adds is that the refusal reaches the terminal as one line and a non-zero exit.
STARTS = {"flask-routes": "no-secret-in-production", "worker-once": "poll-not-a-number"}


@pytest.mark.slow
@pytest.mark.parametrize(("command", "case"), [(COMMANDS[c], REFUSALS[r]) for c, r in STARTS.items()], ids=STARTS)
def test_bad_setting_stops_a_command_with_one_line(command, case):
    environment, variable = case
    result = subprocess.run(
        command, cwd=ROOT, env=clean_env(**environment), capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stdout
    assert_one_line_naming(result.stderr, variable)


@pytest.mark.parametrize("factory", [api_service.create_app, main_service.create_app], ids=["api", "main"])
@pytest.mark.parametrize("case", REFUSALS.values(), ids=REFUSALS.keys())
def test_bad_setting_stops_an_app_factory_with_one_line(factory, case, monkeypatch, capsys):
    environment, variable = case
    for setting in SETTINGS:
        monkeypatch.delenv(setting.name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exc_info:
        factory()
    assert exc_info.value.code not in (0, None)
    captured = capsys.readouterr()
    assert_one_line_naming(captured.err, variable)
    assert captured.out == ""


# ---------------------------------------------------------------- the admin app


class FormInspector(HTMLParser):
    """Collects the inputs of a page and the ``for`` of its labels."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: list[dict[str, str | None]] = []
        self.label_for: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in ("input", "select", "textarea"):
            self.inputs.append({"tag": tag, **attributes})
        elif tag == "label" and attributes.get("for"):
            self.label_for.add(attributes["for"])


def csrf_token(html: str) -> str:
    match = re.search(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def location_path(response) -> tuple[str, dict[str, list[str]], str]:
    parts = urlsplit(response.headers["Location"])
    return parts.path, parse_qs(parts.query), parts.netloc


@pytest.fixture
def admin_app(database_url, engine, remembered_password_hashes):
    app = main_service.create_app(app_config(database_url))
    with Session(engine) as s:
        create_user(
            s, actor=Actor.system("tests"), email="ada@example.com", name="Ada Admin", role="admin", password=PASSWORD
        )
        finish_setup(s)  # an install in use: signing in lands on the dashboard
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(admin_app):
    return admin_app.test_client()


def log_in(client, email="ada@example.com", password=PASSWORD, next_url=None):
    page = client.get("/admin/login")
    url = "/admin/login" if next_url is None else "/admin/login?" + f"next={next_url}"
    return client.post(url, data={"email": email, "password": password, "csrf_token": csrf_token(page.text)})


def test_dashboard_needs_a_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    path, query, netloc = location_path(response)
    assert netloc in ("", "localhost")
    assert path == "/admin/login"
    assert query["next"] == ["/admin/"]


def test_root_leads_to_the_admin(client):
    response = client.get("/")
    assert response.status_code == 302
    assert location_path(response)[0] == "/admin/"


def test_login_page_has_a_labelled_form_with_csrf(client):
    response = client.get("/admin/login")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = FormInspector()
    page.feed(response.text)
    assert csrf_token(response.text)
    visible = [i for i in page.inputs if i.get("type") not in ("hidden", "submit")]
    assert {i.get("name") for i in visible} >= {"email", "password"}
    for field in visible:
        assert field.get("id") in page.label_for, field
    assert any(i.get("name") == "password" and i.get("type") == "password" for i in visible)


def test_login_with_valid_credentials_shows_the_dashboard(client):
    response = log_in(client)
    assert response.status_code == 302
    assert location_path(response)[0] == "/admin/"
    dashboard = client.get("/admin/")
    assert dashboard.status_code == 200
    assert "Dashboard" in dashboard.text
    assert "Ada Admin" in dashboard.text
    # Signed in, the login page sends you on.
    assert client.get("/admin/login").status_code == 302


def test_login_email_is_case_insensitive(client):
    assert location_path(log_in(client, email="ADA@Example.com"))[0] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_wrong_password_shows_an_error_and_stays_logged_out(client):
    response = log_in(client, password=PASSWORD + "-wrong")
    assert response.status_code == 200
    assert "do not match" in response.text
    assert PASSWORD not in response.text
    assert client.get("/admin/").status_code == 302


def test_unknown_user_gets_the_same_error(client):
    response = log_in(client, email="nobody@example.com")
    assert response.status_code == 200
    assert "do not match" in response.text
    assert client.get("/admin/").status_code == 302


def test_login_without_csrf_token_is_refused(client):
    client.get("/admin/login")
    response = client.post("/admin/login", data={"email": "ada@example.com", "password": PASSWORD})
    assert response.status_code in (200, 400)
    assert client.get("/admin/").status_code == 302


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/", "https:evil.example", "/\\evil.example"],
    ids=["absolute", "scheme-relative", "no-slashes", "backslash"],
)
def test_login_does_not_follow_an_offsite_next(client, target):
    from urllib.parse import quote

    response = log_in(client, next_url=quote(target, safe=""))
    assert response.status_code == 302
    path, _query, netloc = location_path(response)
    assert netloc in ("", "localhost")
    assert path == "/admin/"
    assert "evil" not in response.headers["Location"]


def test_login_follows_a_same_site_next(client):
    response = log_in(client, next_url="/admin/%3Fpage%3D2")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/?page=2")


def test_logout_is_post_only(client):
    log_in(client)
    assert client.get("/admin/logout").status_code == 405
    dashboard = client.get("/admin/")
    assert dashboard.status_code == 200  # still signed in after the GET

    response = client.post("/admin/logout", data={"csrf_token": csrf_token(dashboard.text)})
    assert response.status_code == 302
    assert location_path(response)[0] == "/admin/login"
    assert client.get("/admin/").status_code == 302


def test_logout_without_csrf_keeps_the_session(client):
    log_in(client)
    client.post("/admin/logout", data={})
    assert client.get("/admin/").status_code == 200


def test_admin_pages_send_security_headers(client):
    response = client.get("/admin/login")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # Same-origin framing only: the review page shows the invoice PDF in a frame.
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in response.headers["Content-Security-Policy"]


# ---------------------------------------------------------------- the API app


@pytest.fixture
def api_client(database_url):
    app = api_service.create_app(app_config(database_url))
    yield app.test_client()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_api_index_answers_json(api_client):
    response = api_client.get("/api/v1/")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert isinstance(response.get_json(), dict)


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/nope/deeper", "/nothing-here"])
def test_api_unknown_path_is_a_problem_document(api_client, path):
    response = api_client.get(path)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == 404


def test_api_wrong_method_is_a_problem_document(api_client):
    response = api_client.delete("/api/v1/")
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"
    assert response.get_json(force=True)["status"] == 405


# ---------------------------------------------------------------- the worker


def worker_env(database_url: str) -> dict[str, str]:
    return clean_env(DATABASE_URL=database_url, SECRET_KEY=SECRET, WORKER_POLL_SECONDS="1")


@pytest.mark.slow
def test_worker_once_exits_zero(database_url):
    result = subprocess.run(
        [sys.executable, "-m", "background_service", "--once"],
        cwd=ROOT,
        env=worker_env(database_url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
@pytest.mark.backends("sqlite", "postgresql")  # each backend tells a missing table its own way
def test_worker_once_without_tables_says_to_migrate(databases, backend):
    url = databases.create_database(backend)
    result = subprocess.run(
        [sys.executable, "-m", "background_service", "--once"],
        cwd=ROOT,
        env=worker_env(url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "db upgrade" in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_worker_runs_until_signalled_and_exits_zero(database_url, signum):
    with WorkerProcess(worker_env(database_url)) as worker:
        assert worker.wait_for("worker ready", 30), worker.output()
        assert worker.process.poll() is None, "the worker exited on its own"
        worker.signal(signum)
        code = worker.wait(20)
        if code is None:
            pytest.fail("the worker did not stop within 20 s of " + signum.name)
        output = worker.output()
        assert code == 0, output
        assert "Traceback" not in output
