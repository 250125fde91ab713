"""Quote use cases (SPEC §13): drafts, sending, the client's answer, and converting once into an invoice."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session, object_session

from shared import limits, money
from shared.activity import record_activity
from shared.actors import Actor, Notify
from shared.db import utcnow
from shared.documents.formatting import format_date, format_money
from shared.errors import Conflict, ValidationFailed
from shared.inputs import DiscountInput, InvoiceDraft, ItemInput, QuoteChanges, QuoteDraft, given
from shared.lookups import get_or_404, get_settings
from shared.messages.queue import queue_quote_messages
from shared.models import Invoice, QueuedMessage, Quote, QuoteLine
from shared.models.enums import QuoteStatus, WebhookEventType
from shared.numbering import next_number, settle_numbers
from shared.parsing import LATEST_DATE, FieldErrors, clean_text, to_date
from shared.representations import quote_snapshot
from shared.services.clients import normalize_currency

# The invoice's checks of a client, lines, discount and texts, and its §5.1 totals: one rule for both documents.
from shared.services.invoices import (
    _clean_client,
    _clean_discount,
    _clean_texts,
    _compute,
    _default_currency,
    clean_document_changes,
    clean_items,
    create_invoice,
    new_public_token,
)
from shared.transactions import unit_of_work
from shared.webhooks.events import emit_event


def _default_valid_until(issue_date: dt.date) -> dt.date:
    return min(issue_date + dt.timedelta(days=limits.QUOTE_VALID_DAYS), LATEST_DATE)


def _check_validity(cleaned: dict[str, Any], errors: FieldErrors) -> None:
    if "issue_date" in cleaned and "valid_until" in cleaned and cleaned["valid_until"] < cleaned["issue_date"]:
        errors.add("valid_until", "must be on or after the issue date")


def _finish(cleaned: dict[str, Any], errors: FieldErrors, tax_rounding: str) -> dict[str, Any]:
    errors.raise_if_any()
    totals = _compute(cleaned["items"], cleaned["currency"], cleaned["discount"], tax_rounding)
    cleaned["totals"] = totals
    cleaned["tax_rounding"] = tax_rounding
    return cleaned


def _clean_new(session: Session, data: QuoteDraft) -> dict[str, Any]:
    errors = FieldErrors()
    settings = get_settings(session)
    cleaned: dict[str, Any] = {}
    client = None
    with errors.collect():
        client = _clean_client(session, data.client_id)
        cleaned["client_id"] = client.id
        cleaned["client"] = client
    with errors.collect():
        cleaned["currency"] = normalize_currency(data.currency, "currency") or _default_currency(client, settings)
    with errors.collect():
        cleaned["issue_date"] = to_date(data.issue_date, "issue_date") if data.issue_date else dt.date.today()
    with errors.collect():
        if data.valid_until:
            cleaned["valid_until"] = to_date(data.valid_until, "valid_until")
        elif "issue_date" in cleaned:
            cleaned["valid_until"] = _default_valid_until(cleaned["issue_date"])
    _check_validity(cleaned, errors)
    _clean_texts({"purchase_order": data.purchase_order, "notes": data.notes}, cleaned, errors)
    with errors.collect():
        cleaned["discount"] = _clean_discount(data.discount)
    cleaned["items"] = clean_items(data.items, errors)
    return _finish(cleaned, errors, settings.tax_rounding)


def _clean_changes(session: Session, data: QuoteChanges, quote: Quote) -> dict[str, Any]:
    errors = FieldErrors()
    settings = get_settings(session)
    cleaned = clean_document_changes(
        session, given(data), quote, settings, errors, last_date="valid_until", check_dates=_check_validity
    )
    return _finish(cleaned, errors, quote.tax_rounding)


def _apply(quote: Quote, cleaned: dict[str, Any]) -> None:
    for name in ("client_id", "currency", "issue_date", "valid_until", "purchase_order", "notes", "tax_rounding"):
        if name in cleaned:
            setattr(quote, name, cleaned[name])
    if "client" in cleaned:
        quote.client = cleaned["client"]
    discount: money.Discount | None = cleaned["discount"]
    quote.discount_type = discount.kind if discount else None
    quote.discount_value = discount.value if discount else None
    totals: money.Totals = cleaned["totals"]
    quote.subtotal = totals.subtotal
    quote.discount_total = totals.discount_total
    quote.tax_total = totals.tax_total
    quote.total = totals.total
    if quote.lines:
        quote.lines.clear()
        object_session(quote).flush()  # delete the old lines before inserting new ones at the same positions
    quote.lines.extend(QuoteLine.made_from(cleaned["items"], totals))


def _name(quote: Quote) -> str:
    return f"quote {quote.number}" if quote.number else f"draft quote {quote.id}"


def _record(session: Session, actor: Actor, verb: str, quote: Quote, summary: str, **fields) -> None:
    record_activity(session, actor, verb, quote, client_id=quote.client_id, summary=summary, **fields)


def _draft_or_conflict(session: Session, quote_id: int) -> Quote:
    quote = get_or_404(session, Quote, quote_id, lock=True)
    if not quote.can_edit:
        raise Conflict(f"{_name(quote)} is {quote.shown_status}; only a draft quote can be changed or deleted")
    return quote


@unit_of_work
def create_quote(session: Session, *, actor: Actor, data: QuoteDraft) -> Quote:
    """Save a new draft quote: no number yet, freely edited and deleted."""
    cleaned = _clean_new(session, data)
    quote = Quote(status=QuoteStatus.DRAFT, public_token=new_public_token(), created_by=actor.label[:200])
    session.add(quote)
    _apply(quote, cleaned)
    session.flush()
    _record(session, actor, "created", quote, f"Draft quote created for {format_money(quote.total, quote.currency)}")
    return quote


@unit_of_work
def update_quote(session: Session, *, actor: Actor, quote_id: int, data: QuoteChanges) -> Quote:
    """Change a draft quote; only the fields given in ``data`` change."""
    quote = _draft_or_conflict(session, quote_id)
    cleaned = _clean_changes(session, data, quote)
    before = format_money(quote.total, quote.currency)
    _apply(quote, cleaned)
    after = format_money(quote.total, quote.currency)
    _record(
        session,
        actor,
        "edited",
        quote,
        "Draft quote edited" + (f"; total {before} → {after}" if before != after else ""),
    )
    return quote


@unit_of_work
def delete_quote(session: Session, *, actor: Actor, quote_id: int) -> None:
    quote = _draft_or_conflict(session, quote_id)
    _record(session, actor, "deleted", quote, f"Draft quote of {format_money(quote.total, quote.currency)} deleted")
    session.delete(quote)


@unit_of_work
def send_quote(
    session: Session,
    *,
    actor: Actor,
    quote_id: int,
    notify: Notify = Notify(email=True),
    today: dt.date | None = None,
) -> tuple[Quote, list[QueuedMessage]]:
    """Number a draft quote and e-mail it with its PDF (or e-mail a sent one again), while it is valid."""
    today = today or dt.date.today()
    quote = get_or_404(session, Quote, quote_id, lock=True)
    if quote.is_expired_on(today):
        raise Conflict(f"{_name(quote)} expired on {format_date(quote.valid_until)}; it cannot be sent")
    if not quote.can_send_on(today):
        if quote.is_draft:
            raise Conflict(
                f"this draft quote is valid until {format_date(quote.valid_until)}, which has passed; "
                "change the date before sending it"
            )
        raise Conflict(f"{_name(quote)} is {quote.shown_status}; only a draft or sent quote is sent")
    if notify.sms:
        raise ValidationFailed.one("notify.sms", "quotes are sent by e-mail only")
    first = quote.is_draft
    if first:
        client = quote.client
        if client.archived_at is not None:
            raise Conflict(f"client {client.name} is archived; restore the client before sending")
        settings = get_settings(session)
        quote.client_snapshot = client.snapshot()
        rows = queue_quote_messages(session, quote, notify, actor=actor)  # refuses a client without e-mail first
        quote.number = next_number(session, "quote", quote.issue_date.year, settings.quote_number_format)
        quote.status = QuoteStatus.SENT
        quote.sent_at = utcnow()
        quote.sent_by = actor.label[:200]
        session.flush()
    else:
        if not notify:
            raise ValidationFailed.one("notify", "choose e-mail to send the quote again")
        rows = queue_quote_messages(session, quote, notify, actor=actor)
    how = " and queued by " + ", ".join(f"{r.channel} to {r.recipient}" for r in rows) if rows else "; nothing queued"
    verb = "sent" if first else "send_requested"  # not a state: activity verbs
    summary = (
        f"Sent as {quote.number} for {format_money(quote.total, quote.currency)}" if first else "Sent again"
    ) + how
    _record(session, actor, verb, quote, summary)
    return quote, rows


def _answerable(quote: Quote, today: dt.date) -> None:
    if quote.is_expired_on(today):
        raise Conflict(f"{_name(quote)} expired on {format_date(quote.valid_until)}; it can no longer be answered")
    if not quote.can_answer_on(today):
        raise Conflict(f"{_name(quote)} is {quote.shown_status}; only a sent quote can be accepted or declined")


@unit_of_work
def accept_quote(
    session: Session,
    *,
    actor: Actor,
    quote_id: int,
    name: str | None,
    ip: str | None = None,
    today: dt.date | None = None,
) -> Quote:
    """The client accepts a sent quote by typing their name (on the public page, or told to staff)."""
    today = today or dt.date.today()
    typed = clean_text(name, "name", max_length=limits.QUOTE_ACCEPTED_BY, required=True)
    quote = get_or_404(session, Quote, quote_id, lock=True)
    _answerable(quote, today)
    quote.status = QuoteStatus.ACCEPTED
    quote.accepted_by = typed
    quote.accepted_at = utcnow()
    quote.accepted_ip = (ip or "")[:45] or None
    where = f" from {quote.accepted_ip}" if quote.accepted_ip else ""
    _record(session, actor, "accepted", quote, f"Accepted by {typed}{where}")  # not a state: the verb
    emit_event(session, WebhookEventType.QUOTE_ACCEPTED, lambda: quote_snapshot(session, quote))
    return quote


@unit_of_work
def decline_quote(
    session: Session, *, actor: Actor, quote_id: int, reason: str | None = "", today: dt.date | None = None
) -> Quote:
    """The client declines a sent quote, with an optional reason."""
    today = today or dt.date.today()
    reason = clean_text(reason, "reason", max_length=limits.QUOTE_DECLINE_REASON)
    quote = get_or_404(session, Quote, quote_id, lock=True)
    _answerable(quote, today)
    quote.status = QuoteStatus.DECLINED
    quote.declined_at = utcnow()
    quote.declined_reason = reason
    _record(session, actor, "declined", quote, "Declined" + (f": {reason}" if reason else ""))  # not a state: verb
    return quote


@unit_of_work
def convert_quote(
    session: Session,
    *,
    actor: Actor,
    quote_id: int,
    issue: bool = True,
    notify: Notify = Notify(),
    today: dt.date | None = None,
) -> tuple[Quote, Invoice, list[QueuedMessage]]:
    """Turn an accepted (or, by staff, a sent) quote into an invoice, once.

    The quote row is locked first: a second convert, even at the same moment,
    waits for the first to commit and then finds the invoice it made (409).
    The invoice is made by the same use case as ``POST /invoices``, with the
    quote's client, currency, lines, discount, notes and purchase order, in
    this same transaction.
    """
    today = today or dt.date.today()
    quote = get_or_404(session, Quote, quote_id, lock=True)
    if quote.is_invoiced:
        made = quote.invoice
        if made is None:
            which = "an invoice since deleted"
        else:
            which = f"invoice {made.number}" if made.number else f"draft invoice {made.id}"
        raise Conflict(f"{_name(quote)} was already converted to {which}")
    if not quote.can_convert_on(today, by_staff=True):
        if quote.is_expired_on(today):
            raise Conflict(f"{_name(quote)} expired on {format_date(quote.valid_until)}; it cannot be converted")
        raise Conflict(f"{_name(quote)} is {quote.shown_status}; only an accepted or sent quote is converted")
    discount = DiscountInput(type=quote.discount_type, value=quote.discount_value) if quote.discount_type else None
    draft = InvoiceDraft(
        client_id=quote.client_id,
        currency=quote.currency,
        purchase_order=quote.purchase_order,
        notes=quote.notes,
        discount=discount,
        items=[
            ItemInput(
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                tax_rate=line.tax_rate,
                unit=line.unit,
                tax_category=line.tax_category,
                tax_exemption_reason=line.tax_exemption_reason,
            )
            for line in quote.lines
        ],
    )
    invoice, rows = create_invoice(session, actor=actor, data=draft, issue=issue, notify=notify if issue else Notify())
    quote.status = QuoteStatus.INVOICED
    quote.invoice = invoice
    quote.converted_at = utcnow()
    settle_numbers(session)  # the summary names the number
    made = f"invoice {invoice.number}" if invoice.number else f"draft invoice {invoice.id}"
    _record(
        session,
        actor,
        "converted",
        quote,
        f"Quote {quote.number or quote.id} converted to {made}",
        invoice_id=invoice.id,
    )
    return quote, invoice, rows


@unit_of_work
def record_quote_viewed(session: Session, *, quote_id: int, by_staff: bool = False) -> Quote:
    """The client opened the quote's public link: keep the first view (staff looking is not the client)."""
    quote = get_or_404(session, Quote, quote_id)
    if by_staff or quote.viewed_at is not None:
        return quote
    quote.viewed_at = utcnow()
    _record(session, Actor.public(), "viewed", quote, "Viewed by the client for the first time")
    return quote
