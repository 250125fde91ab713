"""E-mail backends, picked by ``MAIL_BACKEND``: ``smtp``, ``file`` (the outbox), ``console``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.messages.email_backends.base import EmailBackend
from shared.messages.email_backends.console import ConsoleEmailBackend
from shared.messages.email_backends.file import FileEmailBackend
from shared.messages.email_backends.smtp import SmtpEmailBackend

EMAIL_BACKENDS: dict[str, type[EmailBackend]] = {
    backend.name: backend for backend in (SmtpEmailBackend, FileEmailBackend, ConsoleEmailBackend)
}


def get_email_backend(config: Mapping[str, Any]) -> EmailBackend:
    """The backend ``config["MAIL_BACKEND"]`` names, set up from ``config``."""
    name = config.get("MAIL_BACKEND", "file")
    try:
        backend = EMAIL_BACKENDS[name]
    except KeyError:
        raise ValueError(f"MAIL_BACKEND must be one of {', '.join(EMAIL_BACKENDS)} (got {name!r})") from None
    return backend(config)


__all__ = ["EMAIL_BACKENDS", "EmailBackend", "get_email_backend"]
