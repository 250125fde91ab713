"""The deployment files (Dockerfile, docker-compose.yml) match SPEC §2–§4.

The compose file is parsed, not run (no Docker engine runs in CI): these
checks catch a renamed setting, a wrong factory path or a lost healthcheck
before anyone tries ``docker compose up``. The settings come from
``shared.config.SETTINGS`` so the compose file and the code can never drift
apart unnoticed, and the README's "Docker Compose" section is read against the
file: its addresses, the services it names and how it passes ``SECRET_KEY``.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

from shared.config import SETTINGS, ConfigError, load_config

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
GITIGNORE = ROOT / ".gitignore"
README = ROOT / "README.md"
COMPOSE_SECTION = "## Docker Compose"

# Which service answers each path (SPEC §2); the mail catcher's web UI is at its root.
SERVED_BY = {"/admin": "main", "/i/": "main", "/api/v1": "api"}
LOCAL_URL = re.compile(r"http://(?:localhost|127\.0\.0\.1):(?P<port>\d+)(?P<path>/[^\s)>`'\"]*)?")

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


def migrate_steps(service: dict) -> list[list[str]]:
    """The commands the one-off service runs, in order (``sh -c "a && b"`` or a single command)."""
    words = command_words(service)
    if words[:2] == ["sh", "-c"]:
        assert len(words) == 3, words
        return [shlex.split(step) for step in words[2].split("&&")]
    return [words]


def test_migrate_applies_migrations_then_creates_the_first_admin(services):
    """Nothing else would create the first user: ensure-admin runs after the migrations, and only if they succeed."""
    assert migrate_steps(services["migrate"]) == [
        ["flask", "--app", "main_service", "db", "upgrade"],
        ["flask", "--app", "main_service", "ensure-admin"],
    ]
    assert services["migrate"]["restart"] == "no"


def test_migrate_commands_exist_on_the_command_line(tmp_path):
    from main_service import create_app
    from support import app_config

    app = create_app(app_config(f"sqlite:///{tmp_path / 'unused.db'}"))
    assert {"db", "ensure-admin", "create-api-key"} <= set(app.cli.list_commands(None))


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


# ------------------------------------------------------------------ README against the compose file


def published_ports(service: dict) -> set[str]:
    """Host ports a service publishes ("5000:5000", "127.0.0.1:5000:5000" or the long form)."""
    ports = set()
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            ports.add(str(entry.get("published", entry["target"])))
        else:
            parts = str(entry).split(":")
            ports.add(parts[-2] if len(parts) >= 2 else parts[0])
    return ports


def readme_compose_section() -> str:
    text = README.read_text(encoding="utf-8")
    assert COMPOSE_SECTION in text, f"README.md has no {COMPOSE_SECTION!r} section"
    section = text.split(COMPOSE_SECTION, 1)[1]
    return re.split(r"^## ", section, maxsplit=1, flags=re.MULTILINE)[0]


def compose_header() -> str:
    lines = COMPOSE.read_text().splitlines()
    header = []
    for line in lines:
        if not line.startswith("#"):
            break
        header.append(line)
    return "\n".join(header)


def services_for(path: str | None) -> set[str]:
    """Who may answer a path: the app that serves it; a bare address is the admin app's root or Mailpit's UI."""
    for prefix, name in SERVED_BY.items():
        if path and path.startswith(prefix):
            return {name}
    return {"main", "mail"}


@pytest.mark.parametrize("where", ["README", "compose header"])
def test_every_address_given_is_published_by_the_service_that_answers_it(services, where):
    text = readme_compose_section() if where == "README" else compose_header()
    urls = list(LOCAL_URL.finditer(text))
    for url in urls:
        candidates = services_for(url["path"])
        published = set().union(*(published_ports(services[name]) for name in candidates))
        assert url["port"] in published, f"{where}: {url[0]} but {'/'.join(sorted(candidates))} publish {published}"
    given = {(url["path"] or "").rstrip("/") for url in urls}
    assert {"/admin", "/api/v1"} <= given, f"{where}: give the admin UI's and the API's addresses"
    assert any(url["port"] in published_ports(services["mail"]) for url in urls), f"{where}: give Mailpit's address"


def test_links_in_messages_point_at_the_published_admin_app(services):
    """PUBLIC_BASE_URL's default is where the public invoice page (/i/<token>, served by main) is published."""
    value = environment(services["worker"])["PUBLIC_BASE_URL"]
    [url] = LOCAL_URL.finditer(substitute(value))
    assert url["port"] in published_ports(services["main"])


