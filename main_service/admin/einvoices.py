"""E-invoice downloads in the admin (SPEC §16): Factur-X PDF and UBL XML of an issued invoice or credit note."""

from __future__ import annotations

from flask import Response, flash, redirect, url_for
from flask_login import login_required

from main_service.admin import bp
from shared import einvoice
from shared.db import db
from shared.errors import DomainError, ValidationFailed
from shared.lookups import get_or_404
from shared.models import CreditNote, Invoice


def _refused(exc: DomainError, back: str) -> Response:
    """Say what is missing (each field and why) and go back to the document."""
    if isinstance(exc, ValidationFailed):
        for field, messages in exc.errors.items():
            flash(f"E-invoice not made: {field.replace('_', ' ')} {messages[0]}", "error")
    else:
        flash(f"E-invoice not made: {exc.message}", "error")
    return redirect(back)


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/invoices/<int:invoice_id>/facturx.pdf")
@login_required
def invoice_facturx(invoice_id: int):
    from shared import documents

    invoice = get_or_404(db.session, Invoice, invoice_id)
    try:
        einvoice.invoice_document(db.session, invoice)
        documents.check_renders_on_request(invoice)
        pdf = einvoice.invoice_facturx_pdf(db.session, invoice)
    except DomainError as exc:
        return _refused(exc, url_for("admin.invoice_detail", invoice_id=invoice_id))
    return _download(pdf, "application/pdf", einvoice.einvoice_filename(invoice, "facturx.pdf"))


@bp.get("/invoices/<int:invoice_id>/ubl.xml")
@login_required
def invoice_ubl(invoice_id: int):
    invoice = get_or_404(db.session, Invoice, invoice_id)
    try:
        xml = einvoice.invoice_ubl(db.session, invoice)
    except DomainError as exc:
        return _refused(exc, url_for("admin.invoice_detail", invoice_id=invoice_id))
    return _download(xml, "application/xml", einvoice.einvoice_filename(invoice, "ubl.xml"))


@bp.get("/credit-notes/<int:credit_note_id>/facturx.pdf")
@login_required
def credit_note_facturx(credit_note_id: int):
    note = get_or_404(db.session, CreditNote, credit_note_id, label="credit note")
    try:
        pdf = einvoice.credit_note_facturx_pdf(db.session, note)
    except DomainError as exc:
        return _refused(exc, url_for("admin.credit_note_detail", credit_note_id=credit_note_id))
    return _download(pdf, "application/pdf", einvoice.einvoice_filename(note, "facturx.pdf"))


@bp.get("/credit-notes/<int:credit_note_id>/ubl.xml")
@login_required
def credit_note_ubl(credit_note_id: int):
    note = get_or_404(db.session, CreditNote, credit_note_id, label="credit note")
    try:
        xml = einvoice.credit_note_ubl(db.session, note)
    except DomainError as exc:
        return _refused(exc, url_for("admin.credit_note_detail", credit_note_id=credit_note_id))
    return _download(xml, "application/xml", einvoice.einvoice_filename(note, "ubl.xml"))
