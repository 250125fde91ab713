"""The e-invoice of an issued invoice or credit note, in EN 16931's terms (SPEC §16).

An :class:`EDocument` holds every business term the CII and UBL writers put
out, already as the strings they print; it is built from the stored rows only
(the §5.1 figures the invoice already holds, never recomputed), so the two
syntaxes, the Factur-X PDF and the API agree to the last minor unit.

How §5.1 maps onto EN 16931 (README "E-invoices" says the same):

- Line net amount BT-131 is the line amount ``a_i = round(q_i * p_i)``; the sum
  of line nets BT-106 is the subtotal ``S``.
- The document discount ``D`` is stated as document-level allowances (BG-20),
  one per VAT category and rate, each the sum of the lines' shares ``D_i``; so
  BT-107 = ``D``, BT-109 = ``S - D`` and each VAT breakdown's taxable amount
  BT-116 = the sum of ``b_i`` at that category and rate (BR-S-08, BR-CO-13).
  Allowances rather than discounted line nets: every §5.1 figure then appears
  as itself (``S``, ``D``, ``T``, total), and a line's net stays quantity × price.
- BT-117 per category and rate is §5.1's per-rate tax (``Invoice.tax_by_rate``):
  with ``document`` rounding it is ``round(r × B)``, exactly what BR-S-09 checks;
  with ``line`` rounding it is the sum of the rounded line taxes, which the
  rules accept within their tolerance of one currency unit (BR-S-09, BR-CO-17).
  A document whose line-rounding drift reaches that tolerance is refused (422).
- BT-110 = ``T``, BT-112 = total, BT-113 = ``amount_paid`` (+ credits applied),
  BT-115 = ``balance_due``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from shared import money
from shared.errors import ValidationFailed
from shared.models import CreditNote, Invoice, Settings
from shared.models.clients import EINVOICE_PARTY_FIELDS
from shared.models.enums import TaxCategory

# BR-DEC-*: every amount of an EN 16931 document has at most 2 decimals.
MAX_AMOUNT_DECIMALS = 2
TWO_PLACES = Decimal("0.01")

INVOICE = "invoice"
CREDIT_NOTE = "credit_note"
# UNTDID 1001 document type codes: commercial invoice, credit note.
TYPE_CODES = {INVOICE: "380", CREDIT_NOTE: "381"}


class EInvoiceRefused(ValidationFailed):
    """The document cannot be an EN 16931 e-invoice as it stands (HTTP 422, naming what to fix)."""


@dataclass(frozen=True)
class Party:
    name: str
    country: str
    vat_id: str = ""
    tax_id: str = ""  # BT-32, the seller's tax registration when it has no VAT id
    street: str = ""
    city: str = ""
    postal_code: str = ""
    email: str = ""


@dataclass(frozen=True)
class Line:
    position: int
    description: str
    quantity: str
    unit: str
    unit_price: str
    net: str  # BT-131
    category: str
    rate: str


@dataclass(frozen=True)
class Allowance:
    """A document-level allowance (BG-20): the discount's share at one VAT category and rate."""

    amount: str
    category: str
    rate: str
    reason: str


@dataclass(frozen=True)
class VatGroup:
    """One VAT breakdown (BG-23)."""

    category: str
    rate: str
    taxable: str
    tax: str
    exemption_reason: str = ""


