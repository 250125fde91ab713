"""Invoice use cases (SPEC §5.1, §5.2): drafts, issuing, sending, voiding."""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session, object_session

from shared import money
from shared.db import utcnow
from shared.documents.formatting import format_money
from shared.errors import Conflict, ValidationFailed
from shared.models import Client, Invoice, InvoiceLine, QueuedMessage, Settings
from shared.models.enums import DISCOUNT_TYPES
from shared.numbering import next_number
from shared.services.base import (
    LATEST_DATE,
    Actor,
    FieldErrors,
    Notify,
    clean_text,
    get_or_404,
    get_settings,
    record_activity,
    to_date,
    to_decimal,
    unit_of_work,
)
from shared.services.clients import normalize_currency
from shared.services.notifications import cancel_queued, queue_invoice_messages

MAX_LINES = 500
MAX_QUANTITY = Decimal("1000000")
MAX_UNIT_PRICE = Decimal("1000000000")
MAX_AMOUNT = Decimal("1000000000000")
INVOICE_FIELDS = {
    "client_id",
    "currency",
    "issue_date",
    "due_date",
    "purchase_order",
    "notes",
    "discount",
    "items",
}
ITEM_FIELDS = {"description", "quantity", "unit_price", "tax_rate"}


def new_public_token() -> str:
    """256 random bits, URL-safe: the key to the client's public invoice page."""
    return secrets.token_urlsafe(32)


def _clean_item(item: Any, index: int) -> dict[str, Any]:
    prefix = f"items.{index}"
    if not isinstance(item, dict):
        raise ValidationFailed.one(prefix, "must be an object with description, quantity, unit_price and tax_rate")
    errors = FieldErrors()
    for name in sorted(set(item) - ITEM_FIELDS):
        errors.add(f"{prefix}.{name}", "is not a known field")
    cleaned: dict[str, Any] = {}
    with errors.collect():
        cleaned["description"] = clean_text(
            item.get("description"), f"{prefix}.description", max_length=500, required=True
        )
    for name, low, high, default, strict_low in (
        ("quantity", Decimal(0), MAX_QUANTITY, None, True),
        ("unit_price", Decimal(0), MAX_UNIT_PRICE, None, False),
        ("tax_rate", Decimal(0), Decimal(100), Decimal(0), False),
    ):
        field = f"{prefix}.{name}"
        with errors.collect():
            raw = item.get(name)
            if raw is None or raw == "":
                if default is None:
                    raise ValidationFailed.one(field, "is required")
                raw = default
            value = to_decimal(raw, field, places=4)
            if (value <= low if strict_low else value < low) or value > high:
                if strict_low:
                    raise ValidationFailed.one(field, f"must be more than {low} and at most {high:,}")
                raise ValidationFailed.one(field, f"must be between {low} and {high:,}")
            cleaned[name] = value
    errors.raise_if_any()
    return cleaned


def _clean_discount(raw: Any) -> money.Discount | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ValidationFailed.one("discount", 'must be an object such as {"type": "percent", "value": "10"}')
    errors = FieldErrors()
    for name in sorted(set(raw) - {"type", "value"}):
        errors.add(f"discount.{name}", "is not a known field")
    kind = raw.get("type")
    if kind not in DISCOUNT_TYPES:
        errors.add("discount.type", "must be percent or fixed")
    value = None
    with errors.collect():
        value = to_decimal(raw.get("value", ""), "discount.value", places=4)
        if value < 0:
            raise ValidationFailed.one("discount.value", "must not be negative")
        if kind == "percent" and value > 100:
            raise ValidationFailed.one("discount.value", "must be between 0 and 100 percent")
    errors.raise_if_any()
    if value == 0:
        return None
    return money.Discount(kind=kind, value=value)


def _compute(
    items: list[dict[str, Any]], currency: str, discount: money.Discount | None, tax_rounding: str
) -> money.Totals:
    errors = FieldErrors()
    if discount is not None and discount.kind == "fixed":
        exponent = money.currency_exponent(currency)
        if discount.value != discount.value.quantize(money.quantum(currency)):
            errors.add("discount.value", f"must have at most {exponent} decimals in {currency}")
            errors.raise_if_any()
    lines = [money.LineInput(i["quantity"], i["unit_price"], i["tax_rate"]) for i in items]
    subtotal_check = money.compute_totals(lines, currency, None, tax_rounding)
    if discount is not None and discount.kind == "fixed" and discount.value > subtotal_check.subtotal:
        amount = money.format_amount(subtotal_check.subtotal, currency)
        raise ValidationFailed.one("discount.value", f"a fixed discount cannot exceed the subtotal of {amount}")
    totals = money.compute_totals(lines, currency, discount, tax_rounding)
    for index, line in enumerate(totals.lines):
        if line.amount > MAX_AMOUNT:
            errors.add(f"items.{index}.quantity", "quantity × unit price must be at most 1,000,000,000,000")
    if totals.total > MAX_AMOUNT:
        errors.add("items", "the invoice total must be at most 1,000,000,000,000")
    errors.raise_if_any()
    return totals


