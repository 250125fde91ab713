"""Writes each text as one ``.json`` file in the outbox (``instance/outbox/`` by default)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from shared.messages.email_backends.file import write_atomically
from shared.messages.errors import TemporaryDeliveryError
from shared.messages.sms_backends.base import SmsBackend


class FileSmsBackend(SmsBackend):
    name = "file"

    def send(self, to: str, body: str, *, reference: str) -> str:
        folder = Path(self.config["OUTBOX_DIR"])
        path = folder / (re.sub(r"[^A-Za-z0-9._-]+", "-", reference).strip("-.") + ".json")
        record = {"to": to, "from": self.config.get("TWILIO_FROM_NUMBER") or "", "body": body, "reference": reference}
        try:
            folder.mkdir(parents=True, exist_ok=True)
            write_atomically(path, json.dumps(record, ensure_ascii=False, indent=2).encode() + b"\n")
        except OSError as exc:
            raise TemporaryDeliveryError(f"cannot write to the outbox: {exc.strerror or exc}") from exc
        return f"file:{path.name}"
