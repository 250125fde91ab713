"""Wiring every service does the same way: settings, database, logging.

Called from each ``create_app``; reads the environment only then, never at
import, and turns a bad setting into one line on stderr and exit status 3.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter

from shared.config import SETTINGS, ConfigError, flask_config, load_config
from shared.db import MAX_ID, configure_engine, db

_SETTING_NAMES = {s.name for s in SETTINGS}
# Gunicorn stops its master (instead of respawning workers forever) when a
# worker exits with 3, its "worker failed to boot" code; the CLI just exits.
BOOT_ERROR = 3


class IdConverter(IntegerConverter):
    """``<int:...>`` in every service's URLs: at most an INTEGER column's largest value.

    A larger number is simply no route (404) instead of an overflow in the database.
    """

    def __init__(self, map, *args, **kwargs) -> None:  # noqa: A002 (werkzeug's name)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def configure_app(app: Flask, test_config: dict[str, Any] | None = None) -> Flask:
    """Load settings into ``app.config`` and attach the database.

    ``test_config`` may name SPEC §3 settings (checked like environment
    variables), ``INSTANCE_PATH`` (where the outbox and generated secret go)
    and any other Flask key (applied as given).
    """
    app.url_map.converters["int"] = IdConverter
    overrides = dict(test_config or {})
    environ = dict(os.environ)
    environ.update({k: str(v) for k, v in overrides.items() if k in _SETTING_NAMES})
    folder = Path(overrides["INSTANCE_PATH"]) if overrides.get("INSTANCE_PATH") else None
    try:
        values = load_config(environ, folder=folder)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(BOOT_ERROR) from None
    app.config.from_mapping(flask_config(values))
    app.config.update({k: v for k, v in overrides.items() if k not in _SETTING_NAMES})
    if values["APP_ENV"] == "production" and app.debug:
        print("error: FLASK_DEBUG must be off when APP_ENV=production", file=sys.stderr)
        raise SystemExit(BOOT_ERROR)
    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine, prepared_statements=app.config["DATABASE_PREPARED_STATEMENTS"])
    configure_logging(app)
    return app


def configure_logging(app: Flask) -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
        )
    # WeasyPrint logs every rendering step at INFO; keep only its warnings.
    for noisy in ("weasyprint", "weasyprint.progress", "fontTools"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