def _clean_invoice(session: Session, data: dict[str, Any], invoice: Invoice | None) -> dict[str, Any]:
    """Check a whole draft; ``invoice`` is the draft being edited (partial data)."""
    if not isinstance(data, dict):
        raise ValidationFailed.one("body", "must be an object")
    errors = FieldErrors()
    for name in sorted(set(data) - INVOICE_FIELDS):
        errors.add(name, "is not a known field")
    settings = get_settings(session)
    cleaned: dict[str, Any] = {}

    client = invoice.client if invoice is not None else None
    if "client_id" in data or invoice is None:
        with errors.collect():
            raw = data.get("client_id")
            if raw is None or raw == "":
                raise ValidationFailed.one("client_id", "is required")
            if isinstance(raw, bool) or not isinstance(raw, (int, str)) or not str(raw).isdigit():
                raise ValidationFailed.one("client_id", "must be a client id")
            client = session.get(Client, int(raw))
            if client is None:
                raise ValidationFailed.one("client_id", f"client {raw} does not exist")
            if client.archived_at is not None:
                raise ValidationFailed.one("client_id", f"client {client.name} is archived")
            cleaned["client_id"] = client.id
            cleaned["client"] = client  # a strong reference: the session's identity map is weak

    with errors.collect():
        currency = None
        if "currency" in data:
            currency = normalize_currency(data["currency"], "currency")
        if currency is None:
            currency = invoice.currency if invoice is not None and "currency" not in data else None
        if currency is None:
            currency = (client.default_currency if client is not None else None) or settings.default_currency
        cleaned["currency"] = currency

    today = dt.date.today()
    with errors.collect():
        raw_issue = data.get("issue_date")
        if raw_issue:
            cleaned["issue_date"] = to_date(raw_issue, "issue_date")
        else:
            cleaned["issue_date"] = invoice.issue_date if invoice is not None else today
    with errors.collect():
        raw_due = data.get("due_date")
        if raw_due:
            cleaned["due_date"] = to_date(raw_due, "due_date")
        elif invoice is not None:
            cleaned["due_date"] = invoice.due_date
        elif "issue_date" in cleaned:
            cleaned["due_date"] = cleaned["issue_date"] + dt.timedelta(days=settings.payment_terms_days)
            if cleaned["due_date"] > LATEST_DATE:
                raise ValidationFailed.one(
                    "due_date", f"would be after {LATEST_DATE.isoformat()} with the payment terms; give a due date"
                )
    if "issue_date" in cleaned and "due_date" in cleaned and cleaned["due_date"] < cleaned["issue_date"]:
        errors.add("due_date", "must be on or after the issue date")

    for name, limit in (("purchase_order", 100), ("notes", 5000)):
        if name in data:
            with errors.collect():
                cleaned[name] = clean_text(data[name], name, max_length=limit)

    if "discount" in data:
        with errors.collect():
            cleaned["discount"] = _clean_discount(data["discount"])
    elif invoice is not None and invoice.discount_type:
        cleaned["discount"] = money.Discount(invoice.discount_type, invoice.discount_value)
    else:
        cleaned["discount"] = None

    if "items" in data or invoice is None:
        items = data.get("items")
        if not isinstance(items, list) or not items:
            errors.add("items", "at least one line is required")
        elif len(items) > MAX_LINES:
            errors.add("items", f"at most {MAX_LINES} lines are allowed")
        else:
            cleaned_items = []
            for index, item in enumerate(items):
                with errors.collect():
                    cleaned_items.append(_clean_item(item, index))
            cleaned["items"] = cleaned_items
    else:
        cleaned["items"] = [
            {
                "description": line.description,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "tax_rate": line.tax_rate,
            }
            for line in invoice.lines
        ]
    errors.raise_if_any()
    tax_rounding = invoice.tax_rounding if invoice is not None else settings.tax_rounding
    cleaned["totals"] = _compute(cleaned["items"], cleaned["currency"], cleaned["discount"], tax_rounding)
    cleaned["tax_rounding"] = tax_rounding
    cleaned["settings"] = settings
    return cleaned


