"""Quotes (SPEC §13): create, list, get, change while draft, send, accept, decline, convert, PDF."""

from __future__ import annotations

import datetime as dt

from flask import make_response
from sqlalchemy.orm import selectinload

from api_service.resources.base import BaseResource, query_choice, query_int
from api_service.resources.invoices import _notify
from api_service.schemas import AcceptIn, ConvertIn, DeclineIn, QuoteIn, QuotePatch, QuoteSendIn
from shared.db import db
from shared.inputs import QuoteChanges, QuoteDraft
from shared.models import Quote
from shared.models.enums import QUOTE_STATES
from shared.queries import quotes_matching
from shared.representations import invoice_json, quote_json, quote_snapshot
from shared.services import (
    Notify,
    accept_quote,
    convert_quote,
    create_quote,
    decline_quote,
    delete_quote,
    send_quote,
    update_quote,
)


def respond(quote: Quote, status: int = 200):
    return quote_snapshot(db.session, quote), status


class QuoteList(BaseResource):
    def get(self):
        query = quotes_matching(
            status=query_choice("status", QUOTE_STATES),
            client_id=query_int("client_id", low=1, high=2**31 - 1),
        ).options(selectinload(Quote.lines), selectinload(Quote.client))
        today = dt.date.today()
        return self.paginate(query, Quote.id, lambda quote: quote_json(quote, [], today))

    def post(self):
        data = QuoteDraft.from_mapping(self.body(QuoteIn))
        return respond(create_quote(db.session, actor=self.actor, data=data), 201)


class QuoteItem(BaseResource):
    def get(self, quote_id: int):
        return respond(self.get_object_or_404(Quote, quote_id))

    def patch(self, quote_id: int):
        changes = QuoteChanges.from_mapping(self.body(QuotePatch))
        return respond(update_quote(db.session, actor=self.actor, quote_id=quote_id, data=changes))

    def delete(self, quote_id: int):
        delete_quote(db.session, actor=self.actor, quote_id=quote_id)
        return "", 204


class QuoteSend(BaseResource):
    def post(self, quote_id: int):
        data = self.body(QuoteSendIn)
        notify = Notify(email=data.get("notify", {}).get("email", True))
        quote, _ = send_quote(db.session, actor=self.actor, quote_id=quote_id, notify=notify)
        return respond(quote)


class QuoteAccept(BaseResource):
    def post(self, quote_id: int):
        """Record an acceptance the client gave another way (in writing, by phone)."""
        data = self.body(AcceptIn)
        return respond(accept_quote(db.session, actor=self.actor, quote_id=quote_id, name=data.get("name")))


class QuoteDecline(BaseResource):
    def post(self, quote_id: int):
        data = self.body(DeclineIn)
        return respond(decline_quote(db.session, actor=self.actor, quote_id=quote_id, reason=data.get("reason", "")))


class QuoteConvert(BaseResource):
    def post(self, quote_id: int):
        """The quote becomes an invoice (a write-scoped key counts as staff); ``issue`` and ``notify`` as for POST /invoices."""
        data = self.body(ConvertIn)
        issue = data.get("issue", True)
        _, invoice, messages = convert_quote(
            db.session,
            actor=self.actor,
            quote_id=quote_id,
            issue=issue,
            notify=_notify(data.get("notify"), Notify(email=True)) if issue else Notify(),
        )
        return invoice_json(invoice, messages), 201


class QuotePdf(BaseResource):
    def get(self, quote_id: int):
        from shared import documents

        quote = self.get_object_or_404(Quote, quote_id)
        pdf = documents.render_quote_pdf_on_request(db.session, quote)
        response = make_response(pdf)
        response.headers["Content-Type"] = "application/pdf"
        response.headers["Content-Disposition"] = f'inline; filename="{documents.pdf_filename(quote)}"'
        return response
