"""The admin web application under ``/admin`` (SPEC §6) and the public invoice pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, redirect, request, send_from_directory, url_for
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect
from werkzeug.datastructures import ImmutableMultiDict

from shared.config import PROJECT_ROOT, instance_path
from shared.db import db
from shared.runtime import configure_app

migrate = Migrate()
csrf = CSRFProtect()

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'self'; frame-src 'self'; frame-ancestors 'self'; form-action 'self'; base-uri 'none'"
)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(instance_path()), instance_relative_config=True)
    configure_app(app, test_config)
    from shared.services.sign_in import SESSION_LIFETIME

    # The session cookie's signature expires with the session (Flask's default is 31 days).
    app.config["PERMANENT_SESSION_LIFETIME"] = SESSION_LIFETIME
    import shared.models  # noqa: F401  (register the models with the metadata)

    migrate.init_app(app, db, directory=str(Path(PROJECT_ROOT) / "migrations"), render_as_batch=True, compare_type=True)
    csrf.init_app(app)

    from main_service import filters
    from main_service.admin import bp as admin_bp
    from main_service.admin import login_manager
    from main_service.cli import register_commands
    from main_service.errors import register_error_handlers
    from main_service.public import bp as public_bp
    from main_service.webhooks import bp as webhooks_bp

    login_manager.init_app(app)
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(public_bp)
    csrf.exempt(webhooks_bp)  # Stripe signs its requests; it cannot hold a CSRF token
    app.register_blueprint(webhooks_bp)
    filters.register(app)
    register_error_handlers(app)
    register_commands(app)

    @app.before_request
    def ignore_nul_in_the_query_string():
        """Searches and filters ignore NUL: PostgreSQL text cannot hold it, and no one types it."""
        pairs = list(request.args.items(multi=True))
        if any("\x00" in key + value for key, value in pairs):
            request.args = ImmutableMultiDict((k.replace("\x00", ""), v.replace("\x00", "")) for k, v in pairs)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        if app.config["APP_ENV"] == "production":
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response

    @app.get("/")
    def index():
        return redirect(url_for("admin.dashboard"))

    @app.get("/favicon.ico")
    def favicon():
        """Browsers ask for /favicon.ico on their own (the PDF viewer, the API docs): answer rather than log a 404."""
        return send_from_directory(app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon", max_age=86400)

    return app
