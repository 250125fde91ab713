"""The interface every SMS backend keeps: send one text, say what happened."""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any, ClassVar


class SmsBackend(abc.ABC):
    """Sends one text message to an E.164 phone number.

    ``send`` returns the provider's id for the message and raises
    ``TemporaryDeliveryError``, ``PermanentDeliveryError`` or
    ``DeliveryCancelled`` (see ``shared.messages.errors``) when it did
    not go out. ``reference`` is a stable name for the message (the queue row),
    used by backends that write files.
    """

    name: ClassVar[str]

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config

    @abc.abstractmethod
    def send(self, to: str, body: str, *, reference: str) -> str:
        """Send it, or raise a delivery error saying why not."""

    def close(self) -> None:  # noqa: B027  (optional hook: most backends hold nothing)
        """Release anything held between messages."""

    def __enter__(self) -> SmsBackend:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
