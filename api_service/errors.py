"""Every failure as ``application/problem+json`` (RFC 9457), never an HTML page."""

from __future__ import annotations

import json
import logging

from flask import Flask, Response
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from shared.errors import DomainError, ValidationFailed

log = logging.getLogger(__name__)
PROBLEM_TYPE_BASE = "https://invoicing.example/problems/"


def problem(
    status: int, title: str, detail: str = "", *, errors: dict | None = None, slug: str | None = None
) -> Response:
    body = {
        "type": PROBLEM_TYPE_BASE + (slug or title.lower().replace(" ", "-")),
        "title": title,
        "status": status,
        "detail": detail or title,
    }
    if errors is not None:
        body["errors"] = errors
    return Response(json.dumps(body), status=status, mimetype="application/problem+json")


TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    422: "Validation failed",
    429: "Too many requests",
}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        errors = exc.errors if isinstance(exc, ValidationFailed) else None
        response = problem(exc.status, TITLES.get(exc.status, "Error"), exc.message, errors=errors)
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="invoicing"'
        if exc.status == 429 and getattr(exc, "retry_after", None):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        response = problem(exc.code or 500, exc.name, exc.description or exc.name)
        for name, value in exc.get_headers():  # e.g. Allow on a 405 (RFC 9110)
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(OperationalError)
    def database_unavailable(exc: DBAPIError):
        log.warning("database unavailable: %s", type(exc.orig).__name__ if exc.orig else exc)
        return problem(503, "Service unavailable", "The database is not reachable; try again shortly.")

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error")
        return problem(500, "Internal server error", "Something went wrong on our side; it has been logged.")
