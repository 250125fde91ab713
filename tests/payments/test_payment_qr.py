"""SPEC §14 payment QR: bank details in the settings (IBAN/BIC checked), an EPC069-12 QR on EUR invoices with a balance."""

from __future__ import annotations

import re

import pypdfium2
import pytest
import zxingcpp
from sqlalchemy import select

from shared.documents import render_invoice_pdf
from shared.documents.payment_qr import payment_qr
from shared.errors import ValidationFailed
from shared.inputs import PaymentInput, SettingsChanges
from shared.lookups import get_settings
from shared.models import Activity
from shared.services import record_payment, void_invoice
from shared.services.settings import update_settings

pytestmark = pytest.mark.backends("sqlite")

IBAN = "DE89370400440532013000"


@pytest.fixture
def bank(session, actor):
    update_settings(
        session,
        actor=actor,
        data=SettingsChanges(iban="de89 3704 0044 0532 0130 00", bic="cobadeffxxx", account_holder="Acme Trading GmbH"),
    )


def qr_codes(pdf: bytes) -> list[str]:
    """The QR codes readable on the PDF's first page, decoded from a 200 dpi render."""
    page = pypdfium2.PdfDocument(pdf)[0]
    image = page.render(scale=200 / 72).to_pil()
    return [found.text for found in zxingcpp.read_barcodes(image) if found.format == zxingcpp.BarcodeFormat.QRCode]


def test_bank_details_are_checked_and_stored_compact(session, actor, bank):
    settings = get_settings(session)
    assert (settings.iban, settings.bic, settings.account_holder) == (IBAN, "COBADEFFXXX", "Acme Trading GmbH")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("iban", "DE89370400440532013001", "is not a valid IBAN"),  # one digit off: the checksum fails
        ("iban", "XX00 1234", "is not a valid IBAN"),
        ("bic", "COBADE", "is not a valid BIC"),
    ],
)
def test_a_bad_iban_or_bic_is_refused_and_nothing_changes(session, actor, bank, field, value, message):
    with pytest.raises(ValidationFailed) as refused:
        update_settings(session, actor=actor, data=SettingsChanges(**{field: value}))
    assert any(message in text for text in refused.value.errors[field])
    session.rollback()
    assert (get_settings(session).iban, get_settings(session).bic) == (IBAN, "COBADEFFXXX")
    assert session.scalar(select(Activity.summary).order_by(Activity.id.desc())) == "Changed account_holder, bic, iban"


def test_a_eur_invoice_with_a_balance_carries_an_epc_qr_with_the_balance_and_its_number(
    session, actor, bank, make_invoice
):
    invoice = make_invoice(
        issue=True,
        currency="EUR",
        items=[{"description": "Design", "quantity": "3", "unit_price": "410.50", "tax_rate": "19"}],
    )
    record_payment(session, actor=actor, invoice_id=invoice.id, data=PaymentInput(amount="200.00"))
    assert str(invoice.balance_due) == "1265.49"
    pdf = render_invoice_pdf(session, invoice)
    [payload] = qr_codes(pdf)
    lines = payload.split("\n")
    # EPC069-12: service tag, version 002, character set, SCT, BIC, name, IBAN, amount, purpose, reference, text.
    assert lines[:2] == ["BCD", "002"]
    assert lines[2] in {str(n) for n in range(1, 9)}
    assert lines[3:8] == ["SCT", "COBADEFFXXX", "Acme Trading GmbH", IBAN, "EUR1265.49"]
    assert lines[8:11] == ["", "", invoice.number]


def test_a_paid_void_or_non_eur_invoice_has_no_qr(session, actor, bank, make_invoice):
    eur = [{"description": "Design", "quantity": "1", "unit_price": "50.00", "tax_rate": "0"}]
    paid = make_invoice(issue=True, currency="EUR", items=eur)
    record_payment(session, actor=actor, invoice_id=paid.id, data=PaymentInput(amount="50.00"))
    void = make_invoice(issue=True, currency="EUR", items=eur)
    void_invoice(session, actor=actor, invoice_id=void.id, reason="duplicate")
    dollars = make_invoice(issue=True, currency="USD")
    assert qr_codes(render_invoice_pdf(session, paid)) == []
    settings = get_settings(session)
    for invoice in (paid, void, dollars):
        assert payment_qr(invoice, settings) is None, invoice.status


def test_the_invoice_pdf_prints_the_bank_details(session, bank, make_invoice):
    from support.delivery import pdf_text, squeeze

    invoice = make_invoice(issue=True, currency="USD")
    text = squeeze(pdf_text(render_invoice_pdf(session, invoice)))
    for shown in ("Acme Trading GmbH", "DE89 3704 0044 0532 0130 00", "COBADEFFXXX", f"Reference {invoice.number}"):
        assert squeeze(shown) in text


def test_the_public_page_shows_the_bank_details_and_the_qr(admin_app, session, bank, make_invoice):
    eur = make_invoice(
        issue=True,
        currency="EUR",
        items=[{"description": "Design", "quantity": "1", "unit_price": "80", "tax_rate": "0"}],
    )
    page = admin_app.test_client().get(f"/i/{eur.public_token}").get_data(as_text=True)
    assert "DE89 3704 0044 0532 0130 00" in page and 'class="payment-qr-code"' in page
    dollars = make_invoice(issue=True, currency="USD")
    page = admin_app.test_client().get(f"/i/{dollars.public_token}").get_data(as_text=True)
    assert "DE89 3704 0044 0532 0130 00" in page and "payment-qr-code" not in page


def test_the_settings_page_edits_the_bank_details_and_names_a_bad_iban(admin):
    page = admin.get("/admin/settings").get_data(as_text=True)
    assert 'name="iban"' in page and 'name="bic"' in page and 'name="account_holder"' in page
    form = {
        name: value for name, value in re.findall(r'name="([a-z_]+)"[^>]*value="([^"]*)"', page) if name != "csrf_token"
    }
    form.update(
        company_name="Acme",
        default_currency="EUR",
        tax_rounding="line",
        paper_size="A4",
        invoice_number_format="INV-{year}-{seq:05d}",
        receipt_number_format="RCT-{year}-{seq:05d}",
        iban="DE00 1234 5678",
        bic="",
        account_holder="Acme",
    )
    response = admin.post_form("/admin/settings", form)
    assert response.status_code == 200 and "Is not a valid IBAN (invalid IBAN length)" in response.get_data(
        as_text=True
    )
    form.update(iban="DE89 3704 0044 0532 0130 00")
    assert admin.post_form("/admin/settings", form).status_code == 302
    assert "DE89 3704 0044 0532 0130 00" in admin.get("/admin/settings").get_data(as_text=True)
