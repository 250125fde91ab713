"""SMS backends, picked by ``SMS_BACKEND``: ``twilio``, ``file`` (the outbox), ``console``, ``disabled``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.messages.sms_backends.base import SmsBackend
from shared.messages.sms_backends.console import ConsoleSmsBackend
from shared.messages.sms_backends.disabled import DisabledSmsBackend
from shared.messages.sms_backends.file import FileSmsBackend
from shared.messages.sms_backends.twilio import TwilioSmsBackend

SMS_BACKENDS: dict[str, type[SmsBackend]] = {
    backend.name: backend for backend in (TwilioSmsBackend, FileSmsBackend, ConsoleSmsBackend, DisabledSmsBackend)
}


def get_sms_backend(config: Mapping[str, Any]) -> SmsBackend:
    """The backend ``config["SMS_BACKEND"]`` names, set up from ``config``."""
    name = config.get("SMS_BACKEND", "file")
    try:
        backend = SMS_BACKENDS[name]
    except KeyError:
        raise ValueError(f"SMS_BACKEND must be one of {', '.join(SMS_BACKENDS)} (got {name!r})") from None
    return backend(config)


__all__ = ["SMS_BACKENDS", "SmsBackend", "get_sms_backend"]
