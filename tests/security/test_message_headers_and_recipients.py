"""Issue 12 items 2 and 9: e-mail headers built from names, and malformed recipients.

Item 2: a display name is never read as an address. Each header is parsed
back from what the SMTP server received (a real aiosmtpd server) or from the
``.eml`` file the file backend wrote, and must hold exactly the one address it
was built from, with the name unchanged: long names, commas, quotes,
backslashes, angle brackets and non-ASCII letters included.

Item 9: a malformed recipient (``not-an-email``, ``a@b``, an SMS to ``12345``,
an address with CR/LF) fails at once, on the first attempt, with the reason
kept, on every backend (SPEC §8); no file is written and nothing is sent.
"""

from __future__ import annotations

import email
import email.policy
import logging
from pathlib import Path

import pytest
from sqlalchemy import select, update

from shared.inputs import SettingsChanges
from shared.messages.delivery import drain_queue
from shared.models import Activity, QueuedMessage
from shared.services import Notify
from shared.services.settings import update_settings
from support.delivery import make_config, smtp_sink

# Pages, documents and messages read the same rows on either backend: SQLite only (the README's rule).
pytestmark = pytest.mark.backends("sqlite")

OWNER = "security-tests"

HOSTILE_NAMES = [
    "A" * 70 + ", attacker@evil.example",
    "Smith, Jones and Partners Consulting Limited of Victoria Island, Lagos",
    'Ade "Big Man" Oke \\ Sons (Ltd); <sales>',
    "Evil <attacker@evil.example>",
    "Adébáyọ̀ Ọláolúwa Enterprises, Ìbàdàn Head Office and Warehouse Division",
    "Zoë Müller-Łukasiewicz, Finance",
    "attacker@evil.example",
]
LONG_COMPANY = "Brightpath Academy Ltd, Finance & Accounts Department of the Victoria Island Campus, Lagos"


def addresses(message, header: str) -> list[tuple[str, str]]:
    return [(a.display_name, a.addr_spec) for a in message[header].addresses]


def queue_invoice_to(session, actor, make_invoice, make_client, name: str, email_address: str):
    client = make_client(name=name, email=email_address)
    return make_invoice(issue=True, client=client, notify=Notify(email=True))


@pytest.fixture
def long_company_name(session, actor):
    update_settings(session, actor=actor, data=SettingsChanges(company_name=LONG_COMPANY))


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_every_address_header_received_over_smtp_holds_exactly_the_one_address(
    session, actor, database_url, tmp_path, make_invoice, make_client, long_company_name
):
    """Issue 12 item 2: names with commas, quotes, brackets, non-ASCII; long ones too (To and From)."""
    with smtp_sink() as sink:
        config = make_config(
            database_url,
            tmp_path,
            MAIL_BACKEND="smtp",
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=sink.port,
            SMS_BACKEND="disabled",
            MAIL_FROM="invoices@brightpath.example",
        )
        for n, name in enumerate(HOSTILE_NAMES):
            queue_invoice_to(session, actor, make_invoice, make_client, name, f"client{n}@example.com")
        assert drain_queue(session, owner=OWNER, config=config) == {"sent": len(HOSTILE_NAMES)}
        received = sink.received()

    by_recipient = {message["To"].addresses[0].addr_spec: message for message in received}
    assert len(received) == len(by_recipient) == len(HOSTILE_NAMES)
    for n, name in enumerate(HOSTILE_NAMES):
        message = by_recipient[f"client{n}@example.com"]
        assert addresses(message, "To") == [(name, f"client{n}@example.com")]
        assert addresses(message, "From") == [(LONG_COMPANY, "invoices@brightpath.example")]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_every_address_header_written_by_the_file_backend_holds_exactly_the_one_address(
    session, actor, database_url, tmp_path, make_invoice, make_client, long_company_name
):
    """Issue 12 item 2: the same names through the file backend's ``.eml`` files, and a named MAIL_FROM."""
    sender_name = "Accounts Receivable, " + LONG_COMPANY
    config = make_config(
        database_url,
        tmp_path,
        MAIL_BACKEND="file",
        SMS_BACKEND="disabled",
        MAIL_FROM=f'"{sender_name}" <billing@brightpath.example>',
    )
    for n, name in enumerate(HOSTILE_NAMES):
        queue_invoice_to(session, actor, make_invoice, make_client, name, f"client{n}@example.com")
    assert drain_queue(session, owner=OWNER, config=config) == {"sent": len(HOSTILE_NAMES)}

    files = sorted(Path(config["OUTBOX_DIR"]).glob("*.eml"))
    messages = [email.message_from_bytes(f.read_bytes(), policy=email.policy.default) for f in files]
    found = sorted(addresses(message, "To")[0] for message in messages)
    assert found == sorted((name, f"client{n}@example.com") for n, name in enumerate(HOSTILE_NAMES))
    for message in messages:
        assert len(message["To"].addresses) == 1
        assert addresses(message, "From") == [(sender_name, "billing@brightpath.example")]


