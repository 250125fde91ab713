"""Writes each text to the log instead of sending it (development and demos)."""

from __future__ import annotations

import logging

from shared.messages.sms_backends.base import SmsBackend

log = logging.getLogger("shared.messages.console")


class ConsoleSmsBackend(SmsBackend):
    name = "console"

    def send(self, to: str, body: str, *, reference: str) -> str:
        log.info("SMS to %s (%s):\n%s", to, reference, body)
        return f"console:{reference}"
