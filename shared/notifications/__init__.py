"""Outgoing messages: what they say (``messages``) and how they leave (the backends).

The queue rows themselves are written by ``shared.services.notifications``;
the worker (``shared.delivery``) builds each row's message here and hands it
to the backend the configuration names.
"""

from shared.notifications.email_backends import EmailBackend, get_email_backend
from shared.notifications.errors import (
    DeliveryCancelled,
    DeliveryError,
    PermanentDeliveryError,
    TemporaryDeliveryError,
)
from shared.notifications.sms_backends import SmsBackend, get_sms_backend

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
