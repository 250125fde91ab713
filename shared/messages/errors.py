"""How a backend says a message did not go out, so the worker knows what to do next."""

from __future__ import annotations


class DeliveryError(Exception):
    """A message was not delivered. The message text is kept as the row's ``last_error``.

    It must never contain a secret (password, auth token): backends build it
    from the provider's answer, not from their own settings.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message[:1000]


class TemporaryDeliveryError(DeliveryError):
    """Worth trying again later: connection refused, timeout, SMTP 4xx, Twilio 429/5xx."""


class PermanentDeliveryError(DeliveryError):
    """Trying again cannot help: SMTP 5xx for the recipient, an invalid phone number."""


class DeliveryCancelled(DeliveryError):
    """The message should not be sent at all (SMS switched off, invoice paid or voided)."""
