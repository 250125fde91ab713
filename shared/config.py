"""Settings of SPEC §3, read from the environment inside the app factories.

Nothing here runs at import time: ``load_config`` is called by each service's
``create_app`` so tests and tools can pass their own environment. A missing or
malformed setting raises :class:`ConfigError` whose message is one line naming
the variable; the factories print it and stop without a traceback.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "sqlite:///instance/invoicing.db"
DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:5000"

MAIL_BACKENDS = ("smtp", "file", "console")
SMS_BACKENDS = ("twilio", "file", "console", "disabled")
SMTP_SECURITY_MODES = ("none", "starttls", "ssl")
APP_ENVS = ("development", "production", "testing")
BOOLEANS = ("true", "false")


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Setting:
    name: str
    default: str | None
    choices: tuple[str, ...] = ()
    kind: str = "str"  # str | int | bool


SETTINGS: tuple[Setting, ...] = (
    Setting("APP_ENV", "development", APP_ENVS),
    Setting("DATABASE_URL", DEFAULT_DATABASE_URL),
    Setting("DATABASE_PREPARED_STATEMENTS", "true", BOOLEANS, kind="bool"),
    Setting("SECRET_KEY", None),
    Setting("PUBLIC_BASE_URL", DEFAULT_PUBLIC_BASE_URL),
    Setting("MAIL_BACKEND", "file", MAIL_BACKENDS),
    Setting("SMTP_HOST", "localhost"),
    Setting("SMTP_PORT", "25", kind="int"),
    Setting("SMTP_USERNAME", ""),
    Setting("SMTP_PASSWORD", ""),
    Setting("SMTP_SECURITY", "none", SMTP_SECURITY_MODES),
    Setting("MAIL_FROM", "invoices@localhost"),
    Setting("MAIL_REPLY_TO", ""),
    Setting("SMS_BACKEND", "file", SMS_BACKENDS),
    Setting("TWILIO_ACCOUNT_SID", ""),
    Setting("TWILIO_AUTH_TOKEN", ""),
    Setting("TWILIO_FROM_NUMBER", ""),
    Setting("TWILIO_API_BASE_URL", ""),
    Setting("WORKER_POLL_SECONDS", "2", kind="int"),
    Setting("WORKER_LEASE_SECONDS", "120", kind="int"),
    Setting("WORKER_MAX_ATTEMPTS", "8", kind="int"),
    Setting("STRIPE_SECRET_KEY", ""),
    Setting("STRIPE_WEBHOOK_SECRET", ""),
    Setting("STRIPE_API_BASE", ""),
    Setting("WEBHOOK_ALLOW_PRIVATE", "false", BOOLEANS, kind="bool"),
    Setting("WEBHOOK_TIMEOUT_SECONDS", "10", kind="int"),
)

INT_BOUNDS = {
    "SMTP_PORT": (1, 65535),
    "WORKER_POLL_SECONDS": (1, 3600),
    "WORKER_LEASE_SECONDS": (5, 86400),
    "WORKER_MAX_ATTEMPTS": (1, 100),
    "WEBHOOK_TIMEOUT_SECONDS": (1, 60),
}


def _read(setting: Setting, environ: Mapping[str, str]) -> Any:
    raw = environ.get(setting.name)
    if raw is None or raw.strip() == "":
        raw = setting.default
    if raw is None:
        return None
    raw = raw.strip()
    if setting.kind == "bool":
        raw = raw.lower()
    if setting.choices and raw not in setting.choices:
        raise ConfigError(f"{setting.name} must be one of {', '.join(setting.choices)} (got {raw!r})")
    if setting.kind == "int":
        low, high = INT_BOUNDS[setting.name]
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"{setting.name} must be a whole number (got {raw!r})") from None
        if not low <= value <= high:
            raise ConfigError(f"{setting.name} must be between {low} and {high} (got {value})")
        return value
    if setting.kind == "bool":
        return raw == "true"
    return raw


def instance_path() -> Path:
    return PROJECT_ROOT / "instance"


def _generated_secret_key(folder: Path) -> str:
    """A development secret kept in instance/ so sessions survive restarts."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def resolve_database_url(url: str, folder: Path) -> str:
    """Make the relative SQLite default point into the instance folder."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
        relative = url[len(prefix) :]
        if relative.startswith("instance/"):
            relative = relative[len("instance/") :]
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        return prefix + str(path)
    if url.startswith("postgres://"):
        # Heroku-style URLs: SQLAlchemy only knows the postgresql scheme.
        return "postgresql://" + url[len("postgres://") :]
    if not (url.startswith("sqlite:") or url.startswith("postgresql")):
        raise ConfigError(f"DATABASE_URL must be a sqlite:/// or postgresql:// URL (got {url.split(':')[0]}:...)")
    return url


def load_config(environ: Mapping[str, str] | None = None, folder: Path | None = None) -> dict:
    """Read and check every setting; returns a dict for ``app.config``."""
    env = os.environ if environ is None else environ
    folder = folder or instance_path()
    values = {s.name: _read(s, env) for s in SETTINGS}
    production = values["APP_ENV"] == "production"
    if production:
        if not values["SECRET_KEY"]:
            raise ConfigError("SECRET_KEY must be set when APP_ENV=production")
        if len(values["SECRET_KEY"]) < 32 or values["SECRET_KEY"] in {"dev", "changeme", "secret"}:
            raise ConfigError("SECRET_KEY must be a random value of at least 32 characters")
        if values["DATABASE_URL"].startswith("sqlite"):
            raise ConfigError(
                "DATABASE_URL must point to PostgreSQL when APP_ENV=production (SQLite is the development default)"
            )
    if not values["SECRET_KEY"]:
        values["SECRET_KEY"] = _generated_secret_key(folder)
    values["DATABASE_URL"] = resolve_database_url(values["DATABASE_URL"], folder)
    if values["MAIL_BACKEND"] == "smtp" and not values["SMTP_HOST"]:
        raise ConfigError("SMTP_HOST must be set when MAIL_BACKEND=smtp")
    if values["SMS_BACKEND"] == "twilio":
        for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER"):
            if not values[name]:
                raise ConfigError(f"{name} must be set when SMS_BACKEND=twilio")
    _check_stripe(values)
    if not values["PUBLIC_BASE_URL"].startswith(("http://", "https://")):
        raise ConfigError("PUBLIC_BASE_URL must start with http:// or https://")
    values["PUBLIC_BASE_URL"] = values["PUBLIC_BASE_URL"].rstrip("/")
    values["OUTBOX_DIR"] = str(folder / "outbox")
    values["INSTANCE_PATH"] = str(folder)
    return values


def _check_stripe(values: dict) -> None:
    """SPEC §14: Stripe's settings are optional, but a malformed one stops start-up with one line."""
    key, secret, base = values["STRIPE_SECRET_KEY"], values["STRIPE_WEBHOOK_SECRET"], values["STRIPE_API_BASE"]
    # Secret (sk_) and restricted (rk_) keys; a publishable key (pk_) cannot create sessions.
    if key and (not key.startswith(("sk_", "rk_")) or not key.isascii() or any(c.isspace() for c in key)):
        raise ConfigError("STRIPE_SECRET_KEY must be a Stripe secret key starting with sk_ or rk_")
    if secret and (not secret.startswith("whsec_") or not secret.isascii() or any(c.isspace() for c in secret)):
        raise ConfigError("STRIPE_WEBHOOK_SECRET must be a Stripe webhook signing secret starting with whsec_")
    if key and not secret:
        # Without it no payment could ever be recorded: clients would pay and the invoice stay open.
        raise ConfigError("STRIPE_WEBHOOK_SECRET must be set when STRIPE_SECRET_KEY is set")
    if base:
        if not base.startswith(("http://", "https://")) or not base.split("://", 1)[1].strip("/"):
            raise ConfigError(f"STRIPE_API_BASE must be an http:// or https:// URL (got {base!r})")
        values["STRIPE_API_BASE"] = base.rstrip("/")


def flask_config(values: dict) -> dict:
    """Translate our settings into the Flask and Flask-SQLAlchemy keys."""
    production = values["APP_ENV"] == "production"
    config = dict(values)
    config.update(
        SECRET_KEY=values["SECRET_KEY"],
        SQLALCHEMY_DATABASE_URI=values["DATABASE_URL"],
        SQLALCHEMY_ENGINE_OPTIONS=engine_options(values["DATABASE_URL"]),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=production,
        REMEMBER_COOKIE_SECURE=production,
        REMEMBER_COOKIE_HTTPONLY=True,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        TESTING=values["APP_ENV"] == "testing",
    )
    return config


def engine_options(url: str) -> dict:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    # Pooled connections are checked when they have rested (shared.db._ping_when_idle), not on every checkout.
    return {"pool_pre_ping": False, "pool_size": 5, "max_overflow": 10}


def online_payment_enabled(config: Mapping[str, Any]) -> bool:
    """Whether clients can pay online (SPEC §14): only with a Stripe key configured.

    Until then every e-mail and page says "View the invoice online", never "pay online".
    """
    return bool(str(config.get("STRIPE_SECRET_KEY") or "").strip())
