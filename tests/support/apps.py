"""One Flask app per factory, settings and test database for the whole run, put back as made after each test.

Making an app costs about 0.1 s of CPU (werkzeug compiles a URL builder per
route), and a new app compiles every Jinja template again on its first pages:
together the largest fixed cost of a test. The database is emptied between
tests anyway (``conftest.Databases``), so the same app serves the next test
that asks for the same settings. What a test may change on an app is put back
when it ends: ``app.config`` and ``app.extensions`` (the API's failed-key
limiter lives there and is made on first use, so every test starts with none).
A test that adds routes or hooks to an app makes its own with ``create_app``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask

_APPS: dict[tuple, tuple[Flask, dict, dict]] = {}


@contextmanager
def reused_app(create_app: Callable[[dict[str, Any]], Flask], config: dict[str, Any]) -> Iterator[Flask]:
    """The app ``create_app(config)`` makes, made once per run; its config and extensions restored afterwards."""
    key = (create_app.__module__, tuple(sorted((name, repr(value)) for name, value in config.items())))
    if key not in _APPS:
        app = create_app(config)
        _APPS[key] = (app, dict(app.config), dict(app.extensions))
    app, made_config, made_extensions = _APPS[key]
    try:
        yield app
    finally:
        app.config.clear()
        app.config.update(made_config)
        app.extensions.clear()
        app.extensions.update(made_extensions)
