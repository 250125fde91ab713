"""APP_ENV=production refuses debug mode, a missing, default or weak SECRET_KEY, and the SQLite default."""

from __future__ import annotations

import pytest

import main_service

STRONG = "Zq3kL9m2Xp7Rt4Vw6Yb1Nc8Hd5Jf0GsA"


@pytest.fixture(params=["postgresql"])
def backend(request) -> str:
    """Production refuses SQLite outright, so the other refusals are seen on Postgres."""
    return request.param


@pytest.mark.parametrize(
    ("secret", "words"),
    [
        (None, "SECRET_KEY must be set"),
        ("", "SECRET_KEY must be set"),
        ("changeme", "SECRET_KEY"),
        ("short-secret", "SECRET_KEY"),
    ],
)
def test_production_refuses_missing_default_or_weak_secret_keys(
    database_url, tmp_path, monkeypatch, capsys, secret, words
):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    config = {"DATABASE_URL": database_url, "APP_ENV": "production", "INSTANCE_PATH": str(tmp_path)}
    if secret is not None:
        config["SECRET_KEY"] = secret
    with pytest.raises(SystemExit):
        main_service.create_app(config)
    assert words in capsys.readouterr().err


def test_production_refuses_debug_mode(database_url, tmp_path, monkeypatch, capsys):
    config = {
        "DATABASE_URL": database_url,
        "APP_ENV": "production",
        "INSTANCE_PATH": str(tmp_path),
        "SECRET_KEY": STRONG,
    }
    app = main_service.create_app(config)  # the same settings start without debug ...
    assert not app.debug
    monkeypatch.setenv("FLASK_DEBUG", "1")
    with pytest.raises(SystemExit):
        main_service.create_app(config)  # ... and are refused with it
    assert "FLASK_DEBUG must be off" in capsys.readouterr().err


def test_production_refuses_the_sqlite_default(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main_service.create_app({"DATABASE_URL": "sqlite:///x.db", "APP_ENV": "production", "SECRET_KEY": STRONG})
    assert "PostgreSQL" in capsys.readouterr().err
