"""The worker: drains ``email_queue`` and sends reminders (SPEC §8)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from shared.config import instance_path
from shared.runtime import configure_app


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """A Flask app with no routes: it only carries settings and the database."""
    app = Flask(__name__, instance_path=str(instance_path()))
    configure_app(app, test_config)
    import shared.models  # noqa: F401

    return app
