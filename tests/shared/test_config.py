"""Settings of SPEC §3 are checked at start-up, with one line naming the variable."""

import pytest

from shared.config import ConfigError, load_config

GOOD_SECRET = "k" * 40


def test_defaults_need_no_server(tmp_path):
    config = load_config({}, folder=tmp_path)
    assert config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'invoicing.db'}"
    assert config["MAIL_BACKEND"] == "file"
    assert config["SMS_BACKEND"] == "file"
    assert config["WORKER_MAX_ATTEMPTS"] == 8
    assert config["WORKER_LEASE_SECONDS"] == 120
    assert config["PUBLIC_BASE_URL"] == "http://127.0.0.1:5000"
    assert config["DATABASE_PREPARED_STATEMENTS"] is True
    assert (
        load_config({"DATABASE_PREPARED_STATEMENTS": "false"}, folder=tmp_path)["DATABASE_PREPARED_STATEMENTS"] is False
    )


def test_development_secret_key_is_generated_once_into_instance(tmp_path):
    first = load_config({}, folder=tmp_path)["SECRET_KEY"]
    second = load_config({}, folder=tmp_path)["SECRET_KEY"]
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_production_without_secret_key_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config({"APP_ENV": "production", "DATABASE_URL": "postgresql://db/x"}, folder=tmp_path)


def test_production_with_the_sqlite_default_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        load_config({"APP_ENV": "production", "SECRET_KEY": GOOD_SECRET}, folder=tmp_path)


def test_production_with_a_weak_secret_key_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config(
            {"APP_ENV": "production", "SECRET_KEY": "dev", "DATABASE_URL": "postgresql://db/x"}, folder=tmp_path
        )


def test_production_with_safe_settings_starts(tmp_path):
    config = load_config(
        {"APP_ENV": "production", "SECRET_KEY": GOOD_SECRET, "DATABASE_URL": "postgres://u@db/x"}, folder=tmp_path
    )
    assert config["DATABASE_URL"] == "postgresql://u@db/x"
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WORKER_POLL_SECONDS", "abc"),
        ("WORKER_LEASE_SECONDS", "0"),
        ("SMTP_PORT", "70000"),
        ("MAIL_BACKEND", "pigeon"),
        ("SMS_BACKEND", "fax"),
        ("SMTP_SECURITY", "tls"),
        ("APP_ENV", "staging"),
        ("DATABASE_URL", "mysql://x"),
        ("PUBLIC_BASE_URL", "ftp://x"),
        ("DATABASE_PREPARED_STATEMENTS", "sometimes"),
    ],
)
def test_malformed_setting_names_the_variable_in_one_line(tmp_path, name, value):
    with pytest.raises(ConfigError) as info:
        load_config({name: value}, folder=tmp_path)
    message = str(info.value)
    assert name in message and "\n" not in message


def test_twilio_backend_needs_its_credentials(tmp_path):
    with pytest.raises(ConfigError, match="TWILIO_ACCOUNT_SID"):
        load_config({"SMS_BACKEND": "twilio"}, folder=tmp_path)


def test_config_is_not_read_at_import(monkeypatch):
    """Importing the services must not touch the environment or the instance folder."""
    import importlib

    import main_service

    monkeypatch.setenv("APP_ENV", "production")  # would refuse if read at import
    importlib.reload(main_service)
