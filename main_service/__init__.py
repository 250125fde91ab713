"""The admin web application under ``/admin`` (SPEC §6)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, redirect, url_for
from flask_migrate import Migrate

from shared.config import PROJECT_ROOT, instance_path
from shared.db import db
from shared.runtime import configure_app

migrate = Migrate()


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(instance_path()), instance_relative_config=True)
    configure_app(app, test_config)
    import shared.models  # noqa: F401  (register the models with the metadata)

    migrate.init_app(app, db, directory=str(Path(PROJECT_ROOT) / "migrations"), render_as_batch=True, compare_type=True)

    from main_service.admin import bp as admin_bp
    from main_service.admin import login_manager
    from main_service.cli import register_commands

    login_manager.init_app(app)
    app.register_blueprint(admin_bp, url_prefix="/admin")
    register_commands(app)

    @app.get("/")
    def index():
        return redirect(url_for("admin.dashboard"))

    return app
