"""Messages leave through real protocols (SPEC §8): SMTP to a local server, SMS to a Twilio stand-in."""

from __future__ import annotations

import base64
import datetime as dt
import email
import email.policy
import json
import logging
from pathlib import Path

import pytest
from sqlalchemy import select

from shared.db import utcnow
from shared.documents.formatting import format_money
from shared.messages.compose import build_sms
from shared.messages.delivery import drain_queue
from shared.models import Activity, QueuedMessage
from shared.services import Notify
from support.delivery import TwilioStub, make_config, pdf_text, smtp_sink
from support.processes import free_port

# SQLite only: the SMTP and Twilio transports; the queue's claims run on both backends in test_delivery_queue.
pytestmark = pytest.mark.backends("sqlite")

OWNER = "worker tests"
TWILIO_SID = "AC" + "0123456789abcdef" * 2
TWILIO_TOKEN = "twilio-auth-token-never-logged"
SMTP_PASSWORD = "smtp-password-never-logged"


def ngn_invoice(make_invoice, make_client, *, notify, **client_fields):
    """SPEC §5.1's example: 2 × 15000.00 at 7.5 %, discount 10 % -> 29025.00."""
    client = make_client(**client_fields) if client_fields else None
    return make_invoice(
        issue=True,
        client=client,
        notify=notify,
        currency="NGN",
        discount={"type": "percent", "value": "10"},
        items=[{"description": "Consulting", "quantity": "2", "unit_price": "15000.00", "tax_rate": "7.5"}],
    )


def rows(session, **filters) -> list[QueuedMessage]:
    session.expire_all()
    return list(session.scalars(select(QueuedMessage).filter_by(**filters).order_by(QueuedMessage.id)))


def smtp_config(database_url, tmp_path, port, **extra):
    return make_config(
        database_url,
        tmp_path,
        MAIL_BACKEND="smtp",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=port,
        SMS_BACKEND="disabled",
        **extra,
    )


def twilio_config(database_url, tmp_path, stub, **extra):
    return make_config(
        database_url,
        tmp_path,
        MAIL_BACKEND="console",
        SMS_BACKEND="twilio",
        TWILIO_ACCOUNT_SID=TWILIO_SID,
        TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
        TWILIO_FROM_NUMBER="+15005550006",
        TWILIO_API_BASE_URL=stub.url,
        **extra,
    )


# ----------------------------------------------------------------------------- e-mail over SMTP


def test_invoice_email_reaches_an_smtp_server_with_its_pdf(session, database_url, tmp_path, make_invoice, make_client):
    with smtp_sink() as sink:
        config = smtp_config(database_url, tmp_path, sink.port)
        invoice = ngn_invoice(
            make_invoice,
            make_client,
            notify=Notify(email=True),
            name="Brightpath Academy Ltd",
            email="ap@brightpath.example",
        )
        outcomes = drain_queue(session, owner=OWNER, config=config)
        (message,) = sink.received()

    assert outcomes == {"sent": 1}
    assert message["To"].addresses[0].addr_spec == "ap@brightpath.example"
    assert message["Subject"] == f"Invoice {invoice.number} from Your Company"
    (attachment,) = message.iter_attachments()
    assert attachment.get_content_type() == "application/pdf"
    text = pdf_text(attachment.get_content())
    total = format_money(invoice.total, invoice.currency).replace("\xa0", " ")
    assert total == "NGN 29,025.00"
    assert invoice.number in text and "Brightpath Academy Ltd" in text and total in text and "29,025.00" in text

    (row,) = rows(session, invoice_id=invoice.id)
    assert (row.state, row.attempts, row.last_error) == ("sent", 1, None)
    assert row.message_id == message["Message-ID"]
    assert row.provider_message_id == "SINK00001"  # the server's "queued as" id
    assert row.sent_at is not None and row.invoice.last_emailed_at == row.sent_at
    sent = session.scalars(select(Activity).where(Activity.invoice_id == invoice.id, Activity.verb == "sent")).one()
    assert sent.actor_type == "worker" and sent.actor_label == OWNER


