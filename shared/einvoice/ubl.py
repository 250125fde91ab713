"""UBL 2.1 Invoice and CreditNote, Peppol BIS Billing 3.0 (SPEC §16).

Elements follow the UBL 2.1 XSD order; the business-term numbers (BT-n) in
comments are EN 16931's.
"""

from __future__ import annotations

import datetime as dt

from lxml import etree

from shared.einvoice.document import EDocument, Party

INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
NS = {"cac": CAC, "cbc": CBC}


def _el(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    prefix, name = tag.split(":")
    element = etree.SubElement(parent, f"{{{NS[prefix]}}}{name}", attrs)
    if text is not None:
        element.text = text
    return element


def _iso(value: dt.date) -> str:
    return value.isoformat()


def _tax_category(parent: etree._Element, tag: str, category: str, rate: str, reason: str = "") -> None:
    node = _el(parent, tag)
    _el(node, "cbc:ID", category)
    _el(node, "cbc:Percent", rate)
    if reason:
        _el(node, "cbc:TaxExemptionReason", reason)  # BT-120
    _el(_el(node, "cac:TaxScheme"), "cbc:ID", "VAT")


def _party(parent: etree._Element, tag: str, party: Party, *, seller: bool) -> None:
    node = _el(_el(parent, tag), "cac:Party")
    if party.email:
        _el(node, "cbc:EndpointID", party.email, schemeID="EM")  # BT-34 / BT-49
    _el(_el(node, "cac:PartyName"), "cbc:Name", party.name)
    address = _el(node, "cac:PostalAddress")
    if party.street:
        _el(address, "cbc:StreetName", party.street)
    if party.city:
        _el(address, "cbc:CityName", party.city)
    if party.postal_code:
        _el(address, "cbc:PostalZone", party.postal_code)
    _el(_el(address, "cac:Country"), "cbc:IdentificationCode", party.country)  # BT-40 / BT-55
    if party.vat_id:
        scheme = _el(node, "cac:PartyTaxScheme")
        _el(scheme, "cbc:CompanyID", party.vat_id)  # BT-31 / BT-48
        _el(_el(scheme, "cac:TaxScheme"), "cbc:ID", "VAT")
    if seller and party.tax_id and not party.vat_id:
        scheme = _el(node, "cac:PartyTaxScheme")
        _el(scheme, "cbc:CompanyID", party.tax_id)  # BT-32
        _el(_el(scheme, "cac:TaxScheme"), "cbc:ID", "TAX")
    _el(_el(node, "cac:PartyLegalEntity"), "cbc:RegistrationName", party.name)  # BT-27 / BT-44


def to_ubl(doc: EDocument) -> bytes:
    """The document as UBL 2.1 XML bytes (Invoice, or CreditNote for a credit note)."""
    credit = doc.is_credit_note
    root_ns = CREDIT_NOTE_NS if credit else INVOICE_NS
    root = etree.Element(
        f"{{{root_ns}}}{'CreditNote' if credit else 'Invoice'}", nsmap={None: root_ns, "cac": CAC, "cbc": CBC}
    )
    _el(root, "cbc:CustomizationID", CUSTOMIZATION_ID)  # BT-24
    _el(root, "cbc:ProfileID", PROFILE_ID)  # BT-23
    _el(root, "cbc:ID", doc.number)  # BT-1
    _el(root, "cbc:IssueDate", _iso(doc.issue_date))  # BT-2
    if doc.due_date and not credit:
        _el(root, "cbc:DueDate", _iso(doc.due_date))  # BT-9
    _el(root, "cbc:CreditNoteTypeCode" if credit else "cbc:InvoiceTypeCode", doc.type_code)  # BT-3
    for note in doc.notes:
        _el(root, "cbc:Note", note)  # BT-22
    _el(root, "cbc:DocumentCurrencyCode", doc.currency)  # BT-5
    if doc.buyer_reference:
        _el(root, "cbc:BuyerReference", doc.buyer_reference)  # BT-10
    if doc.order_reference:
        _el(_el(root, "cac:OrderReference"), "cbc:ID", doc.order_reference)  # BT-13
    if doc.invoice_reference:
        reference = _el(_el(root, "cac:BillingReference"), "cac:InvoiceDocumentReference")
        _el(reference, "cbc:ID", doc.invoice_reference)  # BT-25
        if doc.invoice_reference_date:
            _el(reference, "cbc:IssueDate", _iso(doc.invoice_reference_date))  # BT-26
    _party(root, "cac:AccountingSupplierParty", doc.seller, seller=True)
    _party(root, "cac:AccountingCustomerParty", doc.buyer, seller=False)
    if doc.delivery_date or doc.deliver_to_country:
        delivery = _el(root, "cac:Delivery")
        if doc.delivery_date:
            _el(delivery, "cbc:ActualDeliveryDate", _iso(doc.delivery_date))  # BT-72
        if doc.deliver_to_country:
            address = _el(_el(delivery, "cac:DeliveryLocation"), "cac:Address")
            _el(_el(address, "cac:Country"), "cbc:IdentificationCode", doc.deliver_to_country)  # BT-80
    if credit and doc.due_date:
        means = _el(root, "cac:PaymentMeans")
        _el(means, "cbc:PaymentMeansCode", "1")  # not defined: the date is what matters
        _el(means, "cbc:PaymentDueDate", _iso(doc.due_date))
    if doc.payment_terms:
        _el(_el(root, "cac:PaymentTerms"), "cbc:Note", doc.payment_terms)  # BT-20
    for allowance in doc.allowances:
        charge = _el(root, "cac:AllowanceCharge")
        _el(charge, "cbc:ChargeIndicator", "false")
        _el(charge, "cbc:AllowanceChargeReason", allowance.reason)  # BT-97
        _el(charge, "cbc:Amount", allowance.amount, currencyID=doc.currency)  # BT-92
        _tax_category(charge, "cac:TaxCategory", allowance.category, allowance.rate)  # BT-95, BT-96
    tax_total = _el(root, "cac:TaxTotal")
    _el(tax_total, "cbc:TaxAmount", doc.tax_total, currencyID=doc.currency)  # BT-110
    for group in doc.breakdown:
        subtotal = _el(tax_total, "cac:TaxSubtotal")
        _el(subtotal, "cbc:TaxableAmount", group.taxable, currencyID=doc.currency)  # BT-116
        _el(subtotal, "cbc:TaxAmount", group.tax, currencyID=doc.currency)  # BT-117
        _tax_category(subtotal, "cac:TaxCategory", group.category, group.rate, group.exemption_reason)
    totals = _el(root, "cac:LegalMonetaryTotal")
    _el(totals, "cbc:LineExtensionAmount", doc.line_total, currencyID=doc.currency)  # BT-106
    _el(totals, "cbc:TaxExclusiveAmount", doc.tax_exclusive, currencyID=doc.currency)  # BT-109
    _el(totals, "cbc:TaxInclusiveAmount", doc.total, currencyID=doc.currency)  # BT-112
    _el(totals, "cbc:AllowanceTotalAmount", doc.allowance_total, currencyID=doc.currency)  # BT-107
    _el(totals, "cbc:PrepaidAmount", doc.prepaid, currencyID=doc.currency)  # BT-113
    _el(totals, "cbc:PayableAmount", doc.payable, currencyID=doc.currency)  # BT-115
    for line in doc.lines:
        node = _el(root, "cac:CreditNoteLine" if credit else "cac:InvoiceLine")
        _el(node, "cbc:ID", str(line.position))  # BT-126
        quantity_tag = "cbc:CreditedQuantity" if credit else "cbc:InvoicedQuantity"
        _el(node, quantity_tag, line.quantity, unitCode=line.unit)  # BT-129, BT-130
        _el(node, "cbc:LineExtensionAmount", line.net, currencyID=doc.currency)  # BT-131
        item = _el(node, "cac:Item")
        _el(item, "cbc:Name", line.description)  # BT-153
        _tax_category(item, "cac:ClassifiedTaxCategory", line.category, line.rate)  # BT-151, BT-152
        _el(_el(node, "cac:Price"), "cbc:PriceAmount", line.unit_price, currencyID=doc.currency)  # BT-146
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