@dataclass(frozen=True)
class EDocument:
    kind: str  # INVOICE or CREDIT_NOTE
    number: str
    issue_date: dt.date
    due_date: dt.date | None
    currency: str
    seller: Party
    buyer: Party
    lines: tuple[Line, ...]
    allowances: tuple[Allowance, ...]
    breakdown: tuple[VatGroup, ...]
    line_total: str  # BT-106
    allowance_total: str  # BT-107
    tax_exclusive: str  # BT-109
    tax_total: str  # BT-110
    total: str  # BT-112
    prepaid: str  # BT-113
    payable: str  # BT-115
    notes: tuple[str, ...] = ()
    buyer_reference: str = ""  # BT-10
    order_reference: str = ""  # BT-13
    invoice_reference: str = ""  # BT-25, the invoice a credit note corrects
    invoice_reference_date: dt.date | None = None  # BT-26
    payment_terms: str = ""  # BT-20
    delivery_date: dt.date | None = None  # BT-72
    deliver_to_country: str = ""  # BT-80

    @property
    def type_code(self) -> str:
        return TYPE_CODES[self.kind]

    @property
    def is_credit_note(self) -> bool:
        return self.kind == CREDIT_NOTE


def decimal_text(value: Decimal) -> str:
    """A quantity, price or rate without trailing zeros (``2``, ``7.5``, ``0.1234``)."""
    text = format(value.normalize(), "f")
    return text if text not in ("-0",) else "0"


class _Amounts:
    """Amounts as EN 16931 prints them: the currency's decimals, never more than 2 (BR-DEC-*)."""

    def __init__(self, currency: str) -> None:
        self.currency = currency
        self.exponent = money.currency_exponent(currency)
        self.too_precise: list[str] = []

    def __call__(self, value: Decimal) -> str:
        value = money.round_money(value, self.currency)
        if self.exponent <= MAX_AMOUNT_DECIMALS:
            return format(value, "f")
        short = value.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)
        if short != value:
            self.too_precise.append(format(value, "f"))
        return format(short, "f")

    def check(self) -> None:
        if self.too_precise:
            shown = ", ".join(sorted(set(self.too_precise))[:5])
            raise EInvoiceRefused.one(
                "currency",
                f"EN 16931 allows at most 2 decimals in amounts and this {self.currency} document has amounts "
                f"with {self.exponent} ({shown}); it cannot be made as an e-invoice",
            )


def _party_value(frozen: dict[str, Any] | None, current: Any, name: str) -> str:
    """A buyer field as frozen at issue, or the client's current value where nothing was frozen.

    Invoices issued before e-invoices existed, or before someone set the
    client's country, froze a blank; the client's value set since then fills it.
    """
    value = (frozen or {}).get(name) or ""
    return str(value or getattr(current, name, "") or "")


def seller_party(settings: Settings) -> Party:
    return Party(
        name=settings.company_name,
        country=settings.country,
        vat_id=settings.vat_id,
        tax_id=settings.company_tax_id,
        street=settings.street,
        city=settings.city,
        postal_code=settings.postal_code,
        email=settings.company_email,
    )


def buyer_party(invoice: Invoice) -> Party:
    frozen = invoice.client_snapshot
    client = invoice.client
    fields = {name: _party_value(frozen, client, name) for name in EINVOICE_PARTY_FIELDS}
    return Party(
        name=(frozen or {}).get("name") or client.name,
        email=(frozen or {}).get("email") or client.email or "",
        **fields,
    )


def _missing_parties(seller: Party, buyer: Party, categories: set[str]) -> dict[str, list[str]]:
    """The fields EN 16931 needs that the seller (settings) or buyer (client) lack, by field path."""
    missing: dict[str, list[str]] = {}
    if not seller.country:
        missing["settings.country"] = ["is required for an e-invoice (the seller's country, EN 16931 BT-40)"]
    if not buyer.country:
        missing["client.country"] = ["is required for an e-invoice (the buyer's country, EN 16931 BT-55)"]
    needs_seller_vat = categories & {TaxCategory.REVERSE_CHARGE, TaxCategory.INTRA_COMMUNITY, TaxCategory.EXPORT}
    if needs_seller_vat and not seller.vat_id:
        named = ", ".join(sorted(needs_seller_vat))
        missing["settings.vat_id"] = [f"is required for an e-invoice with VAT category {named} (EN 16931 BT-31)"]
    elif not seller.vat_id and not seller.tax_id:
        missing["settings.vat_id"] = [
            "is required for an e-invoice: the company's VAT id (or at least its tax id), EN 16931 BT-31/BT-32"
        ]
    needs_buyer_vat = categories & {TaxCategory.REVERSE_CHARGE, TaxCategory.INTRA_COMMUNITY}
    if needs_buyer_vat and not buyer.vat_id:
        named = ", ".join(sorted(needs_buyer_vat))
        missing["client.vat_id"] = [f"is required for an e-invoice with VAT category {named} (EN 16931 BT-48)"]
    return missing


