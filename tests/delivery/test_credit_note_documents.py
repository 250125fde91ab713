"""The credit-note PDF and e-mail, and credits on the invoice PDF and public page (SPEC §11)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from shared.documents import render_credit_note_pdf, render_invoice_pdf
from shared.inputs import ApplyCreditInput, CreditNoteInput, ItemInput, PaymentInput
from shared.messages.delivery import drain_queue
from shared.models import QueuedMessage
from shared.services import Notify, apply_client_credit, issue_credit_note, record_payment
from support.delivery import make_config, pdf_text, smtp_sink

pytestmark = pytest.mark.backends("sqlite")

OWNER = "credit-note-test"


def ngn_invoice(make_invoice, make_client):
    client = make_client(name="Brightpath Academy Ltd", email="ap@brightpath.example")
    return make_invoice(
        issue=True,
        client=client,
        currency="NGN",
        issue_date="2026-01-15",
        due_date="2026-02-15",
        discount={"type": "percent", "value": "10"},
        items=[{"description": "Consulting", "quantity": "2", "unit_price": "15000.00", "tax_rate": "7.5"}],
    )


def test_credit_note_pdf_names_itself_the_invoice_the_reason_and_the_total(session, actor, make_invoice, make_client):
    invoice = ngn_invoice(make_invoice, make_client)
    note, _ = issue_credit_note(
        session,
        actor=actor,
        invoice_id=invoice.id,
        data=CreditNoteInput(reason="Workshop cancelled by the school", full=True),
    )
    text = pdf_text(render_credit_note_pdf(session, note))
    assert "CREDIT NOTE" in text.upper()
    assert note.number in text
    assert invoice.number in text and "15 Jan 2026" in text  # the corrected invoice's number and date
    assert "Workshop cancelled by the school" in text
    assert "NGN 29,025.00" in text
    assert "Brightpath Academy Ltd" in text

    # The invoice PDF shows the credit applied and names the credit note.
    invoice_text = pdf_text(render_invoice_pdf(session, invoice))
    assert "Credits applied" in invoice_text and note.number in invoice_text
    assert "CREDITED" in invoice_text


def test_credit_note_email_reaches_an_smtp_server_with_its_pdf(
    session, database_url, tmp_path, actor, make_invoice, make_client
):
    invoice = ngn_invoice(make_invoice, make_client)
    record_payment(session, actor=actor, invoice_id=invoice.id, data=PaymentInput(amount="29025.00"))
    with smtp_sink() as sink:
        config = make_config(
            database_url,
            tmp_path,
            MAIL_BACKEND="smtp",
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=sink.port,
            SMS_BACKEND="disabled",
        )
        note, messages = issue_credit_note(
            session,
            actor=actor,
            invoice_id=invoice.id,
            data=CreditNoteInput(reason="Overcharged", items=[ItemInput("Hour billed twice", "1", "1000.00", "7.5")]),
            notify=Notify(email=True),
        )
        assert [(m.kind, m.channel) for m in messages] == [("credit_note", "email")]
        assert drain_queue(session, owner=OWNER, config=config) == {"sent": 1}
        (message,) = sink.received()
    assert (
        " ".join(message["Subject"].split())
        == f"Credit note {note.number} for invoice {invoice.number} from Your Company"
    )
    assert message["To"].addresses[0].addr_spec == "ap@brightpath.example"
    body = message.get_body(preferencelist=("plain",)).get_content().replace("\xa0", " ")
    assert "Overcharged" in body and "NGN 1,075.00" in body and "held as credit" in body
    (attachment,) = message.iter_attachments()
    assert attachment.get_filename() == f"{note.number}.pdf"
    text = pdf_text(attachment.get_content())
    assert note.number in text and invoice.number in text and "Overcharged" in text and "NGN 1,075.00" in text
    session.expire_all()
    row = session.scalars(select(QueuedMessage).where(QueuedMessage.credit_note_id == note.id)).one()
    assert row.state == "sent"


def test_no_email_when_notify_email_is_false(session, actor, make_invoice, make_client):
    invoice = ngn_invoice(make_invoice, make_client)
    _, messages = issue_credit_note(
        session, actor=actor, invoice_id=invoice.id, data=CreditNoteInput(reason="x", full=True), notify=Notify()
    )
    assert messages == []
    assert session.scalars(select(QueuedMessage).where(QueuedMessage.kind == "credit_note")).all() == []


def test_public_page_shows_credits_applied(session, actor, admin_app, make_invoice, make_client):
    invoice = ngn_invoice(make_invoice, make_client)
    other = make_invoice(
        issue=True,
        client=invoice.client,
        currency="NGN",
        items=[{"description": "Extra", "quantity": "1", "unit_price": "5000.00", "tax_rate": "0"}],
    )
    record_payment(session, actor=actor, invoice_id=invoice.id, data=PaymentInput(amount="29025.00"))
    note, _ = issue_credit_note(
        session, actor=actor, invoice_id=invoice.id, data=CreditNoteInput(reason="Refund all", full=True)
    )
    apply_client_credit(session, actor=actor, invoice_id=other.id, data=ApplyCreditInput(amount="2000.00"))
    token = other.public_token
    page = admin_app.test_client().get(f"/i/{token}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Credits applied" in html and "2,000.00" in html
    assert dt.date.today()  # the page renders today's figures
