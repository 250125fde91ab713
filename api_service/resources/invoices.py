from __future__ import annotations

import datetime as dt

from flask import make_response, request
from sqlalchemy.orm import selectinload

from api_service.resources.base import BaseResource, query_bool, query_choice, query_int
from api_service.schemas import InvoiceIn, InvoicePatch, IssueIn, ReasonIn, SendIn
from shared.db import db
from shared.errors import ValidationFailed
from shared.inputs import ClientInput, InvoiceChanges, InvoiceDraft
from shared.models import Invoice
from shared.models.enums import INVOICE_STATES
from shared.parsing import to_date
from shared.queries import InvoiceFilters, invoices_matching
from shared.representations import invoice_json, invoice_snapshot
from shared.services import (
    Notify,
    atomic,
    delete_draft,
    issue_invoice,
    send_invoice,
    update_draft,
    void_invoice,
)
from shared.services.clients import find_or_create_client
from shared.services.invoices import create_invoice


def respond(invoice: Invoice, status: int = 200):
    return invoice_snapshot(db.session, invoice), status


def _query_date(name: str) -> dt.date | None:
    raw = request.args.get(name)
    return to_date(raw, name) if raw else None


def _notify(data: dict | None, default: Notify) -> Notify:
    if data is None:
        return default
    return Notify(email=data.get("email", True), sms=data.get("sms", False))


class InvoiceList(BaseResource):
    def get(self):
        filters = InvoiceFilters(
            status=query_choice("status", INVOICE_STATES),
            client_id=query_int("client_id", low=1, high=2**31 - 1),
            overdue=query_bool("overdue"),
            issued_from=_query_date("issued_from"),
            issued_to=_query_date("issued_to"),
        )
        query = invoices_matching(filters, today=dt.date.today())
        query = query.options(selectinload(Invoice.lines), selectinload(Invoice.client))
        return self.paginate(query, Invoice.id, lambda invoice: invoice_json(invoice, []))

    def post(self):
        """Create an invoice (and by default issue it and e-mail it) in one transaction."""
        data = self.body(InvoiceIn)
        issue = data.pop("issue", True)
        notify_data = data.pop("notify", None)
        client_data = data.pop("client", None)
        if client_data is not None and "client_id" in data:
            raise ValidationFailed.one("client", "send either client_id or client, not both")
        if client_data is None and "client_id" not in data:
            raise ValidationFailed.one("client_id", "is required (or send an inline client)")
        if not issue and notify_data and (notify_data.get("email", True) or notify_data.get("sms")):
            raise ValidationFailed.one("notify", "only an issued invoice can be sent; set issue to true")
        with atomic(db.session):
            if client_data is not None:
                client = find_or_create_client(
                    db.session,
                    actor=self.actor,
                    data=ClientInput.from_mapping(client_data, prefix="client."),
                    prefix="client.",
                )
                data["client_id"] = client.id
            invoice, messages = create_invoice(
                db.session,
                actor=self.actor,
                data=InvoiceDraft.from_mapping(data),
                issue=issue,
                notify=_notify(notify_data, Notify(email=True)),
            )
            # A new invoice has no queue rows but the ones just written: no need to read them back. The body
            # is made at commit, when the number is taken (SPEC §17: the counter is locked for the commit only).
            return (lambda: invoice_json(invoice, messages)), 201


class InvoiceItem(BaseResource):
    def get(self, invoice_id: int):
        return respond(self.get_object_or_404(Invoice, invoice_id))

    def patch(self, invoice_id: int):
        changes = InvoiceChanges.from_mapping(self.body(InvoicePatch))
        return respond(update_draft(db.session, actor=self.actor, invoice_id=invoice_id, data=changes))

    def delete(self, invoice_id: int):
        delete_draft(db.session, actor=self.actor, invoice_id=invoice_id)
        return "", 204


class InvoiceIssue(BaseResource):
    def post(self, invoice_id: int):
        data = self.body(IssueIn)
        invoice, _ = issue_invoice(
            db.session, actor=self.actor, invoice_id=invoice_id, notify=_notify(data.get("notify"), Notify())
        )
        # Made at commit, once the number is taken (shared.numbering.number_at_commit).
        return (lambda: invoice_snapshot(db.session, invoice)), 200


class InvoiceSend(BaseResource):
    def post(self, invoice_id: int):
        data = self.body(SendIn)
        send_invoice(
            db.session, actor=self.actor, invoice_id=invoice_id, notify=_notify(data.get("notify"), Notify(email=True))
        )
        return respond(self.get_object_or_404(Invoice, invoice_id), 202)


class InvoiceVoid(BaseResource):
    def post(self, invoice_id: int):
        data = self.body(ReasonIn)
        return respond(void_invoice(db.session, actor=self.actor, invoice_id=invoice_id, reason=data.get("reason", "")))


class InvoicePdf(BaseResource):
    def get(self, invoice_id: int):
        from shared import documents

        invoice = self.get_object_or_404(Invoice, invoice_id)
        pdf = documents.render_invoice_pdf_on_request(db.session, invoice)
        response = make_response(pdf)
        response.headers["Content-Type"] = "application/pdf"
        response.headers["Content-Disposition"] = f'inline; filename="{documents.pdf_filename(invoice)}"'
        return response
