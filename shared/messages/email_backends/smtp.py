"""Sends e-mail through an SMTP server (``SMTP_HOST``, ``SMTP_PORT``, ``SMTP_SECURITY``).

The connection stays open between the messages of one queue drain and is
closed with :meth:`SmtpEmailBackend.close`. The conversation is spoken
command by command (MAIL, RCPT, DATA) so every reply code can be sorted:
4xx and network faults are temporary, 5xx for the recipient or the message is
permanent. Credentials are never part of an error message or a log line.
"""

from __future__ import annotations

import email.utils
import io
import smtplib
import ssl
from email.generator import BytesGenerator
from email.message import EmailMessage

from shared.messages.email_backends.base import EmailBackend
from shared.messages.errors import DeliveryError, PermanentDeliveryError, TemporaryDeliveryError

DEFAULT_TIMEOUT = 30
# Replies that mean "our login is missing or wrong": an operator fixes the
# settings and the queue should then go out, so these are retried, not failed.
AUTH_CODES = {530, 534, 535, 538}


def _text(reply: bytes | str) -> str:
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    return " ".join(reply.split())[:500]


def classify(code: int, reply: bytes | str, stage: str) -> DeliveryError:
    """An SMTP reply code as a temporary or permanent fault."""
    message = f"SMTP {code} on {stage}: {_text(reply)}"
    if 500 <= code < 600 and code not in AUTH_CODES:
        return PermanentDeliveryError(message)
    return TemporaryDeliveryError(message)


class SmtpEmailBackend(EmailBackend):
    name = "smtp"

    def __init__(self, config) -> None:
        super().__init__(config)
        self.host = config.get("SMTP_HOST") or "localhost"
        self.port = int(config.get("SMTP_PORT") or 25)
        self.security = config.get("SMTP_SECURITY") or "none"
        self.username = config.get("SMTP_USERNAME") or ""
        self._password = config.get("SMTP_PASSWORD") or ""
        self.timeout = float(config.get("SMTP_TIMEOUT") or DEFAULT_TIMEOUT)
        self._connection: smtplib.SMTP | None = None

    def __repr__(self) -> str:  # never show the password
        return f"<SmtpEmailBackend {self.host}:{self.port} {self.security}>"

    # -- connection ---------------------------------------------------------

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        try:
            if self.security == "ssl":
                connection = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
            else:
                connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            try:
                connection.ehlo()
                if self.security == "starttls":
                    connection.starttls(context=context)
                    connection.ehlo()
                if self.username:
                    connection.login(self.username, self._password)
            except BaseException:
                connection.close()  # a refused login or STARTTLS must not leak the socket on every retry
                raise
        except smtplib.SMTPAuthenticationError as exc:
            raise TemporaryDeliveryError(
                f"SMTP {exc.smtp_code} on login as {self.username}: {_text(exc.smtp_error)}"
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise TemporaryDeliveryError(f"SMTP server {self.host}:{self.port} does not support {exc}") from None
        except smtplib.SMTPResponseException as exc:
            raise classify(exc.smtp_code, exc.smtp_error, "connect") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryDeliveryError(
                f"cannot reach SMTP server {self.host}:{self.port}: {_describe(exc)}"
            ) from None
        return connection

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.quit()
        except (OSError, smtplib.SMTPException):
            connection.close()

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    # -- sending ------------------------------------------------------------

    def send(self, message: EmailMessage, recipient: str) -> str:
        reused = self._connection is not None
        try:
            return self._send(message, recipient)
        except smtplib.SMTPServerDisconnected:
            # A kept-open connection the server has since closed: one fresh try.
            self._drop()
            if not reused:
                raise TemporaryDeliveryError(f"SMTP server {self.host}:{self.port} closed the connection") from None
        try:
            return self._send(message, recipient)
        except smtplib.SMTPServerDisconnected:
            self._drop()
            raise TemporaryDeliveryError(f"SMTP server {self.host}:{self.port} closed the connection") from None

    def _send(self, message: EmailMessage, recipient: str) -> str:
        if self._connection is None:
            self._connection = self._connect()
        connection = self._connection
        senders = getattr(message["From"], "addresses", ())
        sender = senders[0].addr_spec if senders else email.utils.parseaddr(message["From"])[1]
        options: list[str] = []
        policy = message.policy
        if not (sender + recipient).isascii():
            if not connection.has_extn("smtputf8"):
                raise PermanentDeliveryError("the SMTP server does not accept internationalised addresses (SMTPUTF8)")
            options = ["SMTPUTF8", "BODY=8BITMIME"]
            policy = policy.clone(utf8=True)
        buffer = io.BytesIO()
        BytesGenerator(buffer, policy=policy).flatten(message, linesep="\r\n")
        try:
            code, reply = connection.mail(sender, options)
            if code != 250:
                raise classify(code, reply, "MAIL FROM")
            code, reply = connection.rcpt(recipient)
            if code not in (250, 251):
                raise classify(code, reply, f"RCPT TO <{recipient}>")
            try:
                code, reply = connection.data(buffer.getvalue())
            except smtplib.SMTPDataError as exc:
                raise classify(exc.smtp_code, exc.smtp_error, "DATA") from None
            if code != 250:
                raise classify(code, reply, "end of DATA")
        except DeliveryError:
            self._reset()
            raise
        except smtplib.SMTPServerDisconnected:
            raise
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            raise TemporaryDeliveryError(
                f"SMTP conversation with {self.host}:{self.port} failed: {_describe(exc)}"
            ) from None
        return _queue_id(reply) or message["Message-ID"].strip("<>")

    def _reset(self) -> None:
        """After a refused message, ready the connection for the next one (or drop it)."""
        if self._connection is None:
            return
        try:
            self._connection.rset()
        except (OSError, smtplib.SMTPException):
            self._drop()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"


def _queue_id(reply: bytes) -> str | None:
    """The server's id for the message, from replies such as ``2.0.0 Ok: queued as 4F2A1C``."""
    text = _text(reply)
    marker = "queued as "
    if marker in text:
        return text.split(marker, 1)[1].split()[0].strip(".,;")[:200] or None
    return None