def test_smtp_down_retries_with_growing_delays_then_delivers(session, database_url, tmp_path, make_invoice):
    port = free_port()  # nothing listens here until the server "comes back"
    config = smtp_config(database_url, tmp_path, port)
    invoice = make_invoice(issue=True, notify=Notify(email=True))
    now = utcnow()
    delays = []
    for attempt in (1, 2, 3):
        assert drain_queue(session, owner=OWNER, config=config, now=now) == {"retry": 1}
        (row,) = rows(session, invoice_id=invoice.id)
        assert (row.state, row.attempts) == ("queued", attempt)
        assert "cannot reach SMTP server" in row.last_error
        delays.append(row.next_attempt_at - now)
        assert drain_queue(session, owner=OWNER, config=config, now=now) == {}  # not due again yet
        now = row.next_attempt_at
    assert dt.timedelta(seconds=20) <= delays[0] < delays[1] < delays[2]

    with smtp_sink(port) as sink:
        assert drain_queue(session, owner=OWNER, config=config, now=now) == {"sent": 1}
        assert len(sink.received()) == 1
    (row,) = rows(session, invoice_id=invoice.id)
    assert (row.state, row.attempts, row.last_error) == ("sent", 4, None)


def test_attempts_run_out_and_the_row_fails(session, database_url, tmp_path, make_invoice):
    config = smtp_config(database_url, tmp_path, free_port(), WORKER_MAX_ATTEMPTS=2)
    invoice = make_invoice(issue=True, notify=Notify(email=True))
    now = utcnow()
    assert drain_queue(session, owner=OWNER, config=config, now=now) == {"retry": 1}
    (row,) = rows(session, invoice_id=invoice.id)
    assert drain_queue(session, owner=OWNER, config=config, now=row.next_attempt_at) == {"failed": 1}
    (row,) = rows(session, invoice_id=invoice.id)
    assert row.state == "failed" and row.attempts == 2
    assert "gave up after 2 attempts" in row.last_error


def test_recipient_refused_with_550_fails_at_once_with_the_reason(
    session, database_url, tmp_path, make_invoice, make_client
):
    with smtp_sink() as sink:
        sink.replies["bounce@example.com"] = "550 5.1.1 <bounce@example.com>: Recipient address rejected: User unknown"
        config = smtp_config(database_url, tmp_path, sink.port)
        invoice = ngn_invoice(make_invoice, make_client, notify=Notify(email=True), email="bounce@example.com")
        assert drain_queue(session, owner=OWNER, config=config) == {"failed": 1}
        assert sink.received() == []
    (row,) = rows(session, invoice_id=invoice.id)
    assert (row.state, row.attempts) == ("failed", 1)
    assert "550" in row.last_error and "User unknown" in row.last_error
    assert session.scalars(select(Activity).where(Activity.verb == "delivery_failed")).one().subject_id == row.id


def test_recipient_deferred_with_451_is_retried(session, database_url, tmp_path, make_invoice, make_client):
    with smtp_sink() as sink:
        sink.replies["greylisted@example.com"] = "451 4.7.1 Greylisted, try again later"
        config = smtp_config(database_url, tmp_path, sink.port)
        invoice = ngn_invoice(make_invoice, make_client, notify=Notify(email=True), email="greylisted@example.com")
        assert drain_queue(session, owner=OWNER, config=config) == {"retry": 1}
    (row,) = rows(session, invoice_id=invoice.id)
    assert row.state == "queued" and "451" in row.last_error


# ----------------------------------------------------------------------------- SMS through Twilio


def test_sms_reaches_twilio_with_to_from_and_body(session, database_url, tmp_path, make_invoice, make_client):
    with TwilioStub() as stub:
        config = twilio_config(database_url, tmp_path, stub)
        invoice = ngn_invoice(make_invoice, make_client, notify=Notify(sms=True), phone="+2348031234567")
        (row,) = rows(session, invoice_id=invoice.id)
        expected_body = build_sms(session, row, config)
        session.rollback()
        assert drain_queue(session, owner=OWNER, config=config) == {"sent": 1}

    (request,) = stub.requests
    assert request["path"] == f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
    assert request["form"]["To"] == "+2348031234567"
    assert request["form"]["From"] == "+15005550006"
    assert request["form"]["Body"] == expected_body
    assert invoice.number in expected_body and "NGN 29,025.00" in expected_body
    assert request["authorization"] == "Basic " + base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
    (row,) = rows(session, invoice_id=invoice.id)
    assert row.state == "sent" and row.provider_message_id.startswith("SM")
    assert row.message_id is None  # Message-IDs are for e-mail


