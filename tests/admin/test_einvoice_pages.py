"""E-invoices in the admin (SPEC §16): company and client fields, line details, download buttons."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shared.db import db
from shared.inputs import ClientInput, InvoiceDraft
from shared.lookups import get_settings
from shared.models import Client, Invoice
from shared.services import Actor, create_client, create_draft, issue_invoice

pytestmark = pytest.mark.backends("sqlite")

SETTINGS = {
    "company_name": "Acme GmbH",
    "invoice_number_format": "INV-{year}-{seq:05d}",
    "receipt_number_format": "RCT-{year}-{seq:05d}",
    "credit_note_number_format": "CN-{year}-{seq:05d}",
    "default_currency": "EUR",
    "country": "DE",
    "time_zone": "UTC",
    "payment_terms_days": "14",
    "tax_rounding": "line",
    "reminder_offsets": "-3, 0, 3",
    "reminder_repeat_days": "7",
    "reminder_max": "6",
    "vat_id": "136695976",
    "street": "Hauptstraße 1",
    "city": "Berlin",
    "postal_code": "10115",
    "einvoice_format": "ubl",
}


def test_settings_take_the_company_vat_id_address_and_einvoice_format(admin_app, admin):
    page = admin.get("/admin/settings").get_data(as_text=True)
    assert 'name="vat_id"' in page and 'name="einvoice_format"' in page
    response = admin.post_form("/admin/settings", SETTINGS, follow=True)
    assert "Settings saved." in response.get_data(as_text=True)
    with admin_app.app_context():
        saved = get_settings(db.session)
        assert (saved.vat_id, saved.city, saved.postal_code, saved.einvoice_format) == (
            "DE136695976",
            "Berlin",
            "10115",
            "ubl",
        )
    bad = admin.post_form("/admin/settings", {**SETTINGS, "vat_id": "DE123"}).get_data(as_text=True)
    assert "VAT" in bad and "not a valid DE VAT number" in bad


def test_a_client_gets_a_country_and_a_checked_vat_id(admin_app, admin):
    data = {"name": "Buyer SARL", "client_type": "corporate", "country": "FR", "vat_id": "FR 403 032 650 45"}
    bad = admin.post_form("/admin/clients/new", {**data, "vat_id": "FR1"}).get_data(as_text=True)
    assert "not a valid FR VAT number" in bad
    assert admin.post_form("/admin/clients/new", data).status_code == 302
    with admin_app.app_context():
        client = db.session.scalars(select(Client)).one()
        assert (client.country, client.vat_id) == ("FR", "FR40303265045")


def test_the_editor_takes_line_unit_category_and_asks_for_an_exemption_reason(admin_app, admin):
    with admin_app.app_context():
        client = create_client(db.session, actor=Actor.system(), data=ClientInput(name="Ada", country="FR"))
        db.session.commit()
        client_id = client.id
    line = {
        "client_id": str(client_id),
        "currency": "EUR",
        "lines-0-description": "Tuition",
        "lines-0-quantity": "2",
        "lines-0-unit_price": "100.00",
        "lines-0-tax_rate": "0",
        "lines-0-unit": "HUR",
        "lines-0-tax_category": "E",
    }
    refused = admin.post_form("/admin/invoices/new", line).get_data(as_text=True)
    assert "required for tax category E" in refused
    accepted = admin.post_form("/admin/invoices/new", {**line, "lines-0-tax_exemption_reason": "Education"})
    assert accepted.status_code == 302, accepted.get_data(as_text=True)
    with admin_app.app_context():
        (saved,) = db.session.scalars(select(Invoice)).one().lines
        assert (saved.unit, saved.tax_category, saved.tax_exemption_reason) == ("HUR", "E", "Education")


def _issued(app, *, country: str) -> int:
    with app.app_context():
        settings = get_settings(db.session)
        settings.country, settings.vat_id = "DE", "DE136695976"
        client = create_client(db.session, actor=Actor.system(), data=ClientInput(name="Buyer", country=country))
        draft = create_draft(
            db.session,
            actor=Actor.system(),
            data=InvoiceDraft.from_mapping(
                {
                    "client_id": client.id,
                    "currency": "EUR",
                    "items": [{"description": "Work", "quantity": "1", "unit_price": "10.00", "tax_rate": "19"}],
                }
            ),
        )
        issue_invoice(db.session, actor=Actor.system(), invoice_id=draft.id)
        db.session.commit()
        return draft.id


def test_an_issued_invoice_offers_factur_x_and_ubl_and_a_refusal_names_what_is_missing(admin_app, admin):
    ready, missing = _issued(admin_app, country="FR"), _issued(admin_app, country="")
    page = admin.get(f"/admin/invoices/{ready}").get_data(as_text=True)
    assert f"/admin/invoices/{ready}/facturx.pdf" in page and f"/admin/invoices/{ready}/ubl.xml" in page
    ubl = admin.get(f"/admin/invoices/{ready}/ubl.xml")
    assert ubl.status_code == 200 and ubl.mimetype == "application/xml"
    assert "attachment" in ubl.headers["Content-Disposition"]
    refused = admin.get(f"/admin/invoices/{missing}/ubl.xml", follow_redirects=True).get_data(as_text=True)
    assert "E-invoice not made: client.country is required" in refused
    assert admin.get(f"/admin/invoices/{missing}/pdf").status_code == 200


def test_a_credit_note_page_offers_its_einvoices_and_a_refusal_names_what_is_missing(admin_app, admin):
    from shared.inputs import CreditNoteInput
    from shared.services import issue_credit_note

    ready, missing = _issued(admin_app, country="FR"), _issued(admin_app, country="")
    with admin_app.app_context():
        notes = [
            issue_credit_note(
                db.session, actor=Actor.system(), invoice_id=i, data=CreditNoteInput(reason="Returned", full=True)
            )[0].id
            for i in (ready, missing)
        ]
        db.session.commit()
    page = admin.get(f"/admin/credit-notes/{notes[0]}").get_data(as_text=True)
    assert f"/admin/credit-notes/{notes[0]}/facturx.pdf" in page and f"/admin/credit-notes/{notes[0]}/ubl.xml" in page
    ubl = admin.get(f"/admin/credit-notes/{notes[0]}/ubl.xml")
    assert ubl.status_code == 200 and b"<CreditNote" in ubl.data
    refused = admin.get(f"/admin/credit-notes/{notes[1]}/ubl.xml", follow_redirects=True).get_data(as_text=True)
    assert "E-invoice not made: client.country is required" in refused
