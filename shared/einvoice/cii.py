"""UN/CEFACT CII D16B, the XML inside a Factur-X PDF, at the EN 16931 profile (SPEC §16).

Elements are written in the order the Factur-X EN 16931 XSD requires; the
business-term numbers (BT-n) in comments are EN 16931's.
"""

from __future__ import annotations

import datetime as dt

from lxml import etree

from shared.einvoice.document import EDocument, Party, VatGroup

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
NSMAP = {"rsm": RSM, "ram": RAM, "qdt": QDT, "udt": UDT}
# Factur-X 1.0 profile EN 16931 ("COMFORT") is identified by the plain EN 16931 specification id.
GUIDELINE = "urn:cen.eu:en16931:2017"


def _el(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    prefix, name = tag.split(":")
    element = etree.SubElement(parent, f"{{{NSMAP[prefix]}}}{name}", attrs)
    if text is not None:
        element.text = text
    return element


def _date(parent: etree._Element, tag: str, value: dt.date, kind: str = "udt") -> None:
    _el(_el(parent, tag), f"{kind}:DateTimeString", value.strftime("%Y%m%d"), format="102")


def _party(parent: etree._Element, tag: str, party: Party, *, seller: bool) -> None:
    node = _el(parent, tag)
    _el(node, "ram:Name", party.name)  # BT-27 / BT-44
    address = _el(node, "ram:PostalTradeAddress")
    if party.postal_code:
        _el(address, "ram:PostcodeCode", party.postal_code)
    if party.street:
        _el(address, "ram:LineOne", party.street)
    if party.city:
        _el(address, "ram:CityName", party.city)
    _el(address, "ram:CountryID", party.country)  # BT-40 / BT-55
    if party.email:
        uri = _el(node, "ram:URIUniversalCommunication")
        _el(uri, "ram:URIID", party.email, schemeID="EM")  # BT-34 / BT-49
    if party.vat_id:
        _el(_el(node, "ram:SpecifiedTaxRegistration"), "ram:ID", party.vat_id, schemeID="VA")
    if seller and party.tax_id and not party.vat_id:
        _el(_el(node, "ram:SpecifiedTaxRegistration"), "ram:ID", party.tax_id, schemeID="FC")  # BT-32


def _trade_tax(parent: etree._Element, group: VatGroup) -> None:
    tax = _el(parent, "ram:ApplicableTradeTax")
    _el(tax, "ram:CalculatedAmount", group.tax)  # BT-117
    _el(tax, "ram:TypeCode", "VAT")
    if group.exemption_reason:
        _el(tax, "ram:ExemptionReason", group.exemption_reason)  # BT-120
    _el(tax, "ram:BasisAmount", group.taxable)  # BT-116
    _el(tax, "ram:CategoryCode", group.category)  # BT-118
    _el(tax, "ram:RateApplicablePercent", group.rate)  # BT-119


def to_cii(doc: EDocument) -> bytes:
    """The document as CII XML bytes (UTF-8, with declaration); the same document gives the same bytes."""
    root = etree.Element(f"{{{RSM}}}CrossIndustryInvoice", nsmap=NSMAP)
    context = _el(root, "rsm:ExchangedDocumentContext")
    _el(_el(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", GUIDELINE)

    header = _el(root, "rsm:ExchangedDocument")
    _el(header, "ram:ID", doc.number)  # BT-1
    _el(header, "ram:TypeCode", doc.type_code)  # BT-3
    _date(header, "ram:IssueDateTime", doc.issue_date)  # BT-2
    for note in doc.notes:
        _el(_el(header, "ram:IncludedNote"), "ram:Content", note)  # BT-22

    transaction = _el(root, "rsm:SupplyChainTradeTransaction")
    for line in doc.lines:
        item = _el(transaction, "ram:IncludedSupplyChainTradeLineItem")
        _el(_el(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", str(line.position))  # BT-126
        _el(_el(item, "ram:SpecifiedTradeProduct"), "ram:Name", line.description)  # BT-153
        agreement = _el(item, "ram:SpecifiedLineTradeAgreement")
        price = _el(agreement, "ram:NetPriceProductTradePrice")
        _el(price, "ram:ChargeAmount", line.unit_price)  # BT-146
        delivery = _el(item, "ram:SpecifiedLineTradeDelivery")
        _el(delivery, "ram:BilledQuantity", line.quantity, unitCode=line.unit)  # BT-129, BT-130
        settlement = _el(item, "ram:SpecifiedLineTradeSettlement")
        tax = _el(settlement, "ram:ApplicableTradeTax")
        _el(tax, "ram:TypeCode", "VAT")
        _el(tax, "ram:CategoryCode", line.category)  # BT-151
        _el(tax, "ram:RateApplicablePercent", line.rate)  # BT-152
        summation = _el(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
        _el(summation, "ram:LineTotalAmount", line.net)  # BT-131

    agreement = _el(transaction, "ram:ApplicableHeaderTradeAgreement")
    if doc.buyer_reference:
        _el(agreement, "ram:BuyerReference", doc.buyer_reference)  # BT-10
    _party(agreement, "ram:SellerTradeParty", doc.seller, seller=True)
    _party(agreement, "ram:BuyerTradeParty", doc.buyer, seller=False)
    if doc.order_reference:
        _el(_el(agreement, "ram:BuyerOrderReferencedDocument"), "ram:IssuerAssignedID", doc.order_reference)

    delivery = _el(transaction, "ram:ApplicableHeaderTradeDelivery")
    if doc.deliver_to_country:
        ship_to = _el(delivery, "ram:ShipToTradeParty")
        _el(_el(ship_to, "ram:PostalTradeAddress"), "ram:CountryID", doc.deliver_to_country)  # BT-80
    if doc.delivery_date:
        event = _el(delivery, "ram:ActualDeliverySupplyChainEvent")
        _date(event, "ram:OccurrenceDateTime", doc.delivery_date)  # BT-72

    settlement = _el(transaction, "ram:ApplicableHeaderTradeSettlement")
    _el(settlement, "ram:InvoiceCurrencyCode", doc.currency)  # BT-5
    for group in doc.breakdown:
        _trade_tax(settlement, group)
    for allowance in doc.allowances:
        charge = _el(settlement, "ram:SpecifiedTradeAllowanceCharge")
        _el(_el(charge, "ram:ChargeIndicator"), "udt:Indicator", "false")
        _el(charge, "ram:ActualAmount", allowance.amount)  # BT-92
        _el(charge, "ram:Reason", allowance.reason)  # BT-97
        category = _el(charge, "ram:CategoryTradeTax")
        _el(category, "ram:TypeCode", "VAT")
        _el(category, "ram:CategoryCode", allowance.category)  # BT-95
        _el(category, "ram:RateApplicablePercent", allowance.rate)  # BT-96
    if doc.due_date or doc.payment_terms:
        terms = _el(settlement, "ram:SpecifiedTradePaymentTerms")
        if doc.payment_terms:
            _el(terms, "ram:Description", doc.payment_terms)  # BT-20
        if doc.due_date:
            _date(terms, "ram:DueDateDateTime", doc.due_date)  # BT-9
    totals = _el(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    _el(totals, "ram:LineTotalAmount", doc.line_total)  # BT-106
    _el(totals, "ram:AllowanceTotalAmount", doc.allowance_total)  # BT-107
    _el(totals, "ram:TaxBasisTotalAmount", doc.tax_exclusive)  # BT-109
    _el(totals, "ram:TaxTotalAmount", doc.tax_total, currencyID=doc.currency)  # BT-110
    _el(totals, "ram:GrandTotalAmount", doc.total)  # BT-112
    _el(totals, "ram:TotalPrepaidAmount", doc.prepaid)  # BT-113
    _el(totals, "ram:DuePayableAmount", doc.payable)  # BT-115
    if doc.invoice_reference:
        reference = _el(settlement, "ram:InvoiceReferencedDocument")
        _el(reference, "ram:IssuerAssignedID", doc.invoice_reference)  # BT-25
        if doc.invoice_reference_date:
            _date(reference, "ram:FormattedIssueDateTime", doc.invoice_reference_date, "qdt")  # BT-26
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
