"""``/recurring-invoices`` (SPEC §12): templates that issue invoices on a schedule."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from api_service.resources.base import BaseResource, query_choice, query_int
from api_service.schemas import EmptyIn, RecurringInvoiceIn, RecurringInvoicePatch
from shared.db import MAX_ID, db
from shared.inputs import RecurringInvoiceChanges, RecurringInvoiceInput
from shared.models import RecurringInvoice
from shared.models.enums import RECURRING_STATES
from shared.representations import recurring_invoice_json
from shared.services.recurring import (
    create_recurring_invoice,
    delete_recurring_invoice,
    last_invoice,
    pause_recurring_invoice,
    resume_recurring_invoice,
    update_recurring_invoice,
)

LABEL = "recurring invoice"


def respond(template: RecurringInvoice, status: int = 200):
    return recurring_invoice_json(template, last_invoice(db.session, template)), status


class RecurringInvoiceList(BaseResource):
    def get(self):
        query = select(RecurringInvoice).options(selectinload(RecurringInvoice.client))
        status = query_choice("status", RECURRING_STATES)
        if status:
            query = query.where(RecurringInvoice.status == status)
        client_id = query_int("client_id", low=1, high=MAX_ID)
        if client_id:
            query = query.where(RecurringInvoice.client_id == client_id)
        return self.paginate(
            query, RecurringInvoice.id, lambda t: recurring_invoice_json(t, last_invoice(db.session, t))
        )

    def post(self):
        data = RecurringInvoiceInput.from_mapping(self.body(RecurringInvoiceIn))
        return respond(create_recurring_invoice(db.session, actor=self.actor, data=data), 201)


class RecurringInvoiceItem(BaseResource):
    def get(self, recurring_id: int):
        return respond(self.get_object_or_404(RecurringInvoice, recurring_id, label=LABEL))

    def patch(self, recurring_id: int):
        changes = RecurringInvoiceChanges.from_mapping(self.body(RecurringInvoicePatch))
        return respond(update_recurring_invoice(db.session, actor=self.actor, recurring_id=recurring_id, data=changes))

    def delete(self, recurring_id: int):
        delete_recurring_invoice(db.session, actor=self.actor, recurring_id=recurring_id)
        return "", 204


class RecurringInvoicePause(BaseResource):
    def post(self, recurring_id: int):
        self.body(EmptyIn)
        return respond(pause_recurring_invoice(db.session, actor=self.actor, recurring_id=recurring_id))


class RecurringInvoiceResume(BaseResource):
    def post(self, recurring_id: int):
        self.body(EmptyIn)
        return respond(resume_recurring_invoice(db.session, actor=self.actor, recurring_id=recurring_id))
