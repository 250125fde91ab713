"""The interface every e-mail backend keeps: send one message, say what happened."""

from __future__ import annotations

import abc
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any, ClassVar


class EmailBackend(abc.ABC):
    """Sends one :class:`EmailMessage` to the address it is for.

    ``send`` returns the provider's id for the message and raises
    ``TemporaryDeliveryError`` or ``PermanentDeliveryError`` (see
    ``shared.messages.errors``) when it did not go out. A backend may keep
    a connection open between messages; ``close`` ends it.
    """

    name: ClassVar[str]

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config

    @abc.abstractmethod
    def send(self, message: EmailMessage, recipient: str) -> str:
        """Send it, or raise a delivery error saying why not."""

    def close(self) -> None:  # noqa: B027  (optional hook: most backends hold nothing)
        """Release any connection held between messages."""

    def __enter__(self) -> EmailBackend:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
