"""The API's OpenAPI document, loaded once per module for schemathesis.

Schemathesis builds its tests when a module is collected, before any database
exists, so the schema is bound to a stand-in WSGI app (``CurrentApp``) and each
test points it at its own app. (``schemathesis.pytest.from_fixture`` would load
the schema per test instead, but schemathesis 4.32.5's lazy loader sets
``node._nodeid``, which pytest 9.2 no longer has.)
"""

from __future__ import annotations

import schemathesis

import api_service
from shared.db import db

from . import app_config


class CurrentApp:
    """A WSGI app that forwards to the API app of the running test."""

    def __init__(self) -> None:
        self.app = None

    def __call__(self, environ, start_response):
        if self.app is None:
            raise RuntimeError("no API app is active for this request")
        return self.app(environ, start_response)


def load_schema(current_app: CurrentApp, *, max_examples: int):
    """The document as the API serves it (from an app that needs no database for that), bound to ``current_app``."""
    loader = api_service.create_app(app_config("sqlite://"))
    current_app.app = loader
    try:
        return schemathesis.openapi.from_wsgi(
            "/api/v1/openapi.json",
            current_app,
            config=schemathesis.Config.from_dict({"generation": {"max-examples": max_examples, "database": "none"}}),
        )
    finally:
        current_app.app = None
        with loader.app_context():
            db.engine.dispose()
