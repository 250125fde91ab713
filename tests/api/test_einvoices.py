"""E-invoices (SPEC §16): every file passes the XSD and the CEN EN 16931 rules, with the API's totals."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from lxml import etree

from shared import einvoice
from shared.actors import Actor
from shared.db import db
from shared.documents import pdf as pdf_module
from shared.inputs import SettingsChanges
from shared.models import Invoice
from shared.services.settings import update_settings
from support.einvoice import check_xsd, fatal_failures

pytestmark = pytest.mark.backends("sqlite")

CII_TOTALS = {
    "subtotal": "LineTotalAmount",
    "discount_total": "AllowanceTotalAmount",
    "tax_total": "TaxTotalAmount",
    "total": "GrandTotalAmount",
    "paid": "TotalPrepaidAmount",
    "balance_due": "DuePayableAmount",
}
TOTALS_PARENT = {
    "CrossIndustryInvoice": "SpecifiedTradeSettlementHeaderMonetarySummation",
    "Invoice": "LegalMonetaryTotal",
    "CreditNote": "LegalMonetaryTotal",
}
UBL_TOTALS = {
    "tax_total": "TaxAmount",
    "subtotal": "LineExtensionAmount",
    "discount_total": "AllowanceTotalAmount",
    "total": "TaxInclusiveAmount",
    "paid": "PrepaidAmount",
    "balance_due": "PayableAmount",
}


def item(quantity, price, rate, category=None, reason=None, unit=None):
    line = {"description": f"{quantity} x {price} at {rate} %", "quantity": quantity, "unit_price": price}
    line["tax_rate"] = rate
    if category:
        line["tax_category"] = category
    if reason:
        line["tax_exemption_reason"] = reason
    if unit:
        line["unit"] = unit
    return line


PERCENT_10 = {"type": "percent", "value": "10"}
# id, currency, rounding, discount, items, payment
TABLE = [
    ("ngn-percent-7.5", "NGN", "line", PERCENT_10, [item("2", "15000.00", "7.5")], None),
    (
        "ngn-fixed-mixed-document",
        "NGN",
        "document",
        {"type": "fixed", "value": "1000.00"},
        [item("3", "3333.33", "7.5"), item("1", "999.99", "19"), item("2", "450.00", "0")],
        "500.00",
    ),
    (
        "eur-fixed-19-document",
        "EUR",
        "document",
        {"type": "fixed", "value": "10.00"},
        [item("3", "33.33", "19"), item("1", "0.10", "19"), item("0.5", "17.25", "19", unit="HUR")],
        "20.00",
    ),
    (
        "eur-mixed-line",
        "EUR",
        "line",
        {"type": "percent", "value": "12.5"},
        [item("1.5", "19.99", "19"), item("2", "7.49", "7.5"), item("1", "12.00", "0")],
        None,
    ),
    (
        "eur-mixed-document",
        "EUR",
        "document",
        {"type": "percent", "value": "12.5"},
        [item("1.5", "19.99", "19"), item("2", "7.49", "7.5"), item("1", "12.00", "0")],
        None,
    ),
    ("eur-zero-rate", "EUR", "line", None, [item("4", "25.00", "0")], "100.00"),
    (
        "eur-categories",
        "EUR",
        "line",
        PERCENT_10,
        [
            item("1", "100.00", "19"),
            item("1", "40.00", "0", "E", "Education services, Article 132 VAT Directive"),
            item("1", "60.00", "0", "K", "Intra-community supply"),
            item("2", "5.00", "0", "G", "Export outside the EU"),
            item("1", "10.00", "0", "AE", "Reverse charge"),
        ],
        None,
    ),
    (
        "jpy-mixed-line",
        "JPY",
        "line",
        {"type": "fixed", "value": "100"},
        [item("1.5", "333", "19"), item("2", "1000", "0"), item("3", "1200", "7.5")],
        "1000",
    ),
    ("jpy-document", "JPY", "document", PERCENT_10, [item("1.5", "333", "19"), item("7", "980", "7.5")], None),
    ("kwd-two-decimals", "KWD", "document", PERCENT_10, [item("2", "10.000", "19")], "1.420"),
    ("kwd-line", "KWD", "line", None, [item("1", "12.500", "0"), item("4", "2.500", "19")], None),
]


@pytest.fixture
def seller(api_app):
    def set_up(tax_rounding="line"):
        with api_app.app_context():
            update_settings(
                db.session,
                actor=Actor.system("tests"),
                data=SettingsChanges(
                    company_name="Acme GmbH",
                    country="DE",
                    vat_id="DE136695976",
                    street="Hauptstraße 1",
                    city="Berlin",
                    postal_code="10115",
                    company_email="billing@acme.example",
                    tax_rounding=tax_rounding,
                ),
            )
            db.session.remove()

    return set_up


def _invoice(api, currency, discount, items, *, client=None, issue=True):
    body = {
        "client": client
        or {"name": "Buyer SARL", "email": "ap@buyer.example", "country": "FR", "vat_id": "FR40303265045"},
        "currency": currency,
        "items": items,
        "purchase_order": "PO-1",
        "issue": issue,
        "notify": {"email": False},
    }
    if discount:
        body["discount"] = discount
    response = api.post("/invoices", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _totals(xml: bytes, names: dict[str, str]) -> dict[str, Decimal]:
    root = etree.fromstring(xml)
    out = {}
    for key, local in names.items():
        parent = "TaxTotal" if local == "TaxAmount" else TOTALS_PARENT[etree.QName(root).localname]
        (found,) = root.xpath(f"//*[local-name()='{parent}']/*[local-name()='{local}']")
        out[key] = Decimal(found.text)
    return out


@pytest.mark.parametrize(
    ("case", "currency", "rounding", "discount", "items", "payment"), TABLE, ids=[t[0] for t in TABLE]
)
def test_every_einvoice_passes_the_xsd_and_the_en16931_rules_with_the_api_totals(
    api, api_app, seller, case, currency, rounding, discount, items, payment
):
    seller(rounding)
    body = _invoice(api, currency, discount, items)
    assert body["tax_rounding"] == rounding
    if payment:
        paid = api.post(f"/invoices/{body['id']}/payments", json={"amount": payment, "method": "cash"})
        assert paid.status_code == 201, paid.get_json()
        body = api.get(f"/invoices/{body['id']}").get_json()
    ubl = api.get(f"/invoices/{body['id']}/ubl.xml")
    assert ubl.status_code == 200, ubl.get_json()
    assert ubl.mimetype == "application/xml"
    with api_app.app_context():
        cii = einvoice.invoice_cii(db.session, db.session.get(Invoice, body["id"]))
    expected = {key: Decimal(body[key]) for key in ("subtotal", "discount_total", "tax_total", "total", "balance_due")}
    expected["paid"] = Decimal(body["amount_paid"])
    for xml, names in ((cii, CII_TOTALS), (ubl.data, UBL_TOTALS)):
        check_xsd(xml)
        assert fatal_failures(xml) == []
        assert _totals(xml, names) == {key: expected[key] for key in names}


def test_a_three_decimal_amount_is_refused_naming_the_currency(api, seller):
    seller("line")
    body = _invoice(api, "KWD", None, [item("1", "1.235", "0")])
    response = api.get(f"/invoices/{body['id']}/ubl.xml")
    assert response.status_code == 422
    problem = response.get_json()
    assert "currency" in problem["errors"] and "2 decimals" in problem["detail"]


def test_a_client_without_country_is_refused_naming_it_and_the_plain_pdf_still_works(api, seller):
    seller("line")
    body = _invoice(api, "EUR", None, [item("1", "10.00", "19")], client={"name": "No Country Ltd"})
    for path in ("ubl.xml", "facturx.pdf"):
        response = api.get(f"/invoices/{body['id']}/{path}")
        assert response.status_code == 422, path
        problem = response.get_json()
        assert list(problem["errors"]) == ["client.country"]
        assert "client.country" in problem["detail"] and "BT-55" in problem["detail"]
    plain = api.get(f"/invoices/{body['id']}/pdf")
    assert plain.status_code == 200 and plain.data[:5] == b"%PDF-"


def test_a_company_without_country_or_vat_id_is_refused_naming_both(api):
    body = _invoice(api, "EUR", None, [item("1", "10.00", "19")])
    problem = api.get(f"/invoices/{body['id']}/ubl.xml").get_json()
    assert set(problem["errors"]) == {"settings.country", "settings.vat_id"}


def test_a_draft_has_no_einvoice(api, seller):
    seller("line")
    body = _invoice(api, "EUR", None, [item("1", "10.00", "19")], issue=False)
    assert api.get(f"/invoices/{body['id']}/ubl.xml").status_code == 409
    assert api.get(f"/invoices/{body['id']}/facturx.pdf").status_code == 409
    assert body["links"]["ubl"] is None


def test_facturx_pdf_reads_back_passes_and_renders_the_same_bytes_twice(api, seller):
    import pypdfium2
    from facturx import get_facturx_xml_from_pdf

    seller("line")
    body = _invoice(api, "EUR", PERCENT_10, [item("2", "15.00", "19"), item("1", "3.00", "7.5")])
    assert body["links"]["facturx"] == f"/api/v1/invoices/{body['id']}/facturx.pdf"
    first = api.get(f"/invoices/{body['id']}/facturx.pdf")
    assert first.status_code == 200 and first.mimetype == "application/pdf"
    pdf_module.clear_cache()
    second = api.get(f"/invoices/{body['id']}/facturx.pdf")
    assert first.data == second.data
    name, xml = get_facturx_xml_from_pdf(first.data, check_xsd=True)
    assert name == "factur-x.xml"
    check_xsd(xml)
    assert fatal_failures(xml) == []
    import pypdf

    xmp = pypdf.PdfReader(io.BytesIO(first.data)).trailer["/Root"]["/Metadata"].get_object().get_data()
    assert b"<pdfaid:part>3</pdfaid:part>" in xmp and b"<pdfaid:conformance>B</pdfaid:conformance>" in xmp
    assert b"urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#" in xmp and b"EN 16931" in xmp
    plain = api.get(f"/invoices/{body['id']}/pdf").data

    def page_texts(data: bytes) -> list[str]:
        document = pypdfium2.PdfDocument(data)
        try:
            return [page.get_textpage().get_text_range() for page in document]
        finally:
            document.close()

    assert page_texts(first.data) == page_texts(plain)


def test_line_fields_are_checked_and_defaulted(api, seller):
    seller("line")
    bad = api.post(
        "/invoices",
        json={
            "client": {"name": "X", "country": "FR"},
            "items": [
                item("1", "10", "19", category="Z"),
                item("1", "10", "0", category="E"),
                item("1", "10", "0", unit="QQQ"),
            ],
        },
    )
    assert bad.status_code == 422
    assert set(bad.get_json()["errors"]) == {"items.0.tax_category", "items.1.tax_exemption_reason", "items.2.unit"}
    body = _invoice(api, "EUR", None, [item("1", "10.00", "19"), item("1", "5.00", "0", unit="hur")])
    assert [(i["unit"], i["tax_category"]) for i in body["items"]] == [("C62", "S"), ("HUR", "Z")]


def test_client_vat_id_is_checked_where_the_country_has_a_rule(api):
    bad = api.post("/clients", json={"name": "Bad VAT", "country": "DE", "vat_id": "DE123"})
    assert bad.status_code == 422 and list(bad.get_json()["errors"]) == ["vat_id"]
    good = api.post("/clients", json={"name": "Good VAT", "country": "DE", "vat_id": "136 695 976"})
    assert good.status_code == 201, good.get_json()
    assert (good.get_json()["vat_id"], good.get_json()["country"]) == ("DE136695976", "DE")
    elsewhere = api.post("/clients", json={"name": "Lagos Ltd", "country": "NG", "vat_id": "12345678-0001"})
    assert elsewhere.status_code == 201 and elsewhere.get_json()["vat_id"] == "NG123456780001"


CREDIT_CASES = [
    (
        "eur-full-line",
        "EUR",
        "line",
        PERCENT_10,
        [item("1.5", "19.99", "19"), item("2", "7.49", "7.5")],
        {"full": True},
    ),
    (
        "eur-items-document-categories",
        "EUR",
        "document",
        None,
        [item("3", "33.33", "19"), item("1", "40.00", "0", "E", "Education services")],
        {"items": [item("1", "33.33", "19"), item("1", "10.00", "0", "E", "Education services")]},
    ),
    (
        "jpy-full-document",
        "JPY",
        "document",
        PERCENT_10,
        [item("7", "980", "7.5"), item("2", "1000", "0")],
        {"full": True},
    ),
]


@pytest.mark.parametrize(
    ("case", "currency", "rounding", "discount", "items", "credit"), CREDIT_CASES, ids=[c[0] for c in CREDIT_CASES]
)
def test_credit_notes_pass_the_rules_reference_their_invoice_and_the_invoice_counts_them_as_paid(
    api, api_app, seller, case, currency, rounding, discount, items, credit
):
    seller(rounding)
    invoice = _invoice(api, currency, discount, items)
    made = api.post(f"/invoices/{invoice['id']}/credit-notes", json={"reason": "Returned goods", **credit})
    assert made.status_code == 201, made.get_json()
    note = made.get_json()
    ubl = api.get(note["links"]["ubl"].removeprefix("/api/v1"))
    assert ubl.status_code == 200, ubl.get_json()
    with api_app.app_context():
        from shared.models import CreditNote

        cii = einvoice.credit_note_cii(db.session, db.session.get(CreditNote, note["id"]))
    expected = {key: Decimal(note[key]) for key in ("subtotal", "tax_total", "total")}
    expected.update(discount_total=Decimal(0), paid=Decimal(note["applied"]), balance_due=Decimal(note["to_credit"]))
    for xml, names in ((cii, CII_TOTALS), (ubl.data, UBL_TOTALS)):
        check_xsd(xml)
        assert fatal_failures(xml) == []
        assert _totals(xml, names) == {key: expected[key] for key in names}
        root = etree.fromstring(xml)
        assert root.xpath("//*[local-name()='TypeCode' or local-name()='CreditNoteTypeCode']/text()")[0] == "381"
        reference = root.xpath(
            "//*[local-name()='InvoiceReferencedDocument' or local-name()='InvoiceDocumentReference']"
            "/*[local-name()='IssuerAssignedID' or local-name()='ID']/text()"
        )
        assert reference == [invoice["number"]]
    # The invoice's own e-invoice now counts the credit as paid (BT-113) and still passes.
    after = api.get(f"/invoices/{invoice['id']}").get_json()
    invoice_ubl = api.get(f"/invoices/{invoice['id']}/ubl.xml").data
    assert fatal_failures(invoice_ubl) == []
    totals = _totals(invoice_ubl, UBL_TOTALS)
    assert totals["paid"] == Decimal(after["amount_paid"]) + Decimal(after["amount_credited"])
    assert totals["balance_due"] == Decimal(after["balance_due"])


def test_a_credit_note_facturx_pdf_embeds_the_381_document(api, seller):
    from facturx import get_facturx_xml_from_pdf

    seller("line")
    invoice = _invoice(api, "EUR", None, [item("1", "50.00", "19")])
    note = api.post(f"/invoices/{invoice['id']}/credit-notes", json={"reason": "Goodwill", "full": True}).get_json()
    response = api.get(f"/credit-notes/{note['id']}/facturx.pdf")
    assert response.status_code == 200, response.get_json()
    _name, xml = get_facturx_xml_from_pdf(response.data, check_xsd=True)
    assert b"<ram:TypeCode>381</ram:TypeCode>" in xml and fatal_failures(xml) == []


def test_line_rounding_that_drifts_a_whole_unit_from_the_rate_is_refused_naming_tax_rounding(api, seller):
    seller("line")
    # JPY, two lines of 5 at 10 %: each line's tax rounds 0.5 up to 1, so T = 2 where 10 % of 10 is 1 (BR-S-09).
    body = _invoice(api, "JPY", None, [item("1", "5", "10"), item("1", "5", "10")])
    assert body["tax_total"] == "2"
    problem = api.get(f"/invoices/{body['id']}/ubl.xml").get_json()
    assert list(problem["errors"]) == ["tax_rounding"] and "BR-S-09" in problem["detail"]
