"""The invoice e-mail and SMS as the client will get them, shown before anything is queued."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

from sqlalchemy.orm import Session

from shared.documents import pdf_filename
from shared.lookups import get_settings
from shared.messages.compose import build_email_parts, build_sms
from shared.models import Invoice, Quote
from shared.numbering import peek_number


class _Numbered:
    """A draft (invoice or quote) seen with the number it would get if issued or sent now; nothing is written."""

    def __init__(self, invoice: Invoice | Quote, number: str) -> None:
        self._invoice = invoice
        self.number = number

    def __getattr__(self, name: str) -> Any:
        return getattr(self._invoice, name)


def preview_invoice_messages(session: Session, invoice: Invoice, config: Mapping[str, Any]) -> dict[str, Any]:
    """Subject, text body and SMS of the invoice message, built by the worker's own code."""
    number = invoice.number
    if number is None:
        settings = get_settings(session)
        number = peek_number(session, "invoice", invoice.issue_date.year, settings.invoice_number_format)
        invoice_view: Any = _Numbered(invoice, number)
    else:
        invoice_view = invoice
    client = invoice.billed_to
    row = SimpleNamespace(
        id=0,
        kind="invoice",
        channel="email",
        recipient=client.get("email") or "",
        invoice=invoice_view,
        payment=None,
        created_at=None,
    )
    today = dt.datetime.now(dt.UTC)
    parts = build_email_parts(session, row, config, now=today, attach=False)
    sms_row = SimpleNamespace(**{**vars(row), "channel": "sms", "recipient": client.get("phone") or ""})
    return {
        "number": number,
        "email_to": client.get("email"),
        "sms_to": client.get("phone"),
        "subject": parts["subject"],
        "text": parts["text"],
        "html": parts["html"],
        "attachment": pdf_filename(invoice) if invoice.number else f"{number}.pdf",
        "sms": build_sms(session, sms_row, config, now=today),
    }


def preview_quote_message(session: Session, quote: Quote, config: Mapping[str, Any]) -> dict[str, Any]:
    """Subject and text body of the quote e-mail, built by the worker's own code, before anything is queued."""
    number = quote.number
    quote_view: Any = quote
    if number is None:
        settings = get_settings(session)
        number = peek_number(session, "quote", quote.issue_date.year, settings.quote_number_format)
        quote_view = _Numbered(quote, number)
    client = quote.billed_to
    row = SimpleNamespace(
        id=0, kind="quote", channel="email", recipient=client.get("email") or "", quote=quote_view, created_at=None
    )
    parts = build_email_parts(session, row, config, now=dt.datetime.now(dt.UTC), attach=False)
    return {
        "number": number,
        "email_to": client.get("email"),
        "subject": parts["subject"],
        "text": parts["text"],
        "html": parts["html"],
        "attachment": pdf_filename(quote) if quote.number else f"{number}.pdf",
    }
