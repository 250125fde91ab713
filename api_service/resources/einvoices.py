"""E-invoice downloads of an issued invoice (SPEC §16): Factur-X PDF and UBL XML."""

from __future__ import annotations

from flask import make_response

from api_service.resources.base import BaseResource
from shared import einvoice
from shared.db import db
from shared.models import CreditNote, Invoice


def _file(body: bytes, mimetype: str, filename: str):
    response = make_response(body)
    response.headers["Content-Type"] = mimetype
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


class InvoiceFacturX(BaseResource):
    def get(self, invoice_id: int):
        from shared import documents

        invoice = self.get_object_or_404(Invoice, invoice_id)
        einvoice.invoice_document(db.session, invoice)  # refuse (409/422) before rendering anything
        documents.check_renders_on_request(invoice)
        pdf = einvoice.invoice_facturx_pdf(db.session, invoice)
        return _file(pdf, "application/pdf", einvoice.einvoice_filename(invoice, "facturx.pdf"))


class InvoiceUbl(BaseResource):
    def get(self, invoice_id: int):
        invoice = self.get_object_or_404(Invoice, invoice_id)
        xml = einvoice.invoice_ubl(db.session, invoice)
        return _file(xml, "application/xml", einvoice.einvoice_filename(invoice, "ubl.xml"))


class CreditNoteFacturX(BaseResource):
    def get(self, credit_note_id: int):
        note = self.get_object_or_404(CreditNote, credit_note_id, label="credit note")
        pdf = einvoice.credit_note_facturx_pdf(db.session, note)
        return _file(pdf, "application/pdf", einvoice.einvoice_filename(note, "facturx.pdf"))


class CreditNoteUbl(BaseResource):
    def get(self, credit_note_id: int):
        note = self.get_object_or_404(CreditNote, credit_note_id, label="credit note")
        xml = einvoice.credit_note_ubl(db.session, note)
        return _file(xml, "application/xml", einvoice.einvoice_filename(note, "ubl.xml"))