def _check_line_rounding(groups: tuple[VatGroup, ...], tax_rounding: str) -> None:
    """BR-S-09 accepts BT-117 within one currency unit of BT-116 × rate; line rounding can drift further."""
    for group in groups:
        rate = Decimal(group.rate)
        if rate == 0:
            continue
        exact = Decimal(group.taxable) * rate / 100
        if abs(Decimal(group.tax) - exact) >= 1 - TWO_PLACES / 2:
            raise EInvoiceRefused.one(
                "tax_rounding",
                f"the tax at {group.rate} % ({group.tax}) was rounded line by line ({tax_rounding}) and differs "
                f"from {exact.quantize(TWO_PLACES)} by a whole currency unit or more, which EN 16931 (BR-S-09) "
                "refuses; issue such invoices with document tax rounding",
            )


def from_invoice(invoice: Invoice, settings: Settings) -> EDocument:
    """The EN 16931 document of an issued invoice; raises :class:`EInvoiceRefused` naming what is missing."""
    seller, buyer = seller_party(settings), buyer_party(invoice)
    lines = list(invoice.lines)
    categories = {TaxCategory(line.tax_category) for line in lines}
    missing = _missing_parties(seller, buyer, categories)
    if missing:
        raise EInvoiceRefused(missing, "this invoice cannot be made an e-invoice yet: " + _listed(missing))
    amount = _Amounts(invoice.currency)
    breakdown = money.taxes_by_category(
        [line.taxable for line in lines],
        [line.tax_rate for line in lines],
        [line.tax_category for line in lines],
        [line.tax for line in lines],
        invoice.currency,
        invoice.tax_rounding,
    )
    reasons = _exemption_reasons(lines)
    groups = tuple(
        VatGroup(
            category=g.category,
            rate=decimal_text(g.rate),
            taxable=amount(g.taxable),
            tax=amount(g.tax),
            exemption_reason=reasons.get(g.category, ""),
        )
        for g in breakdown
    )
    allowances = []
    for category, rate in sorted({(line.tax_category, line.tax_rate) for line in lines}):
        share = sum(
            (line.discount for line in lines if (line.tax_category, line.tax_rate) == (category, rate)), Decimal(0)
        )
        if share > 0:
            allowances.append(Allowance(amount(share), category, decimal_text(rate), "Discount"))
    paid = invoice.amount_paid + invoice.amount_credited
    k_delivery = TaxCategory.INTRA_COMMUNITY in categories
    document = EDocument(
        kind=INVOICE,
        number=invoice.number or "",
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        currency=invoice.currency,
        seller=seller,
        buyer=buyer,
        lines=tuple(
            Line(
                position=line.position,
                description=line.description,
                quantity=decimal_text(line.quantity),
                unit=line.unit,
                unit_price=decimal_text(line.unit_price),
                net=amount(line.amount),
                category=line.tax_category,
                rate=decimal_text(line.tax_rate),
            )
            for line in lines
        ),
        allowances=tuple(allowances),
        breakdown=groups,
        line_total=amount(invoice.subtotal),
        allowance_total=amount(invoice.discount_total),
        tax_exclusive=amount(invoice.subtotal - invoice.discount_total),
        tax_total=amount(invoice.tax_total),
        total=amount(invoice.total),
        prepaid=amount(paid),
        payable=amount(invoice.balance_due),
        notes=tuple(n for n in (invoice.notes.strip(),) if n),
        buyer_reference=invoice.purchase_order or invoice.number or "",
        order_reference=invoice.purchase_order,
        payment_terms=settings.payment_instructions.strip(),
        delivery_date=invoice.issue_date if k_delivery else None,
        deliver_to_country=buyer.country if k_delivery else "",
    )
    amount.check()
    _check_line_rounding(groups, invoice.tax_rounding)
    return document


