"""What the e-mails and texts say (SPEC §8): parts, headers, wording per reminder stage, SMS length."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from shared.db import utcnow
from shared.inputs import PaymentInput
from shared.messages.compose import build_email, build_sms
from shared.messages.sms_length import is_gsm7, sms_segments
from shared.models import QueuedMessage
from shared.services import Notify, get_settings, record_payment
from support.delivery import make_config

# SQLite only: the text of messages is rendering.
pytestmark = pytest.mark.backends("sqlite")

HOSTILE_NAME = '<script>alert(1)</script><img src="file:///etc/passwd">'


@pytest.fixture
def config(database_url, tmp_path):
    return make_config(
        database_url,
        tmp_path,
        MAIL_FROM="billing@lumenstudio.example",
        MAIL_REPLY_TO="accounts@lumenstudio.example",
        PUBLIC_BASE_URL="https://pay.lumenstudio.example",
    )


@pytest.fixture
def company(session):
    settings = get_settings(session)
    settings.company_name = "Lumen Studio Ltd"
    settings.company_email = "hello@lumenstudio.example"
    settings.payment_instructions = "Zenith Bank, account 1012345678"
    session.commit()
    return settings


def ngn_invoice(make_invoice, *, notify=Notify(email=True, sms=True), **fields):
    data = {
        "currency": "NGN",
        "discount": {"type": "percent", "value": "10"},
        "items": [{"description": "Consulting", "quantity": "2", "unit_price": "15000.00", "tax_rate": "7.5"}],
    }
    data.update(fields)
    return make_invoice(issue=True, notify=notify, **data)


def queued(session, invoice, *, kind="invoice", channel="email"):
    return session.query(QueuedMessage).filter_by(invoice_id=invoice.id, kind=kind, channel=channel).one()


def reminder_row(session, invoice, channel="email", stage=1):
    client = invoice.client
    row = QueuedMessage(
        kind="reminder",
        channel=channel,
        recipient=client.email if channel == "email" else client.phone,
        invoice_id=invoice.id,
        client_id=client.id,
        reminder_stage=stage,
        dedupe_key=f"reminder:{invoice.id}:{stage}:{channel}",
    )
    session.add(row)
    session.commit()
    return row


def test_invoice_email_has_text_html_and_the_pdf(session, company, config, make_invoice):
    invoice = ngn_invoice(make_invoice)
    row = queued(session, invoice)
    message = build_email(session, row, config)

    assert message.get_content_type() == "multipart/mixed"
    body = message.get_body(preferencelist=("related", "html", "plain"))
    alternative = next(message.iter_parts())
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/html"]
    assert body.get_content_type() == "text/html"
    (attachment,) = message.iter_attachments()
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"{invoice.number}.pdf"
    assert attachment.get_content().startswith(b"%PDF-")

    assert message["Subject"] == f"Invoice {invoice.number} from Lumen Studio Ltd"
    assert message["From"] == "Lumen Studio Ltd <billing@lumenstudio.example>"
    assert message["To"].addresses[0].addr_spec == row.recipient
    assert message["Reply-To"] == "accounts@lumenstudio.example"
    assert message["Date"].datetime.tzinfo is not None

    link = f"https://pay.lumenstudio.example/i/{invoice.public_token}"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = body.get_content()
    for part in (text, html):
        assert link in part
        assert invoice.number in part
        assert "NGN\xa029,025.00" in part
        assert "Zenith Bank" in part


def test_message_id_is_stable_per_row_and_distinct_between_rows(session, config, make_invoice):
    invoice = ngn_invoice(make_invoice, notify=Notify(email=True))
    row = queued(session, invoice)
    first = build_email(session, row, config)["Message-ID"]
    again = build_email(session, row, config, now=utcnow() + dt.timedelta(hours=3))["Message-ID"]
    assert first == again
    assert re.fullmatch(rf"<email-queue-{row.id}\.[0-9a-f]{{12}}@lumenstudio\.example>", first)
    other = ngn_invoice(make_invoice, notify=Notify(email=True))
    assert build_email(session, queued(session, other), config)["Message-ID"] != first


def test_hostile_client_name_is_escaped_in_html_and_kept_as_text(session, config, make_client, make_invoice):
    invoice = ngn_invoice(make_invoice, client=make_client(name=HOSTILE_NAME), notify=Notify(email=True))
    message = build_email(session, queued(session, invoice), config)
    html = message.get_body(preferencelist=("html",)).get_content()
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "<script>" not in html and "<img src=" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in html
    assert HOSTILE_NAME in text
    assert message["To"].addresses[0].display_name == HOSTILE_NAME


@pytest.mark.parametrize(
    ("days_to_due", "subject", "phrase"),
    [
        (3, "Reminder: invoice {number} is due on {due}", "is due on {due}, in 3 days"),
        (0, "Invoice {number} is due today", "is due today"),
        (-5, "Overdue: invoice {number} was due on {due}", "is now 5 days overdue"),
    ],
    ids=["before-due", "due-today", "overdue"],
)
def test_reminder_wording_follows_the_day_it_is_sent(
    session, actor, config, make_invoice, days_to_due, subject, phrase
):
    today = dt.date.today()
    due = today + dt.timedelta(days=days_to_due)
    invoice = ngn_invoice(
        make_invoice,
        notify=Notify(),
        issue_date=min(today, due).isoformat(),
        due_date=due.isoformat(),
    )
    record_payment(
        session, actor=actor, invoice_id=invoice.id, data=PaymentInput(amount="9025.00")
    )  # balance now 20,000.00
    row = reminder_row(session, invoice)
    message = build_email(session, row, config)
    due_text = f"{due.day} {due.strftime('%b')} {due.year}"
    assert message["Subject"] == subject.format(number=invoice.number, due=due_text)
    text = " ".join(message.get_body(preferencelist=("plain",)).get_content().split())
    assert phrase.format(due=due_text) in text
    assert "NGN 20,000.00" in text  # the balance when sent, not the total
    assert message["Auto-Submitted"] == "auto-generated"


def test_invoice_sms_fits_one_segment_with_number_amount_due_date_and_link(session, company, config, make_invoice):
    invoice = ngn_invoice(make_invoice, issue_date="2026-11-25", due_date="2026-12-09")
    text = build_sms(session, queued(session, invoice, channel="sms"), config)
    assert text == (
        f"Invoice {invoice.number} from Lumen Studio Ltd: NGN 29,025.00 due 9 Dec 2026. "
        f"https://pay.lumenstudio.example/i/{invoice.public_token}"
    )
    assert is_gsm7(text)
    assert len(text) <= 160
    assert sms_segments(text) == 1


def test_sms_drops_a_long_company_name_rather_than_a_second_segment(session, config, make_invoice):
    settings = get_settings(session)
    settings.company_name = "The Very Long Name of an Educational and Consulting Services Company Limited"
    session.commit()
    invoice = ngn_invoice(make_invoice)
    text = build_sms(session, queued(session, invoice, channel="sms"), config)
    assert sms_segments(text) == 1
    assert "Educational" not in text
    assert invoice.number in text and "NGN 29,025.00" in text and invoice.public_token in text


@pytest.mark.parametrize("days_to_due", [3, 0, -5], ids=["before-due", "due-today", "overdue"])
def test_reminder_sms_fits_one_segment(session, company, config, make_invoice, days_to_due):
    today = dt.date.today()
    due = today + dt.timedelta(days=days_to_due)
    invoice = ngn_invoice(
        make_invoice, notify=Notify(), issue_date=min(today, due).isoformat(), due_date=due.isoformat()
    )
    text = build_sms(session, reminder_row(session, invoice, channel="sms"), config)
    assert sms_segments(text) == 1
    assert invoice.number in text and "NGN 29,025.00" in text and invoice.public_token in text
    assert ("overdue" in text) == (days_to_due < 0)


def test_receipt_email_and_sms(session, actor, company, config, make_invoice):
    invoice = ngn_invoice(make_invoice, notify=Notify())
    payment, _ = record_payment(
        session,
        actor=actor,
        invoice_id=invoice.id,
        data=PaymentInput(amount="29025.00"),
        notify=Notify(email=True, sms=True),
    )
    message = build_email(session, queued(session, invoice, kind="receipt"), config)
    assert message["Subject"] == f"Receipt {payment.receipt_number} for invoice {invoice.number} from Lumen Studio Ltd"
    (attachment,) = message.iter_attachments()
    assert attachment.get_filename() == f"{payment.receipt_number}.pdf"
    assert "paid in full" in message.get_body(preferencelist=("plain",)).get_content()
    text = build_sms(session, queued(session, invoice, kind="receipt", channel="sms"), config)
    assert sms_segments(text) == 1
    assert payment.receipt_number in text and "NGN 29,025.00" in text


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("€" * 80, 1),  # extension characters cost two septets
        ("€" * 81, 2),
        ("₦" + "a" * 69, 1),  # outside GSM-7: UCS-2, 70 per segment
        ("₦" + "a" * 70, 2),
    ],
)
def test_sms_segment_counting(text, segments):
    assert sms_segments(text) == segments


def test_invoice_and_reminder_emails_never_promise_online_payment_without_a_stripe_key(
    session, company, config, make_invoice
):
    invoice = ngn_invoice(make_invoice, notify=Notify(email=True))
    for row in (queued(session, invoice), reminder_row(session, invoice)):
        message = build_email(session, row, config)
        for part in ("plain", "html"):
            body = message.get_body(preferencelist=(part,)).get_content()
            assert "View the invoice online" in body
            assert "pay online" not in body.lower()


def test_invoice_email_offers_online_payment_once_a_stripe_key_is_configured(session, company, config, make_invoice):
    invoice = ngn_invoice(make_invoice, notify=Notify(email=True))
    message = build_email(session, queued(session, invoice), {**config, "STRIPE_SECRET_KEY": "sk_test_123"})
    assert "View and pay online" in message.get_body(preferencelist=("plain",)).get_content()


def test_receipt_sms_names_the_company_in_one_segment(session, actor, company, config, make_invoice):
    invoice = ngn_invoice(make_invoice, notify=Notify())
    payment, _ = record_payment(
        session, actor=actor, invoice_id=invoice.id, data=PaymentInput(amount="29025.00"), notify=Notify(sms=True)
    )
    text = build_sms(session, queued(session, invoice, kind="receipt", channel="sms"), config)
    assert "Lumen Studio Ltd" in text, text
    assert payment.receipt_number in text and "NGN 29,025.00" in text and invoice.number in text
    assert sms_segments(text) == 1
