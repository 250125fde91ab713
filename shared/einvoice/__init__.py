"""E-invoices (SPEC §16): Factur-X (CII, EN 16931 profile) and UBL 2.1 (Peppol BIS Billing 3.0).

Every door (API, admin, e-mail) asks here; a refusal is a ``Conflict`` (a draft
or a void invoice: 409) or an :class:`EInvoiceRefused` naming the missing
fields (422). The plain PDF never depends on any of this.
"""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy.orm import Session

from shared.einvoice import facturx
from shared.einvoice.cii import to_cii
from shared.einvoice.document import EDocument, EInvoiceRefused, from_credit_note, from_invoice
from shared.einvoice.ubl import to_ubl
from shared.errors import Conflict
from shared.lookups import get_settings
from shared.models import CreditNote, Invoice

__all__ = [
    "EDocument",
    "EInvoiceRefused",
    "credit_note_cii",
    "credit_note_document",
    "credit_note_facturx_pdf",
    "credit_note_ubl",
    "einvoice_filename",
    "invoice_document",
    "invoice_cii",
    "invoice_facturx_pdf",
    "invoice_ubl",
    "to_cii",
    "to_ubl",
]


def invoice_document(session: Session, invoice: Invoice) -> EDocument:
    """The EN 16931 document of an issued invoice, as of now (paid and due amounts are today's)."""
    if invoice.is_draft:
        raise Conflict("this invoice is a draft; issue it before making an e-invoice of it")
    if invoice.is_void:
        raise Conflict(f"invoice {invoice.number} is void; a void invoice has no e-invoice")
    return from_invoice(invoice, get_settings(session))


def invoice_cii(session: Session, invoice: Invoice) -> bytes:
    """The CII XML (``factur-x.xml``) of an issued invoice."""
    return to_cii(invoice_document(session, invoice))


def invoice_ubl(session: Session, invoice: Invoice) -> bytes:
    """The UBL 2.1 Invoice (Peppol BIS Billing 3.0) of an issued invoice."""
    return to_ubl(invoice_document(session, invoice))


def invoice_facturx_pdf(session: Session, invoice: Invoice, *, as_of: dt.date | None = None) -> bytes:
    """The invoice PDF as Factur-X: PDF/A-3b, ``factur-x.xml`` embedded, the Factur-X XMP metadata."""
    from shared.documents import render_invoice_pdf

    xml = invoice_cii(session, invoice)
    settings = get_settings(session)
    pdf = render_invoice_pdf(session, invoice, as_of=as_of, variant=facturx.PDF_VARIANT)
    return facturx.embed(
        pdf,
        xml,
        moment=invoice.issued_at or dt.datetime.combine(invoice.issue_date, dt.time(), dt.UTC),
        title=f"{settings.company_name}: Invoice {invoice.number}",
        author=settings.company_name,
        subject=f"Factur-X invoice {invoice.number} dated {invoice.issue_date.isoformat()} "
        f"issued by {settings.company_name}",
    )


def credit_note_document(session: Session, note: CreditNote) -> EDocument:
    """The EN 16931 credit note (type 381, referencing its invoice in BT-25)."""
    return from_credit_note(note, get_settings(session))


def credit_note_cii(session: Session, note: CreditNote) -> bytes:
    return to_cii(credit_note_document(session, note))


def credit_note_ubl(session: Session, note: CreditNote) -> bytes:
    """A UBL 2.1 CreditNote (Peppol BIS Billing 3.0)."""
    return to_ubl(credit_note_document(session, note))


def credit_note_facturx_pdf(session: Session, note: CreditNote) -> bytes:
    """The credit note PDF as Factur-X (type 381 inside), PDF/A-3b."""
    from shared.documents import render_credit_note_pdf

    xml = credit_note_cii(session, note)
    settings = get_settings(session)
    pdf = render_credit_note_pdf(session, note, variant=facturx.PDF_VARIANT)
    return facturx.embed(
        pdf,
        xml,
        moment=note.created_at,
        title=f"{settings.company_name}: Credit note {note.number}",
        author=settings.company_name,
        subject=f"Factur-X credit note {note.number} dated {note.issue_date.isoformat()} "
        f"issued by {settings.company_name}",
    )


def einvoice_filename(document: Invoice | CreditNote, suffix: str) -> str:
    """``INV-2026-00001.ubl.xml``, ``CN-2026-00001.facturx.pdf``: safe as a file name."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", document.number or f"invoice-{document.id}").strip("-.")
    return f"{name}.{suffix}"
