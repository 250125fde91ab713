from __future__ import annotations

from flask import make_response
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from api_service.resources.base import BaseResource, query_int
from api_service.schemas import PaymentIn, ReasonIn
from shared.db import db
from shared.inputs import PaymentInput
from shared.models import Invoice, Payment
from shared.representations import payment_json, payment_snapshot
from shared.services import Notify, record_payment, void_payment


def respond(payment: Payment, status: int = 200):
    return payment_snapshot(db.session, payment), status


def _listing(query):
    return BaseResource.paginate(
        query.options(selectinload(Payment.invoice)), Payment.id, lambda payment: payment_json(payment, [])
    )


class PaymentList(BaseResource):
    def get(self):
        query = select(Payment)
        invoice_id = query_int("invoice_id", low=1, high=2**31 - 1)
        if invoice_id:
            query = query.where(Payment.invoice_id == invoice_id)
        return _listing(query)


class InvoicePayments(BaseResource):
    def get(self, invoice_id: int):
        self.get_object_or_404(Invoice, invoice_id)
        return _listing(select(Payment).where(Payment.invoice_id == invoice_id))

    def post(self, invoice_id: int):
        data = self.body(PaymentIn)
        notify = data.pop("notify", None)
        payment, _ = record_payment(
            db.session,
            actor=self.actor,
            invoice_id=invoice_id,
            data=PaymentInput.from_mapping(data),
            notify=Notify(email=notify.get("email", True), sms=notify.get("sms", False)) if notify else Notify(),
        )
        return respond(payment, 201)


class PaymentItem(BaseResource):
    def get(self, payment_id: int):
        return respond(self.get_object_or_404(Payment, payment_id))


class PaymentVoid(BaseResource):
    def post(self, payment_id: int):
        data = self.body(ReasonIn)
        return respond(void_payment(db.session, actor=self.actor, payment_id=payment_id, reason=data.get("reason", "")))


class PaymentReceiptPdf(BaseResource):
    def get(self, payment_id: int):
        from shared import documents

        payment = self.get_object_or_404(Payment, payment_id)
        response = make_response(documents.render_receipt_pdf(db.session, payment))
        response.headers["Content-Type"] = "application/pdf"
        response.headers["Content-Disposition"] = f'inline; filename="{documents.pdf_filename(payment)}"'
        return response
