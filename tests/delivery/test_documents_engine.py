"""How documents are rendered (shared.documents.engine): the cut-down user-agent stylesheet and the parser fix."""

from __future__ import annotations

import re

import pytest
import tinyhtml5
import tinyhtml5.inputstream
from weasyprint import HTML

from shared.documents import engine, render_credit_note_pdf, render_invoice_pdf, render_receipt_pdf
from shared.documents import pdf as pdf_module
from shared.inputs import CreditNoteInput, PaymentInput, QuoteDraft, SettingsChanges
from shared.services import create_quote, issue_credit_note, record_payment, send_quote
from shared.services.settings import update_settings

# SQLite only: PDF rendering.
pytestmark = pytest.mark.backends("sqlite")


@pytest.fixture
def documents(session, actor, make_client, make_invoice):
    """Renderers of an invoice showing all it can, its receipt, a credit note, a quote and the client's statement."""
    update_settings(
        session,
        actor=actor,
        data=SettingsChanges(
            company_name="Lagoon Digital GmbH",
            company_address="Torstraße 12\n10119 Berlin",
            company_email="billing@lagoon.example",
            company_phone="+49 30 1234567",
            company_tax_id="DE123456789",
            company_website="lagoon.example",
            payment_instructions="Pay by bank transfer within 14 days.",
            iban="DE89 3704 0044 0532 0130 00",
            bic="COBADEFFXXX",
            account_holder="Lagoon Digital GmbH",
        ),
    )
    client = make_client(billing_address="Plot 7, Admiralty Way\nLekki", postal_address="PO Box 12, Ikeja")
    items = [
        {"description": "Design\nand build", "quantity": "2.5", "unit_price": "1200.00", "tax_rate": "19"},
        {"description": "Hosting", "quantity": "12", "unit_price": "15.00", "tax_rate": "7"},
    ]
    invoice = make_invoice(
        issue=True,
        client=client,
        currency="EUR",
        purchase_order="PO-42",
        notes="Thank you.",
        discount={"type": "percent", "value": "10"},
        items=items,
    )
    payment, _ = record_payment(
        session, actor=actor, invoice_id=invoice.id, data=PaymentInput(amount="100.00", reference="T-1", note="Thanks")
    )
    credited = make_invoice(issue=True, client=client, currency="EUR", items=items)
    note, _ = issue_credit_note(
        session, actor=actor, invoice_id=credited.id, data=CreditNoteInput(reason="Cancelled", full=True)
    )
    quote = create_quote(
        session, actor=actor, data=QuoteDraft.from_mapping({"client_id": client.id, "currency": "EUR", "items": items})
    )
    quote, _ = send_quote(session, actor=actor, quote_id=quote.id)
    return {
        "invoice": lambda: render_invoice_pdf(session, invoice),
        "receipt": lambda: render_receipt_pdf(session, payment),
        "credit note": lambda: render_credit_note_pdf(session, note),
        "quote": lambda: pdf_module.render_quote_pdf(session, quote),
        "statement": lambda: pdf_module.render_statement_pdf(session, client.id),
    }


def test_the_cut_down_user_agent_stylesheet_renders_the_same_bytes(documents, monkeypatch):
    """assets/ua.css leaves out only what our templates never use: every document comes out byte for byte the same."""
    ours = {name: render() for name, render in documents.items()}
    pdf_module.clear_cache()
    monkeypatch.setattr(engine.DocumentHTML, "_ua_stylesheets", HTML._ua_stylesheets)  # WeasyPrint's own
    theirs = {name: render() for name, render in documents.items()}
    for name in documents:
        assert ours[name] == theirs[name], name


def test_documents_are_rendered_with_the_cut_down_user_agent_stylesheet(monkeypatch):
    used = []
    original = engine.DocumentHTML._ua_stylesheets
    monkeypatch.setattr(
        engine.DocumentHTML, "_ua_stylesheets", lambda self, forms=False: used.append(1) or original(self)
    )
    engine.write_pdf("<p>x</p>", logo=None, logo_mime=None, identifier="t", variant=None)
    assert used
    sheet = original(engine.DocumentHTML(string="<p>x</p>"))
    assert len(sheet) == 1 and sheet[0] is not HTML(string="<p>x</p>")._ua_stylesheets()[0]


def test_the_html_parser_finds_its_cached_patterns():
    """tinyhtml5 2.1.0 looks its patterns up under another key than it stores them; ours keeps them where it looks."""
    cache = tinyhtml5.inputstream.characters_until_regex
    tree = tinyhtml5.parse("<p class=a>Fish &amp; chips<br>\n  <b>x</b></p>", namespace_html_elements=False)
    paragraph = tree.find("body/p")
    assert paragraph.get("class") == "a" and paragraph.text == "Fish & chips"
    assert paragraph.find("b").text == "x"
    assert cache, "the parser asked for no pattern"
    for (characters, opposite), pattern in cache.items():
        assert not isinstance(characters, re.Pattern)
        assert isinstance(opposite, bool) and isinstance(pattern, re.Pattern)
    size = len(cache)
    tinyhtml5.parse("<p>again &amp; again</p>", namespace_html_elements=False)
    assert len(cache) == size  # found, not rebuilt under a new key
