"""Writes each e-mail to the log instead of sending it (development and demos)."""

from __future__ import annotations

import logging
from email.message import EmailMessage

from shared.messages.email_backends.base import EmailBackend

log = logging.getLogger("shared.messages.console")


class ConsoleEmailBackend(EmailBackend):
    name = "console"

    def send(self, message: EmailMessage, recipient: str) -> str:
        text = message.get_body(preferencelist=("plain",))
        attachments = [part.get_filename() for part in message.iter_attachments()]
        log.info(
            "e-mail to %s\nFrom: %s\nSubject: %s\nMessage-ID: %s\nAttachments: %s\n\n%s",
            recipient,
            message["From"],
            message["Subject"],
            message["Message-ID"],
            ", ".join(a for a in attachments if a) or "none",
            text.get_content() if text is not None else "",
        )
        return f"console:{message['Message-ID'].strip('<>')}"