def _apply(invoice: Invoice, cleaned: dict[str, Any]) -> None:
    for name in ("client_id", "currency", "issue_date", "due_date", "purchase_order", "notes", "tax_rounding"):
        if name in cleaned:
            setattr(invoice, name, cleaned[name])
    discount: money.Discount | None = cleaned["discount"]
    invoice.discount_type = discount.kind if discount else None
    invoice.discount_value = discount.value if discount else None
    totals: money.Totals = cleaned["totals"]
    invoice.subtotal = totals.subtotal
    invoice.discount_total = totals.discount_total
    invoice.tax_total = totals.tax_total
    invoice.total = totals.total
    if invoice.lines:
        invoice.lines.clear()
        # Delete the old lines before inserting new ones at the same positions.
        object_session(invoice).flush()
    for position, (item, line) in enumerate(zip(cleaned["items"], totals.lines, strict=True), start=1):
        invoice.lines.append(
            InvoiceLine(
                position=position,
                description=item["description"],
                quantity=item["quantity"],
                unit_price=item["unit_price"],
                tax_rate=item["tax_rate"],
                amount=line.amount,
                discount=line.discount,
                tax=line.tax,
            )
        )


def _draft_or_conflict(session: Session, invoice_id: int) -> Invoice:
    invoice = get_or_404(session, Invoice, invoice_id, lock=True)
    if invoice.status != "draft":
        raise Conflict(
            f"invoice {invoice.number} is {invoice.status.replace('_', ' ')}; an issued invoice cannot be changed, void it instead"
        )
    return invoice


@unit_of_work
def create_draft(session: Session, *, actor: Actor, data: dict[str, Any]) -> Invoice:
    """Save a new draft: no number yet, freely editable and deletable."""
    invoice, _ = create_invoice(session, actor=actor, data=data)
    return invoice


@unit_of_work
def create_invoice(
    session: Session, *, actor: Actor, data: dict[str, Any], issue: bool = False, notify: Notify = Notify()
) -> tuple[Invoice, list[QueuedMessage]]:
    """Save a new invoice and, with ``issue``, issue it and queue it in the same transaction.

    One transaction instead of a draft commit and an issue commit: a failure
    while issuing leaves no draft behind, and the number is taken in the
    transaction that writes the invoice, so a rollback returns it (no gap).
    An issued invoice is inserted already numbered, never as a draft first;
    its timeline still reads "created" then "issued".
    """
    cleaned = _clean_invoice(session, data, None)
    invoice = Invoice(status="draft", public_token=new_public_token(), created_by=actor.label[:200])
    invoice.client = cleaned["client"]
    session.add(invoice)
    _apply(invoice, cleaned)
    if issue:
        _number_and_freeze(session, actor, invoice, settings=cleaned["settings"])
    session.flush()
    record_activity(
        session,
        actor,
        "created",
        invoice,
        invoice_id=invoice.id,
        client_id=invoice.client_id,
        summary=f"Draft created for {format_money(invoice.total, invoice.currency)}",
    )
    if not issue:
        return invoice, []
    return invoice, _record_issue(session, actor, invoice, notify)


@unit_of_work
def update_draft(session: Session, *, actor: Actor, invoice_id: int, data: dict[str, Any]) -> Invoice:
    invoice = _draft_or_conflict(session, invoice_id)
    cleaned = _clean_invoice(session, data, invoice)
    before = format_money(invoice.total, invoice.currency)
    _apply(invoice, cleaned)
    after = format_money(invoice.total, invoice.currency)
    summary = "Draft edited" + (f"; total {before} → {after}" if before != after else "")
    record_activity(
        session, actor, "edited", invoice, invoice_id=invoice.id, client_id=invoice.client_id, summary=summary
    )
    return invoice


@unit_of_work
def delete_draft(session: Session, *, actor: Actor, invoice_id: int) -> None:
    invoice = _draft_or_conflict(session, invoice_id)
    record_activity(
        session,
        actor,
        "deleted",
        invoice,
        client_id=invoice.client_id,
        summary=f"Draft of {format_money(invoice.total, invoice.currency)} deleted",
    )
    session.delete(invoice)


