"""Friendly pages for errors; a database outage gives a 503 page and recovers by itself."""

from __future__ import annotations

import logging

from flask import Flask, g, render_template
from flask_login import AnonymousUserMixin
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from shared.db import db
from shared.errors import Conflict, NotFound

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("Something was wrong with that request", "Go back, reload the page and try again."),
    403: ("You do not have access to this page", "Ask an admin if you need it."),
    404: ("Page not found", "The link may be old, or the item was deleted."),
    405: ("That action is not available here", "Use the buttons on the page."),
    409: ("That cannot be done now", "Go back to the page and read what it says."),
    413: ("That upload is too large", "Choose a smaller file."),
    429: ("Too many attempts", "Wait a few minutes and try again."),
    500: ("Something went wrong on our side", "It has been logged. Try again in a moment."),
    503: ("The service is briefly unavailable", "The database cannot be reached right now. Try again in a moment."),
}


def _page(status: int, detail: str | None = None):
    title, hint = MESSAGES.get(status, MESSAGES[500])
    return render_template("errors.html", status=status, title=title, hint=detail or hint), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return _page(400, "The form had expired or was sent from elsewhere. Reload the page and try again.")

    @app.errorhandler(NotFound)
    def domain_not_found(exc: NotFound):
        from main_service.admin.forms import sentence

        return _page(404, sentence(exc.message))

    @app.errorhandler(Conflict)
    def domain_conflict(exc: Conflict):
        """A refusal no form caught, such as a PDF too long to render on request (shared.documents)."""
        from main_service.admin.forms import sentence

        return _page(409, sentence(exc.message))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return _page(exc.code or 500)

    @app.errorhandler(OperationalError)
    def database_unavailable(exc: OperationalError):
        log.warning("database unavailable: %s", type(exc.orig).__name__ if exc.orig else exc)
        _forget_database_state()
        return _page(503)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error")
        _forget_database_state()
        return _page(500)


def _forget_database_state() -> None:
    """Render the error page without touching the database again.

    Flask-Login's template context would load the signed-in user (a query);
    with the database gone that raises inside the error handler, so the page
    is rendered as for an anonymous visitor.
    """
    try:
        db.session.remove()
    except Exception:  # the connection may already be dead; nothing to keep
        log.debug("session cleanup after a database error failed", exc_info=True)
    g._login_user = AnonymousUserMixin()
