"""The EPC payment QR code (SPEC §14): EPC069-12 "GiroCode", version 002, drawn by segno.

A banking app that scans it fills in a SEPA credit transfer: the company's
account holder, IBAN and (optional) BIC from the settings, the invoice's
balance in EUR, and its number as the remittance text.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import segno
from markupsafe import Markup
from segno import helpers

if TYPE_CHECKING:
    from shared.models import Invoice, Settings

# EPC069-12: SEPA credit transfers are in euro, from 0.01 to 999,999,999.99.
EPC_CURRENCY = "EUR"
EPC_MAX_AMOUNT = Decimal("999999999.99")


def shows_payment_qr(invoice: Invoice, settings: Settings) -> bool:
    """Whether ``invoice`` carries the QR: EUR, issued with a balance to pay, and an IBAN to pay it to."""
    return (
        invoice.currency == EPC_CURRENCY
        and invoice.can_take_payment
        and invoice.balance_due <= EPC_MAX_AMOUNT
        and bool(settings.iban)
        and bool(beneficiary(settings))
    )


def beneficiary(settings: Settings) -> str:
    """The name the transfer goes to: the account holder, else the company's name (EPC allows 70 characters)."""
    return (settings.account_holder or settings.company_name or "").strip()[:70]


def payment_qr(invoice: Invoice, settings: Settings) -> segno.QRCode | None:
    """The EPC QR code for ``invoice``'s balance, or None when it carries none."""
    if not shows_payment_qr(invoice, settings):
        return None
    return helpers.make_epc_qr(
        name=beneficiary(settings),
        iban=settings.iban,
        amount=invoice.balance_due,
        text=invoice.number,
        bic=settings.bic or None,
    )


def payment_qr_svg(invoice: Invoice, settings: Settings) -> Markup | None:
    """The QR as inline SVG for the PDF and the public page (nothing fetched: documents load no data: URLs), or None.

    segno writes only rectangles from the encoded bits, so the markup carries no user text to escape.
    """
    qr = payment_qr(invoice, settings)
    if qr is None:
        return None
    # EPC asks for a quiet zone of 4 modules; the CSS sizes the drawing (at least 2 cm on paper).
    svg = qr.svg_inline(scale=1, border=4, dark="#000", light="#fff", omitsize=True, svgclass="payment-qr-code")
    return Markup(svg)
