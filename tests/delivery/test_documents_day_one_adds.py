"""Issue 13 "Add" on paper: Letter as well as A4, the company tax id, tax by rate, statements with nothing due."""

from __future__ import annotations

import pypdfium2
import pytest

from shared.documents import render_invoice_pdf, render_statement_pdf
from shared.inputs import PaymentInput, SettingsChanges
from shared.messages.compose import build_email_parts
from shared.models import QueuedMessage
from shared.services import Actor, Notify, get_settings, record_payment
from shared.services.settings import update_settings
from support.delivery import make_config, pdf_text, squeeze

# Pages, documents and messages read the same rows on either backend: SQLite only (the README's rule).
pytestmark = pytest.mark.backends("sqlite")

TWO_RATES = [
    {"description": "Design", "quantity": "1", "unit_price": "1000.00", "tax_rate": "7.5"},
    {"description": "Hosting", "quantity": "2", "unit_price": "250.00", "tax_rate": "19"},
]


def page_size_pt(pdf: bytes) -> tuple[int, int]:
    document = pypdfium2.PdfDocument(pdf)
    try:
        width, height = document[0].get_size()
    finally:
        document.close()
    return round(width), round(height)


def test_pdfs_follow_the_paper_size_setting(session, actor, make_invoice):
    invoice = make_invoice(issue=True)
    assert page_size_pt(render_invoice_pdf(session, invoice)) == (595, 842)  # A4, the default
    update_settings(session, actor=actor, data=SettingsChanges(paper_size="Letter"))
    assert page_size_pt(render_invoice_pdf(session, invoice)) == (612, 792)  # 8.5 x 11 in
    assert page_size_pt(render_statement_pdf(session, invoice.client_id)) == (612, 792)


def test_an_unknown_paper_size_is_refused_and_changes_nothing(session, actor):
    with pytest.raises(Exception, match="paper_size"):
        update_settings(session, actor=actor, data=SettingsChanges(paper_size="A5"))
    session.rollback()
    assert get_settings(session).paper_size == "A4"


def test_the_company_tax_id_is_printed_beside_the_address(session, actor, make_invoice):
    update_settings(
        session,
        actor=actor,
        data=SettingsChanges(company_address="12 Marina Road\nLagos", company_tax_id="TIN 01234567-0001"),
    )
    text = pdf_text(render_invoice_pdf(session, make_invoice(issue=True)), first=1, last=1)
    head = text.split("Bill to")[0] if "Bill to" in text else text.split("BILL TO")[0]
    assert "Lagos" in head and "TIN 01234567-0001" in head


def test_tax_is_broken_down_by_rate_when_there_are_several(session, make_invoice):
    text = squeeze(pdf_text(render_invoice_pdf(session, make_invoice(issue=True, items=TWO_RATES))))
    assert "Tax7.5%$75.00" in text and "Tax19%$95.00" in text
    one_rate = squeeze(pdf_text(render_invoice_pdf(session, make_invoice(issue=True))))
    assert "Tax0%" not in one_rate and "Tax$0.00" in one_rate


def test_a_statement_with_nothing_due_has_no_how_to_pay(session, actor, make_invoice):
    settings = get_settings(session)
    settings.payment_instructions = "Zenith Bank, account 1012345678"
    session.commit()
    invoice = make_invoice(issue=True)
    owing = pdf_text(render_statement_pdf(session, invoice.client_id))
    assert "Zenith Bank" in owing
    record_payment(
        session, actor=Actor.system("tests", is_admin=True), invoice_id=invoice.id, data=PaymentInput(amount="100.00")
    )
    settled = pdf_text(render_statement_pdf(session, invoice.client_id))
    assert "Zenith Bank" not in settled and "How to pay" not in settled.title()


def test_the_invoice_email_facts_break_the_tax_down_by_rate(session, database_url, tmp_path, make_invoice):
    invoice = make_invoice(issue=True, items=TWO_RATES, notify=Notify(email=True))
    row = session.query(QueuedMessage).filter_by(invoice_id=invoice.id, channel="email").one()
    parts = build_email_parts(session, row, make_config(database_url, tmp_path), attach=False)
    text = " ".join(parts["text"].split())
    assert "Tax 7.5%: $75.00 Tax 19%: $95.00 Invoice total: $1,670.00" in text
    assert "Tax 7.5%" in parts["html"] and "$95.00" in parts["html"]
