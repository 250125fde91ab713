"""The deployment files (Dockerfile, docker-compose.yml) match SPEC §2–§4.

The compose file is parsed, not run: these checks catch a renamed setting, a
wrong factory path or a lost healthcheck before anyone tries ``docker compose
up``. The settings come from ``shared.config.SETTINGS`` so the compose file and
the code can never drift apart unnoticed.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from shared.config import SETTINGS, ConfigError, load_config

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

SETTING_NAMES = {s.name for s in SETTINGS}
SETTINGS_BY_NAME = {s.name: s for s in SETTINGS}
APP_SERVICES = ("migrate", "main", "api", "worker")
LONG_RUNNING = ("main", "api", "worker")

# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message}, ${VAR?message}
SUBSTITUTION = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")
SAMPLE_VALUES = {
    "SECRET_KEY": "k" * 16 + "0123456789abcdef0123456789abcdef",
}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def command_words(service: dict) -> list[str]:
    command = service["command"]
    return shlex.split(command) if isinstance(command, str) else list(command)


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # the ["NAME=value", ...] form
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {name: "" if value is None else str(value) for name, value in env.items()}


def substitute(value: str) -> str:
    """Replace compose ${...} substitutions with a sample or their default."""

    def replace(match: re.Match) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        if name in SAMPLE_VALUES:
            return SAMPLE_VALUES[name]
        if op and op.endswith("-"):
            return arg
        raise AssertionError(f"no sample value for required substitution ${{{name}}}")

    return SUBSTITUTION.sub(replace, value)


def is_substitution(value: str) -> bool:
    return SUBSTITUTION.search(value) is not None


def test_all_services_exist(services):
    assert {"db", "mail", "migrate", "main", "api", "worker"} <= set(services)


def test_db_is_postgres_with_volume_and_healthcheck(compose, services):
    db = services["db"]
    assert db["image"].startswith("postgres:")
    env = environment(db)
    assert env["POSTGRES_USER"] == env["POSTGRES_PASSWORD"] == env["POSTGRES_DB"] == "invoicing"
    test = db["healthcheck"]["test"]
    assert "pg_isready" in (test if isinstance(test, str) else " ".join(test))
    named = [v.split(":", 1)[0] for v in db["volumes"] if isinstance(v, str)]
    assert any(name in (compose.get("volumes") or {}) for name in named)


def test_mail_catcher_publishes_web_ui(services):
    mail = services["mail"]
    assert mail["image"].startswith("axllent/mailpit")
    assert any(str(port).endswith(":8025") for port in mail.get("ports", []))


def test_migrate_applies_migrations(services):
    assert command_words(services["migrate"]) == [
        "flask",
        "--app",
        "main_service",
        "db",
        "upgrade",
    ]


@pytest.mark.parametrize(
    ("service", "factory", "port"),
    [
        ("main", "main_service:create_app()", "5000"),
        ("api", "api_service:create_app()", "5001"),
    ],
)
def test_web_services_run_factories_under_gunicorn(services, service, factory, port):
    words = command_words(services[service])
    assert words[0] == "gunicorn"
    assert factory in words
    bind = words[words.index("--bind") + 1]
    assert bind == f"0.0.0.0:{port}"
    assert any(str(p).endswith(f":{port}") for p in services[service]["ports"])


def test_worker_runs_background_service(services):
    assert command_words(services["worker"]) == ["python", "-m", "background_service"]


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_services_use_only_spec_settings(services, service):
    env = environment(services[service])
    assert env, f"{service} has no environment"
    unknown = set(env) - SETTING_NAMES
    assert not unknown, f"{service} sets variables the app does not read: {sorted(unknown)}"
    # ${VAR} inside a value must also name a setting (no typo'd pass-throughs).
    for name, value in env.items():
        for match in SUBSTITUTION.finditer(value):
            assert match["name"] in SETTING_NAMES, f"{name} refers to ${{{match['name']}}}"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_choice_settings_have_valid_values(services, service):
    env = environment(services[service])
    for name, value in env.items():
        setting = SETTINGS_BY_NAME[name]
        if not setting.choices:
            continue
        candidate = substitute(value) if is_substitution(value) else value
        assert candidate in setting.choices, f"{service}: {name}={value!r}"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_production_database_and_secret(services, service):
    env = environment(services[service])
    assert env["APP_ENV"] == "production"
    url = env["DATABASE_URL"]
    assert url.startswith("postgresql://")
    assert re.search(r"@db(:5432)?/", url), url
    db_env = environment(services["db"])
    assert url.rsplit("/", 1)[1] == db_env["POSTGRES_DB"]
    # SECRET_KEY must come from the operator, never a literal in the repo.
    assert re.fullmatch(r"\$\{SECRET_KEY:?\?[^}]*\}", env["SECRET_KEY"]), env["SECRET_KEY"]


def test_mail_goes_to_the_catcher(services):
    env = environment(services["worker"])
    assert env["MAIL_BACKEND"] == "smtp"
    assert env["SMTP_HOST"] == "mail"
    assert env["SMTP_PORT"] == "1025"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_services_wait_for_healthy_db(services, service):
    depends_on = services[service]["depends_on"]
    assert isinstance(depends_on, dict), "use the long depends_on form with conditions"
    assert depends_on["db"]["condition"] == "service_healthy"


@pytest.mark.parametrize("service", LONG_RUNNING)
def test_long_running_services_wait_for_migrations(services, service):
    depends_on = services[service]["depends_on"]
    assert depends_on["migrate"]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_services_build_the_repo_image(services, service):
    build = services[service]["build"]
    context = build if isinstance(build, str) else build.get("context", ".")
    assert context in (".", "./")


@pytest.mark.parametrize("service", APP_SERVICES)
def test_load_config_accepts_compose_environment(services, service, tmp_path):
    env = {name: substitute(value) for name, value in environment(services[service]).items()}
    values = load_config(env, folder=tmp_path)
    assert values["APP_ENV"] == "production"
    assert values["DATABASE_URL"] == env["DATABASE_URL"]
    assert values["MAIL_BACKEND"] == "smtp"
    assert values["SMTP_PORT"] == 1025
    assert values["PUBLIC_BASE_URL"].startswith(("http://", "https://"))
    # A set SECRET_KEY means nothing is generated into the instance folder.
    assert not (tmp_path / "secret_key").exists()


def test_load_config_refuses_compose_environment_without_secret(services, tmp_path):
    env = {name: substitute(value) for name, value in environment(services["main"]).items()}
    env["SECRET_KEY"] = ""
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config(env, folder=tmp_path)


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    result = []
    for line in lines:
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        result.append((keyword.upper(), rest.strip()))
    return result


def test_dockerfile_base_and_requirements():
    instructions = dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    runs = [rest for keyword, rest in instructions if keyword == "RUN"]
    assert any("pip install" in run and "-r requirements.txt" in run for run in runs)
    assert any("gunicorn" in run for run in runs if "pip install" in run)
    assert any("libpango" in run for run in runs), "WeasyPrint needs Pango"
    copies = [rest for keyword, rest in instructions if keyword == "COPY"]
    assert copies[0].split()[0] == "requirements.txt", "copy requirements before the code"
    assert ("WORKDIR", "/app") in instructions


def test_dockerfile_does_not_run_as_root():
    users = [rest for keyword, rest in dockerfile_instructions() if keyword == "USER"]
    assert users, "Dockerfile needs a USER line"
    assert users[-1].split(":")[0] not in {"root", "0"}


def test_dockerfile_cmd_uses_gunicorn():
    cmds = [rest for keyword, rest in dockerfile_instructions() if keyword == "CMD"]
    assert cmds, "Dockerfile needs a CMD"
    cmd = cmds[-1]
    assert "gunicorn" in cmd
    assert "main_service:create_app()" in cmd
    assert "0.0.0.0:5000" in cmd


def test_dockerignore_keeps_local_state_out_of_the_image():
    entries = {line.strip() for line in DOCKERIGNORE.read_text().splitlines()}
    for entry in (
        ".venv",
        "instance",
        "__pycache__",
        ".git",
        ".pytest_cache",
        ".hypothesis",
    ):
        assert entry in entries, entry
