"""Plain helpers shared by test modules (importable, unlike conftest)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def app_config(database_url: str, **extra) -> dict:
    """``create_app`` test_config for a test database."""
    return {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "APP_ENV": "testing",
        **extra,
    }