def from_credit_note(note: CreditNote, settings: Settings) -> EDocument:
    """The EN 16931 credit note (type 381) correcting its invoice (BT-25), from its stored §5.1 figures.

    A credit note has no discount, so its line nets are its taxable bases. Its
    ``applied`` part already settled the invoice: that is BT-113 (paid), and
    BT-115 (due to the buyer) is ``to_credit``, the part held as client credit.
    """
    invoice = note.invoice
    seller, buyer = seller_party(settings), buyer_party(invoice)
    items = list(note.items)
    categories = {TaxCategory(item.tax_category) for item in items}
    missing = _missing_parties(seller, buyer, categories)
    if missing:
        raise EInvoiceRefused(missing, "this credit note cannot be made an e-invoice yet: " + _listed(missing))
    amount = _Amounts(note.currency)
    breakdown = money.taxes_by_category(
        [item.amount for item in items],
        [item.tax_rate for item in items],
        [item.tax_category for item in items],
        [item.tax for item in items],
        note.currency,
        note.tax_rounding,
    )
    reasons = _exemption_reasons(items)
    groups = tuple(
        VatGroup(g.category, decimal_text(g.rate), amount(g.taxable), amount(g.tax), reasons.get(g.category, ""))
        for g in breakdown
    )
    k_delivery = TaxCategory.INTRA_COMMUNITY in categories
    document = EDocument(
        kind=CREDIT_NOTE,
        number=note.number,
        issue_date=note.issue_date,
        due_date=None,
        currency=note.currency,
        seller=seller,
        buyer=buyer,
        lines=tuple(
            Line(
                position=item.position,
                description=item.description,
                quantity=decimal_text(item.quantity),
                unit=item.unit,
                unit_price=decimal_text(item.unit_price),
                net=amount(item.amount),
                category=item.tax_category,
                rate=decimal_text(item.tax_rate),
            )
            for item in items
        ),
        allowances=(),
        breakdown=groups,
        line_total=amount(note.subtotal),
        allowance_total=amount(Decimal(0)),
        tax_exclusive=amount(note.subtotal),
        tax_total=amount(note.tax_total),
        total=amount(note.total),
        prepaid=amount(note.applied),
        payable=amount(note.to_credit),
        notes=(note.reason,),
        buyer_reference=invoice.purchase_order or invoice.number or "",
        order_reference=invoice.purchase_order,
        invoice_reference=invoice.number or "",
        invoice_reference_date=invoice.issue_date,
        # BR-CO-25: an amount due needs payment terms; a credit note's is held as client credit.
        payment_terms=(
            f"Settles {amount(note.applied)} {note.currency} of invoice {invoice.number}; "
            f"{amount(note.to_credit)} {note.currency} is held as credit for the buyer"
        ),
        delivery_date=note.issue_date if k_delivery else None,
        deliver_to_country=buyer.country if k_delivery else "",
    )
    amount.check()
    _check_line_rounding(groups, note.tax_rounding)
    return document


def _exemption_reasons(lines: list[Any]) -> dict[str, str]:
    """BT-120 per category: the lines' reasons, each once, in line order."""
    reasons: dict[str, list[str]] = {}
    for line in lines:
        text = (line.tax_exemption_reason or "").strip()
        if text and text not in reasons.setdefault(line.tax_category, []):
            reasons[line.tax_category].append(text)
    return {category: "; ".join(texts) for category, texts in reasons.items()}


def _listed(errors: dict[str, list[str]]) -> str:
    return "; ".join(f"{field} {messages[0]}" for field, messages in errors.items())