@unit_of_work
def issue_invoice(
    session: Session, *, actor: Actor, invoice_id: int, notify: Notify = Notify()
) -> tuple[Invoice, list[QueuedMessage]]:
    """Give a draft its number and freeze it; optionally queue it to the client."""
    invoice = _draft_or_conflict(session, invoice_id)
    _number_and_freeze(session, actor, invoice)
    return invoice, _record_issue(session, actor, invoice, notify)


def _number_and_freeze(session: Session, actor: Actor, invoice: Invoice, *, settings: Settings | None = None) -> None:
    """Check a draft can be issued, take its gapless number and freeze its client details."""
    client = invoice.client
    if client.archived_at is not None:
        raise Conflict(f"client {client.name} is archived; restore the client before issuing")
    if not invoice.lines:
        raise Conflict("an invoice needs at least one line before it is issued")
    settings = settings or get_settings(session)
    # A new invoice must not be flushed here as a draft: it is inserted once, numbered.
    with session.no_autoflush:
        invoice.number = next_number(session, "invoice", invoice.issue_date.year, settings.invoice_number_format)
    invoice.status = "open" if invoice.total > 0 else "paid"
    invoice.client_snapshot = client.snapshot()
    invoice.issued_at = utcnow()
    invoice.issued_by = actor.label[:200]


def _record_issue(session: Session, actor: Actor, invoice: Invoice, notify: Notify) -> list[QueuedMessage]:
    """The issued invoice's activity entry and, if asked, its queue rows."""
    total = format_money(invoice.total, invoice.currency)
    record_activity(
        session,
        actor,
        "issued",
        invoice,
        invoice_id=invoice.id,
        client_id=invoice.client_id,
        summary=f"Issued as {invoice.number} for {total}",
    )
    return queue_invoice_messages(session, invoice, notify, actor=actor) if notify else []


@unit_of_work
def send_invoice(session: Session, *, actor: Actor, invoice_id: int, notify: Notify) -> list[QueuedMessage]:
    """Queue an issued invoice to its client again (send or resend)."""
    invoice = get_or_404(session, Invoice, invoice_id, lock=True)
    if invoice.status == "draft":
        raise Conflict("this invoice is a draft; issue it before sending")
    if invoice.status == "void":
        raise Conflict(f"invoice {invoice.number} is void and cannot be sent")
    if not notify:
        raise ValidationFailed.one("notify", "choose e-mail, SMS or both")
    messages = queue_invoice_messages(session, invoice, notify, actor=actor)
    record_activity(
        session,
        actor,
        "send_requested",
        invoice,
        invoice_id=invoice.id,
        client_id=invoice.client_id,
        summary="Queued by " + " and ".join(f"{m.channel} to {m.recipient}" for m in messages),
    )
    return messages


@unit_of_work
def void_invoice(session: Session, *, actor: Actor, invoice_id: int, reason: str = "") -> Invoice:
    """Void an issued invoice that has no live payment; its number stays used."""
    invoice = get_or_404(session, Invoice, invoice_id, lock=True)
    reason = clean_text(reason, "reason", max_length=500)
    if invoice.status == "draft":
        raise Conflict("a draft has no number to void; delete the draft instead")
    if invoice.status == "void":
        raise Conflict(f"invoice {invoice.number} is already void")
    if invoice.amount_paid > 0 or any(not p.is_void for p in invoice.payments):
        raise Conflict(f"invoice {invoice.number} has payments; void its payments before voiding the invoice")
    invoice.status = "void"
    invoice.voided_at = utcnow()
    invoice.void_reason = reason
    cancelled = cancel_queued(session, invoice.id, ("invoice", "reminder"), "invoice voided")
    summary = f"Voided{': ' + reason if reason else ''}"
    if cancelled:
        summary += f"; {cancelled} queued message{'s' if cancelled != 1 else ''} cancelled"
    record_activity(
        session, actor, "voided", invoice, invoice_id=invoice.id, client_id=invoice.client_id, summary=summary
    )
    return invoice


@unit_of_work
def record_invoice_viewed(session: Session, *, invoice_id: int) -> Invoice:
    """The client opened the public link: keep the first and log each day's view."""
    invoice = get_or_404(session, Invoice, invoice_id)
    now = utcnow()
    first = invoice.viewed_at is None
    if first:
        invoice.viewed_at = now
    record_activity(
        session,
        Actor.public(),
        "viewed",
        invoice,
        invoice_id=invoice.id,
        client_id=invoice.client_id,
        summary="Viewed by the client" + (" for the first time" if first else ""),
    )
    return invoice
