"""E-invoice downloads of an issued invoice (SPEC §16): Factur-X PDF and UBL XML."""

from __future__ import annotations

from flask import make_response

from api_service.resources.base import BaseResource
from shared import einvoice
from shared.db import db
from shared.models import Invoice


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
