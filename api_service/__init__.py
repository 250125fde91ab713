"""The JSON API under ``/api/v1`` for external systems (SPEC §7)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from shared.config import instance_path
from shared.runtime import configure_app


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(instance_path()))
    configure_app(app, test_config)
    import shared.models  # noqa: F401
    from api_service.errors import register_error_handlers
    from api_service.routes import bp

    app.register_blueprint(bp)
    register_error_handlers(app)
    return app
