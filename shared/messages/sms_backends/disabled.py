"""SMS switched off (``SMS_BACKEND=disabled``): texts are cancelled, not failed.

Turning SMS off is a decision, not a fault, so a text row ends ``cancelled``
with the reason "SMS disabled" rather than ``failed``; staff can retry it once
SMS is switched on. The reminder sweep queues no texts meanwhile.
"""

from __future__ import annotations

from shared.messages.errors import DeliveryCancelled
from shared.messages.sms_backends.base import SmsBackend


class DisabledSmsBackend(SmsBackend):
    name = "disabled"

    def send(self, to: str, body: str, *, reference: str) -> str:
        raise DeliveryCancelled("SMS disabled")
