"""The JSON API under ``/api/v1`` for external systems (SPEC §7)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from shared.config import instance_path
from shared.runtime import configure_app


class NoCookieSessions(SecureCookieSessionInterface):
    """The API authenticates every request by its key: no session cookie is read or set."""

    def open_session(self, app, request):
        return self.make_null_session(app)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(instance_path()))
    app.session_interface = NoCookieSessions()
    configure_app(app, test_config)
    import shared.models  # noqa: F401
    from api_service.errors import register_error_handlers
    from api_service.routes import bp

    app.register_blueprint(bp)
    register_error_handlers(app)
    return app