def test_readme_names_only_services_that_exist(services):
    section = readme_compose_section()
    named = re.findall(r"docker compose (?:logs|exec|run|restart|stop)(?: -\w+| --\w[\w-]*)* ([\w-]+)", section)
    assert named, "the README's compose section shows how to reach a service"
    assert set(named) <= set(services), set(named) - set(services)


def test_readme_says_where_the_first_admins_password_is_printed(services):
    """The README points at the log of the service that runs ensure-admin."""
    section = readme_compose_section()
    [service] = [name for name, svc in services.items() if "command" in svc and "ensure-admin" in str(svc["command"])]
    assert f"docker compose logs {service}" in section
    assert "admin@example.com" in section


def readme_compose_blocks() -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```", readme_compose_section(), flags=re.MULTILINE | re.DOTALL)


def test_readme_and_compose_file_pass_secret_key_the_same_way(services, tmp_path):
    """Both say: put SECRET_KEY in .env beside the compose file. The README's line writes one the app accepts."""
    assert ".env" in compose_header()
    assert re.search(r"\$\{SECRET_KEY:\?[^}]*\.env[^}]*\}", environment(services["main"])["SECRET_KEY"])
    section = readme_compose_section()
    assert "SECRET_KEY=... docker compose" not in README.read_text(encoding="utf-8")
    [line] = [line for block in readme_compose_blocks() for line in block.splitlines() if "> .env" in line]

    def write_env() -> str:
        result = subprocess.run(["bash", "-c", line], cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return (tmp_path / ".env").read_text()

    first = write_env()
    assert write_env() == first, "pasting it again must keep the key (a new one would sign everyone out)"
    [secret] = re.findall(r"^SECRET_KEY=(\S+)$", first, flags=re.MULTILINE)
    env = {name: substitute(value) for name, value in environment(services["main"]).items()}
    env["SECRET_KEY"] = secret
    assert load_config(env, folder=tmp_path)["SECRET_KEY"] == secret
    assert "docker compose up" in section


def test_env_file_with_the_secret_is_never_committed_or_copied_into_the_image():
    assert ".env" in {line.strip() for line in GITIGNORE.read_text().splitlines()}
    assert ".env" in {line.strip() for line in DOCKERIGNORE.read_text().splitlines()}


def test_readme_compose_key_block_is_the_quick_start_one_pointed_at_the_containers(services):
    """Against compose, the quick start's first block changes only where the API is and where flask runs."""
    readme = README.read_text(encoding="utf-8")
    quick_start = readme.split("## API quick start", 1)[1]
    quick_start_key_block = re.findall(r"^```sh\n(.*?)^```", quick_start, flags=re.MULTILINE | re.DOTALL)[0]
    [compose_key_block] = [block for block in readme_compose_blocks() if "create-api-key" in block]
    [api_port] = published_ports(services["api"])
    expected = quick_start_key_block.replace(
        "http://127.0.0.1:5000/api/v1", f"http://localhost:{api_port}/api/v1"
    ).replace(".venv/bin/flask", "docker compose exec -T api flask")
    assert compose_key_block == expected


def test_readme_lists_exactly_the_settings_compose_takes_from_env(services):
    """Every ${VAR} the compose file reads is named in the README's section, and every one named there is read."""
    taken = {
        match["name"]
        for name in APP_SERVICES
        for value in environment(services[name]).values()
        for match in SUBSTITUTION.finditer(value)
    }
    section = readme_compose_section()
    [paragraph] = [part for part in section.split("\n\n") if part.startswith("Other settings in `.env`")]
    named = set(re.findall(r"`([A-Z][A-Z0-9_]*\*?)`", paragraph)) | {"SECRET_KEY"}

    def covered(variable: str) -> bool:
        return any(variable == n or (n.endswith("*") and variable.startswith(n[:-1])) for n in named)

    assert all(covered(variable) for variable in taken), sorted(v for v in taken if not covered(v))
    for n in named:
        assert any(v == n or (n.endswith("*") and v.startswith(n[:-1])) for v in taken), f"compose does not read {n}"