# ----------------------------------------------------------------------------- item 9: malformed recipients

MALFORMED = [
    ("email", "not-an-email", "must have an @-sign"),
    ("email", "a@b", "not valid"),
    ("email", "client@example.com\r\nBcc: attacker@evil.example", "line break"),
    ("email", "client@example.com\n", "line break"),
    ("sms", "12345", "E.164"),
    ("sms", "+2348030000000\r\n", "line break"),
]


def _queue_with_recipient(session, make_invoice, channel: str, recipient: str) -> QueuedMessage:
    """A queued row whose recipient is malformed (written before the rules, or by hand)."""
    invoice = make_invoice(issue=True, notify=Notify(email=channel == "email", sms=channel == "sms"))
    session.execute(update(QueuedMessage).where(QueuedMessage.invoice_id == invoice.id).values(recipient=recipient))
    session.commit()
    return session.scalars(select(QueuedMessage).where(QueuedMessage.invoice_id == invoice.id)).one()


@pytest.mark.parametrize("mail_backend", ["file", "console", "smtp"])
@pytest.mark.parametrize(("channel", "recipient", "reason"), MALFORMED)
def test_a_malformed_recipient_fails_at_once_with_the_reason_on_every_backend(
    session, database_url, tmp_path, make_invoice, caplog, mail_backend, channel, recipient, reason
):
    """Issue 12 item 9: permanent failure on the first attempt, nothing sent or written, no traceback."""
    row = _queue_with_recipient(session, make_invoice, channel, recipient)
    with smtp_sink() as sink, caplog.at_level(logging.WARNING, logger="shared.messages.delivery"):
        config = make_config(
            database_url,
            tmp_path,
            MAIL_BACKEND=mail_backend,
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=sink.port,
            SMS_BACKEND="file" if mail_backend == "file" else "console",
        )
        assert drain_queue(session, owner=OWNER, config=config) == {"failed": 1}
        assert sink.received() == []

    session.expire_all()
    row = session.get(QueuedMessage, row.id)
    assert (row.state, row.attempts) == ("failed", 1)
    assert reason in row.last_error and repr(recipient) in row.last_error
    assert "\r" not in row.last_error and "\n" not in row.last_error
    outbox = Path(config["OUTBOX_DIR"])
    assert not outbox.exists() or list(outbox.iterdir()) == [], "the file backends wrote the message anyway"
    assert not any(record.exc_info for record in caplog.records), "a malformed address is no reason for a traceback"
    failed = session.scalars(select(Activity).where(Activity.verb == "delivery_failed")).one()
    assert failed.subject_id == row.id


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_well_formed_recipients_still_go_out_on_the_file_backends(session, database_url, tmp_path, make_invoice):
    """Issue 12 item 9, the other side: the check refuses only what is malformed."""
    config = make_config(database_url, tmp_path, MAIL_BACKEND="file", SMS_BACKEND="file")
    make_invoice(issue=True, notify=Notify(email=True, sms=True))
    assert drain_queue(session, owner=OWNER, config=config) == {"sent": 2}
