"""A quote's PDF and e-mail (SPEC §13): the invoice's look titled QUOTE, sent over SMTP with a link to /q/<token>."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from shared.documents import render_quote_pdf
from shared.inputs import QuoteDraft
from shared.messages.delivery import drain_queue
from shared.models import Activity, QueuedMessage
from shared.queries import timeline
from shared.services import Actor, Notify, accept_quote, create_quote, send_quote
from support.delivery import make_config, pdf_text, smtp_sink

pytestmark = pytest.mark.backends("sqlite")

OWNER = "worker tests"


@pytest.fixture
def quote(session, actor, make_client):
    client = make_client(name="Brightpath Academy Ltd", email="ap@brightpath.example")
    return create_quote(
        session,
        actor=actor,
        data=QuoteDraft.from_mapping(
            {
                "client_id": client.id,
                "currency": "NGN",
                "purchase_order": "PO-778",
                "discount": {"type": "percent", "value": "10"},
                "items": [{"description": "Consulting", "quantity": "2", "unit_price": "15000.00", "tax_rate": "7.5"}],
            }
        ),
    )


def test_the_quote_pdf_is_titled_quote_and_shows_the_figures_and_validity(session, actor, quote):
    draft_text = pdf_text(render_quote_pdf(session, quote))
    assert "QUOTE" in draft_text.upper() and "DRAFT" in draft_text
    quote, _ = send_quote(session, actor=actor, quote_id=quote.id, notify=Notify())
    text = pdf_text(render_quote_pdf(session, quote))
    assert "Quote" in text and quote.number in text
    assert "Invoice" not in text and "Balance due" not in text and "Amount paid" not in text
    assert "Brightpath Academy Ltd" in text and "PO-778" in text
    for figure in ("30,000.00", "3,000.00", "2,025.00", "29,025.00"):
        assert figure in text
    assert "Valid until" in text
    accept_quote(session, actor=Actor.public(), quote_id=quote.id, name="Ada Obi", ip="203.0.113.9")
    accepted = pdf_text(render_quote_pdf(session, quote))
    assert "ACCEPTED" in accepted and "Accepted by Ada Obi" in accepted
    expired = pdf_text(render_quote_pdf(session, quote, as_of=quote.valid_until + dt.timedelta(days=1)))
    assert "EXPIRED" not in expired  # an accepted quote never expires


def test_the_quote_email_reaches_an_smtp_server_with_its_pdf_and_the_public_link(
    session, actor, quote, database_url, tmp_path
):
    with smtp_sink() as sink:
        config = make_config(
            database_url,
            tmp_path,
            MAIL_BACKEND="smtp",
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=sink.port,
            SMS_BACKEND="disabled",
            PUBLIC_BASE_URL="https://billing.example",
        )
        quote, rows = send_quote(session, actor=actor, quote_id=quote.id)
        assert [(row.kind, row.channel) for row in rows] == [("quote", "email")]
        assert drain_queue(session, owner=OWNER, config=config) == {"sent": 1}
        (message,) = sink.received()

    assert message["Subject"] == f"Quote {quote.number} from Your Company"
    assert message["To"].addresses[0].addr_spec == "ap@brightpath.example"
    body = message.get_body(("plain",)).get_content()
    link = f"https://billing.example/q/{quote.public_token}"
    assert link in body and "valid until" in body and "29,025.00" in body
    assert link in message.get_body(("html",)).get_content()
    (attachment,) = message.iter_attachments()
    assert attachment.get_filename() == f"{quote.number}.pdf"
    assert quote.number in pdf_text(attachment.get_content())

    session.expire_all()
    row = session.scalars(select(QueuedMessage).where(QueuedMessage.quote_id == quote.id)).one()
    assert row.state == "sent"
    verbs = [entry.verb for entry in timeline(session, quote)]
    assert verbs[:2] == ["sent", "sent"]  # the worker's delivery, then staff sending it
    assert session.scalars(select(Activity).where(Activity.subject_type == "quote")).first() is not None
