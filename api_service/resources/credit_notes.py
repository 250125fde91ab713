"""Credit notes, client credit and refunds (SPEC §11)."""

from __future__ import annotations

from flask import make_response
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from api_service.resources.base import BaseResource, query_int
from api_service.resources.invoices import respond as invoice_response
from api_service.schemas import ApplyCreditIn, CreditNoteIn, RefundIn
from shared.db import db
from shared.inputs import ApplyCreditInput, CreditNoteInput, RefundInput
from shared.models import CreditNote
from shared.representations import credit_note_json, credit_note_snapshot, refund_json
from shared.services import Notify, apply_client_credit, issue_credit_note, refund_client_credit


def respond(note: CreditNote, status: int = 200):
    return credit_note_snapshot(db.session, note), status


class CreditNoteList(BaseResource):
    def get(self):
        query = select(CreditNote).options(
            selectinload(CreditNote.items), selectinload(CreditNote.invoice), selectinload(CreditNote.client)
        )
        invoice_id = query_int("invoice_id", low=1, high=2**31 - 1)
        if invoice_id:
            query = query.where(CreditNote.invoice_id == invoice_id)
        client_id = query_int("client_id", low=1, high=2**31 - 1)
        if client_id:
            query = query.where(CreditNote.client_id == client_id)
        return self.paginate(query, CreditNote.id, lambda note: credit_note_json(note, []))


class InvoiceCreditNotes(BaseResource):
    def post(self, invoice_id: int):
        data = self.body(CreditNoteIn)
        notify = data.pop("notify", None) or {}
        note, _ = issue_credit_note(
            db.session,
            actor=self.actor,
            invoice_id=invoice_id,
            data=CreditNoteInput.from_mapping(data),
            notify=Notify(email=notify.get("email", True)),
        )
        return respond(note, 201)


class CreditNoteItem(BaseResource):
    def get(self, credit_note_id: int):
        return respond(self.get_object_or_404(CreditNote, credit_note_id, label="credit note"))


class CreditNotePdf(BaseResource):
    def get(self, credit_note_id: int):
        from shared import documents

        note = self.get_object_or_404(CreditNote, credit_note_id, label="credit note")
        response = make_response(documents.render_credit_note_pdf(db.session, note))
        response.headers["Content-Type"] = "application/pdf"
        response.headers["Content-Disposition"] = f'inline; filename="{documents.pdf_filename(note)}"'
        return response


class InvoiceApplyCredit(BaseResource):
    def post(self, invoice_id: int):
        data = ApplyCreditInput.from_mapping(self.body(ApplyCreditIn))
        invoice = apply_client_credit(db.session, actor=self.actor, invoice_id=invoice_id, data=data)
        return invoice_response(invoice, 201)


class ClientRefunds(BaseResource):
    def post(self, client_id: int):
        data = RefundInput.from_mapping(self.body(RefundIn))
        return refund_json(refund_client_credit(db.session, actor=self.actor, client_id=client_id, data=data)), 201
