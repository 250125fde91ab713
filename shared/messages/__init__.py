"""Outgoing messages: what they say (``messages``) and how they leave (the backends).

The queue rows themselves are written by ``shared.messages.queue``;
the worker (``shared.messages.delivery``) builds each row's message here and hands it
to the backend the configuration names.
"""

from shared.messages.email_backends import EmailBackend, get_email_backend
from shared.messages.errors import (
    DeliveryCancelled,
    DeliveryError,
    PermanentDeliveryError,
    TemporaryDeliveryError,
)
from shared.messages.sms_backends import SmsBackend, get_sms_backend

__all__ = [
    "DeliveryCancelled",
    "DeliveryError",
    "EmailBackend",
    "PermanentDeliveryError",
    "SmsBackend",
    "TemporaryDeliveryError",
    "get_email_backend",
    "get_sms_backend",
]
