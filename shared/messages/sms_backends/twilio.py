"""Sends texts through Twilio's Messages API with the official ``twilio`` client.

``TWILIO_API_BASE_URL`` replaces ``https://api.twilio.com`` (a regional proxy,
or a local stand-in during tests): the client's ``api`` domain builds every
request URL from its ``base_url``, so the override sends the same
``POST /2010-04-01/Accounts/{sid}/Messages.json`` there instead.
"""

from __future__ import annotations

import logging

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from shared.messages.errors import PermanentDeliveryError, TemporaryDeliveryError
from shared.messages.sms_backends.base import SmsBackend

DEFAULT_TIMEOUT = 30
# The client logs every request at INFO; the worker writes its own line per message.
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)


class TwilioSmsBackend(SmsBackend):
    name = "twilio"

    def __init__(self, config) -> None:
        super().__init__(config)
        self.account_sid = config.get("TWILIO_ACCOUNT_SID") or ""
        self.from_number = config.get("TWILIO_FROM_NUMBER") or ""
        self.base_url = (config.get("TWILIO_API_BASE_URL") or "").rstrip("/")
        self.timeout = float(config.get("TWILIO_TIMEOUT") or DEFAULT_TIMEOUT)
        self._auth_token = config.get("TWILIO_AUTH_TOKEN") or ""
        self._client: Client | None = None

    def __repr__(self) -> str:  # never show the auth token
        return f"<TwilioSmsBackend {self.account_sid} from {self.from_number}>"

    @property
    def client(self) -> Client:
        if self._client is None:
            # environment={}: only our settings steer the client, not TWILIO_REGION/EDGE.
            client = Client(
                self.account_sid,
                self._auth_token,
                http_client=TwilioHttpClient(timeout=self.timeout),
                environment={},
            )
            if self.base_url:
                client.api.base_url = self.base_url
            self._client = client
        return self._client

    def send(self, to: str, body: str, *, reference: str) -> str:
        try:
            message = self.client.messages.create(to=to, from_=self.from_number, body=body)
        except TwilioRestException as exc:
            raise _classify(exc) from None
        except requests.Timeout:
            raise TemporaryDeliveryError("Twilio did not answer in time") from None
        except requests.RequestException as exc:
            raise TemporaryDeliveryError(f"cannot reach Twilio: {type(exc).__name__}") from None
        except TwilioException as exc:
            raise TemporaryDeliveryError(f"Twilio client error: {exc}") from None
        return message.sid

    def close(self) -> None:
        if self._client is not None:
            session = getattr(self._client.http_client, "session", None)
            if session is not None:
                session.close()
            self._client = None


def _classify(exc: TwilioRestException) -> TemporaryDeliveryError | PermanentDeliveryError:
    """429 and 5xx are worth retrying; other 4xx (21211 invalid number, ...) are final.

    401 and 403 mean our credentials are wrong: an operator fixes them and the
    texts should then go out, so those are retried too.
    """
    detail = " ".join(str(exc.msg or "").split())[:300]
    code = f" (Twilio error {exc.code})" if exc.code else ""
    message = f"Twilio HTTP {exc.status}{code}: {detail}"
    if exc.status in (401, 403, 408, 429) or exc.status >= 500:
        return TemporaryDeliveryError(message)
    return PermanentDeliveryError(message)
