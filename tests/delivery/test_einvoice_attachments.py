"""SPEC §16 ``einvoice_format``: what the invoice e-mail carries."""

from __future__ import annotations

import pytest

from shared.actors import Actor
from shared.messages.compose import build_email
from shared.models import QueuedMessage
from shared.services import Notify, get_settings
from support.delivery import make_config

pytestmark = pytest.mark.backends("sqlite")


@pytest.fixture
def config(database_url, tmp_path):
    return make_config(database_url, tmp_path, MAIL_FROM="billing@acme.example")


def _email(session, make_invoice, make_client, config, fmt, *, country="FR"):
    settings = get_settings(session)
    settings.company_name, settings.country, settings.vat_id = "Acme GmbH", "DE", "DE136695976"
    settings.einvoice_format = fmt
    session.commit()
    client = make_client(country=country)
    invoice = make_invoice(issue=True, notify=Notify(email=True), client=client, currency="EUR")
    row = session.query(QueuedMessage).filter_by(invoice_id=invoice.id, kind="invoice", channel="email").one()
    message = build_email(session, row, config)
    return invoice, [
        (part.get_filename(), part.get_content_type(), part.get_content()) for part in message.iter_attachments()
    ]


def test_ubl_goes_beside_the_plain_pdf(session, make_invoice, make_client, config):
    invoice, attachments = _email(session, make_invoice, make_client, config, "ubl")
    assert [(name, kind) for name, kind, _ in attachments] == [
        (f"{invoice.number}.pdf", "application/pdf"),
        (f"{invoice.number}.ubl.xml", "application/xml"),
    ]
    assert b"urn:fdc:peppol.eu:2017:poacc:billing:3.0" in attachments[1][2]


def test_facturx_replaces_the_plain_pdf(session, make_invoice, make_client, config):
    from facturx import get_facturx_xml_from_pdf

    invoice, attachments = _email(session, make_invoice, make_client, config, "facturx")
    assert [(name, kind) for name, kind, _ in attachments] == [(f"{invoice.number}.pdf", "application/pdf")]
    assert get_facturx_xml_from_pdf(attachments[0][2], check_xsd=False)[0] == "factur-x.xml"


def test_an_invoice_that_cannot_be_an_einvoice_still_goes_with_its_plain_pdf(
    session, make_invoice, make_client, config
):
    invoice, attachments = _email(session, make_invoice, make_client, config, "ubl", country="")
    assert [name for name, _, _ in attachments] == [f"{invoice.number}.pdf"]


def test_a_credit_note_email_carries_its_ubl_credit_note(session, make_invoice, make_client, config):
    from shared.inputs import CreditNoteInput
    from shared.services import issue_credit_note

    invoice, _ = _email(session, make_invoice, make_client, config, "ubl")
    note, _ = issue_credit_note(
        session,
        actor=Actor.system("tests"),
        invoice_id=invoice.id,
        data=CreditNoteInput(reason="Returned", full=True),
        notify=Notify(email=True),
    )
    session.commit()
    row = session.query(QueuedMessage).filter_by(kind="credit_note", channel="email").one()
    message = build_email(session, row, config)
    names = [part.get_filename() for part in message.iter_attachments()]
    assert names == [f"{note.number}.pdf", f"{note.number}.ubl.xml"]
    xml = list(message.iter_attachments())[1].get_content()
    assert b"<CreditNote" in xml and invoice.number.encode() in xml
