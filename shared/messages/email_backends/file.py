"""Writes each e-mail as one ``.eml`` file in the outbox (``instance/outbox/`` by default)."""

from __future__ import annotations

import os
import re
from email.message import EmailMessage
from pathlib import Path

from shared.messages.email_backends.base import EmailBackend
from shared.messages.errors import TemporaryDeliveryError


def outbox_file_name(message_id: str, suffix: str) -> str:
    """A file name from a Message-ID: a retry of the same row rewrites the same file."""
    local = message_id.strip().strip("<>").split("@", 1)[0]
    return re.sub(r"[^A-Za-z0-9._-]+", "-", local).strip("-.")[:150] + suffix


def write_atomically(path: Path, data: bytes) -> None:
    """Readers of the outbox never see half a file."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


class FileEmailBackend(EmailBackend):
    name = "file"

    def send(self, message: EmailMessage, recipient: str) -> str:
        folder = Path(self.config["OUTBOX_DIR"])
        path = folder / outbox_file_name(message["Message-ID"], ".eml")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            write_atomically(path, message.as_bytes())
        except OSError as exc:
            raise TemporaryDeliveryError(f"cannot write to the outbox: {exc.strerror or exc}") from exc
        return f"file:{path.name}"