@pytest.mark.parametrize(
    ("status", "code", "state"),
    [(400, 21211, "failed"), (429, 20429, "queued"), (503, 0, "queued")],
    ids=["invalid-number", "rate-limited", "unavailable"],
)
def test_twilio_errors_are_sorted_into_final_and_retry(
    session, database_url, tmp_path, make_invoice, make_client, status, code, state
):
    with TwilioStub() as stub:
        stub.errors["+2348000000000"] = (status, code)
        config = twilio_config(database_url, tmp_path, stub)
        invoice = ngn_invoice(make_invoice, make_client, notify=Notify(sms=True), phone="+2348000000000")
        drain_queue(session, owner=OWNER, config=config)
    (row,) = rows(session, invoice_id=invoice.id)
    assert row.state == state
    assert f"Twilio HTTP {status}" in row.last_error
    if code:
        assert str(code) in row.last_error


def test_no_secret_reaches_the_log_or_the_row(session, database_url, tmp_path, make_invoice, caplog):
    caplog.set_level(logging.DEBUG)
    invoice = make_invoice(issue=True, notify=Notify(email=True, sms=True))
    with TwilioStub() as stub:
        stub.errors["+2348030000000"] = (401, 20003)
        config = smtp_config(database_url, tmp_path, free_port(), SMTP_USERNAME="mailer", SMTP_PASSWORD=SMTP_PASSWORD)
        config.update(
            SMS_BACKEND="twilio",
            TWILIO_ACCOUNT_SID=TWILIO_SID,
            TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
            TWILIO_FROM_NUMBER="+15005550006",
            TWILIO_API_BASE_URL=stub.url,
        )
        assert drain_queue(session, owner=OWNER, config=config) == {"retry": 2}
    errors = " ".join(row.last_error for row in rows(session, invoice_id=invoice.id))
    for secret in (SMTP_PASSWORD, TWILIO_TOKEN, base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()):
        assert secret not in caplog.text
        assert secret not in errors


def test_one_log_line_per_attempt(session, database_url, tmp_path, make_invoice, caplog):
    caplog.set_level(logging.INFO, logger="shared.messages.delivery")
    config = make_config(database_url, tmp_path, MAIL_BACKEND="file", SMS_BACKEND="disabled")
    invoice = make_invoice(issue=True, notify=Notify(email=True, sms=True))
    drain_queue(session, owner=OWNER, config=config)
    lines = [r.getMessage() for r in caplog.records if r.name == "shared.messages.delivery"]
    email_row, sms_row = rows(session, invoice_id=invoice.id)
    assert len(lines) == 2
    for line, row, outcome in ((lines[0], email_row, "sent"), (lines[1], sms_row, "cancelled")):
        assert f"row={row.id} " in line and f"document={invoice.number} " in line
        assert f"channel={row.channel} " in line and f"outcome={outcome} " in line
        assert "duration_ms=" in line


# ----------------------------------------------------------------------------- outbox and switched-off SMS


def test_file_backends_write_one_file_per_message(session, database_url, tmp_path, make_invoice):
    config = make_config(database_url, tmp_path, MAIL_BACKEND="file", SMS_BACKEND="file")
    invoice = make_invoice(issue=True, notify=Notify(email=True, sms=True))
    assert drain_queue(session, owner=OWNER, config=config) == {"sent": 2}
    outbox = Path(config["OUTBOX_DIR"])
    (eml,) = outbox.glob("*.eml")
    (sms,) = outbox.glob("*.json")
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    email_row, sms_row = rows(session, invoice_id=invoice.id)
    assert message["Message-ID"] == email_row.message_id
    assert email_row.provider_message_id == f"file:{eml.name}"
    record = json.loads(sms.read_text())
    assert record["to"] == sms_row.recipient and invoice.number in record["body"]


def test_sms_disabled_cancels_texts_and_still_sends_email(session, database_url, tmp_path, make_invoice):
    config = make_config(database_url, tmp_path, MAIL_BACKEND="file", SMS_BACKEND="disabled")
    invoice = make_invoice(issue=True, notify=Notify(email=True, sms=True))
    assert drain_queue(session, owner=OWNER, config=config) == {"sent": 1, "cancelled": 1}
    email_row, sms_row = rows(session, invoice_id=invoice.id)
    assert email_row.state == "sent"
    assert (sms_row.state, sms_row.last_error) == ("cancelled", "SMS disabled")
