"""Invoice use cases (SPEC §5.1, §5.2): drafts, issuing, sending, voiding."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session, object_session

from shared import limits, money
from shared.activity import record_activity
from shared.actors import Actor, Notify
from shared.db import parse_id, utcnow
from shared.documents.formatting import format_money
from shared.einvoice.units import UNIT_CODES
from shared.errors import Conflict, ValidationFailed
from shared.inputs import DiscountInput, InvoiceChanges, InvoiceDraft, ItemInput, given
from shared.lookups import get_or_404, get_settings, get_with_settings
from shared.messages.queue import cancel_queued, queue_invoice_messages
from shared.models import Client, Invoice, InvoiceLine, QueuedMessage, Settings
from shared.models.enums import (
    DEFAULT_UNIT,
    DISCOUNT_TYPES,
    TAX_CATEGORIES,
    InvoiceStatus,
    TaxCategory,
    WebhookEventType,
)
from shared.models.persist import insert_new
from shared.numbering import number_at_commit
from shared.parsing import LATEST_DATE, FieldErrors, clean_text, to_date, to_decimal
from shared.representations import invoice_snapshot
from shared.services.clients import normalize_currency
from shared.transactions import unit_of_work
from shared.webhooks.events import emit_event


def new_public_token() -> str:
    """256 random bits, URL-safe: the key to the client's public invoice page."""
    return secrets.token_urlsafe(32)


def _clean_item(item: ItemInput | Any, index: int) -> dict[str, Any]:
    prefix = f"items.{index}"
    if not isinstance(item, ItemInput):
        raise ValidationFailed.one(prefix, "must be an object with description, quantity, unit_price and tax_rate")
    errors = FieldErrors()
    cleaned: dict[str, Any] = {}
    with errors.collect():
        cleaned["description"] = clean_text(
            item.description, f"{prefix}.description", max_length=limits.LINE_DESCRIPTION, required=True
        )
    for name, low, high, default, strict_low in (
        ("quantity", Decimal(0), limits.MAX_QUANTITY, None, True),
        ("unit_price", Decimal(0), limits.MAX_UNIT_PRICE, None, False),
        ("tax_rate", Decimal(0), limits.MAX_TAX_RATE, Decimal(0), False),
    ):
        field = f"{prefix}.{name}"
        with errors.collect():
            raw = getattr(item, name)
            if raw is None or raw == "":
                if default is None:
                    raise ValidationFailed.one(field, "is required")
                raw = default
            value = to_decimal(raw, field, places=limits.DECIMAL_PLACES)
            if (value <= low if strict_low else value < low) or value > high:
                if strict_low:
                    raise ValidationFailed.one(field, f"must be more than {low} and at most {high:,}")
                raise ValidationFailed.one(field, f"must be between {low} and {high:,}")
            cleaned[name] = value
    errors.raise_if_any()
    cleaned.update(_clean_einvoice_fields(item, prefix, cleaned["tax_rate"]))
    return cleaned


def _clean_einvoice_fields(item: ItemInput, prefix: str, rate: Decimal) -> dict[str, Any]:
    """A line's unit, VAT category and exemption reason (SPEC §16), checked as EN 16931 will check them."""
    errors = FieldErrors()
    cleaned: dict[str, Any] = {}
    with errors.collect():
        unit = clean_text(item.unit, f"{prefix}.unit", max_length=limits.UNIT_CODE).upper() or DEFAULT_UNIT
        if unit not in UNIT_CODES:
            raise ValidationFailed.one(
                f"{prefix}.unit",
                "must be a UN/ECE Recommendation 20 unit code, such as C62 (one), HUR (hour) or KGM (kilogram)",
            )
        cleaned["unit"] = unit
    category = TaxCategory.default_for(rate)
    with errors.collect():
        raw = clean_text(item.tax_category, f"{prefix}.tax_category", max_length=2)
        if raw:
            if raw not in TAX_CATEGORIES:
                raise ValidationFailed.one(f"{prefix}.tax_category", f"must be one of {', '.join(TAX_CATEGORIES)}")
            category = TaxCategory(raw)
        if category.has_rate and rate <= 0:
            raise ValidationFailed.one(f"{prefix}.tax_category", "S (standard rate) needs a tax rate above 0")
        if not category.has_rate and rate != 0:
            raise ValidationFailed.one(
                f"{prefix}.tax_category", f"{category} charges no tax: its tax rate must be 0 (use S for a taxed line)"
            )
    cleaned["tax_category"] = category
    with errors.collect():
        reason = clean_text(
            item.tax_exemption_reason, f"{prefix}.tax_exemption_reason", max_length=limits.TAX_EXEMPTION_REASON
        )
        if category.needs_exemption_reason and not reason:
            raise ValidationFailed.one(
                f"{prefix}.tax_exemption_reason", f"is required for tax category {category} (why no VAT is charged)"
            )
        if reason and not category.needs_exemption_reason:
            raise ValidationFailed.one(
                f"{prefix}.tax_exemption_reason",
                "is only for tax categories E, AE, K and G (EN 16931 BR-S-10, BR-Z-10)",
            )
        cleaned["tax_exemption_reason"] = reason
    errors.raise_if_any()
    return cleaned


def _clean_discount(raw: DiscountInput | Any) -> money.Discount | None:
    if raw is None:
        return None
    if not isinstance(raw, DiscountInput):
        raise ValidationFailed.one("discount", 'must be an object such as {"type": "percent", "value": "10"}')
    errors = FieldErrors()
    kind = raw.type
    if kind not in DISCOUNT_TYPES:
        errors.add("discount.type", "must be percent or fixed")
    value = None
    with errors.collect():
        value = to_decimal(raw.value, "discount.value", places=limits.DECIMAL_PLACES)
        if value < 0:
            raise ValidationFailed.one("discount.value", "must not be negative")
        if kind == "percent" and value > limits.MAX_DISCOUNT_PERCENT:
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
    if discount is not None and discount.kind == "fixed":
        subtotal = money.compute_totals(lines, currency, None, tax_rounding).subtotal
        if discount.value > subtotal:
            amount = money.format_amount(subtotal, currency)
            raise ValidationFailed.one("discount.value", f"a fixed discount cannot exceed the subtotal of {amount}")
    totals = money.compute_totals(lines, currency, discount, tax_rounding)
    for index, line in enumerate(totals.lines):
        if line.amount > limits.MAX_AMOUNT:
            errors.add(f"items.{index}.quantity", f"quantity × unit price must be at most {limits.MAX_AMOUNT:,}")
    if totals.total > limits.MAX_AMOUNT:
        errors.add("items", f"the invoice total must be at most {limits.MAX_AMOUNT:,}")
    errors.raise_if_any()
    return totals


def _clean_client(session: Session, raw: Any) -> Client:
    return _clean_client_and_settings(session, raw)[0]


def _clean_client_and_settings(session: Session, raw: Any) -> tuple[Client, Settings]:
    """The client named by ``raw`` (if it can be billed) and the settings row, read together."""
    if raw is None or raw == "":
        raise ValidationFailed.one("client_id", "is required")
    if isinstance(raw, bool) or not isinstance(raw, (int, str)) or not str(raw).isdigit():
        raise ValidationFailed.one("client_id", "must be a client id")
    # An id past the INTEGER range names no client (and would overflow the database's parameter).
    client_id = parse_id(str(raw))
    client, settings = get_with_settings(session, Client, client_id) if client_id is not None else (None, None)
    if client is None:
        raise ValidationFailed.one("client_id", f"client {raw} does not exist")
    if client.archived_at is not None:
        raise ValidationFailed.one("client_id", f"client {client.name} is archived")
    return client, settings


def clean_items(raw: Any, errors: FieldErrors) -> list[dict[str, Any]] | None:
    """Check lines against SPEC §5.1's bounds (invoice lines and credit-note items alike), each under its path."""
    if not isinstance(raw, (list, tuple)) or not raw:
        errors.add("items", "at least one line is required")
        return None
    if len(raw) > limits.MAX_LINES:
        errors.add("items", f"at most {limits.MAX_LINES} lines are allowed")
        return None
    items = []
    for index, item in enumerate(raw):
        with errors.collect():
            items.append(_clean_item(item, index))
    return items


def _default_currency(client: Client | None, settings: Settings) -> str:
    return (client.default_currency if client is not None else None) or settings.default_currency


def _check_dates(cleaned: dict[str, Any], errors: FieldErrors) -> None:
    if "issue_date" in cleaned and "due_date" in cleaned and cleaned["due_date"] < cleaned["issue_date"]:
        errors.add("due_date", "must be on or after the issue date")


def _clean_texts(values: dict[str, Any], cleaned: dict[str, Any], errors: FieldErrors) -> None:
    for name, limit in (("purchase_order", limits.PURCHASE_ORDER), ("notes", limits.INVOICE_NOTES)):
        if name in values:
            with errors.collect():
                cleaned[name] = clean_text(values[name], name, max_length=limit)


def _finish(cleaned: dict[str, Any], errors: FieldErrors, tax_rounding: str, settings: Settings) -> dict[str, Any]:
    errors.raise_if_any()
    cleaned["totals"] = _compute(cleaned["items"], cleaned["currency"], cleaned["discount"], tax_rounding)
    cleaned["tax_rounding"] = tax_rounding
    cleaned["settings"] = settings
    return cleaned


def _clean_draft(session: Session, draft: InvoiceDraft) -> dict[str, Any]:
    """Check a new invoice: every field, with the defaults of SPEC §7."""
    errors = FieldErrors()
    cleaned: dict[str, Any] = {}
    client = settings = None
    with errors.collect():
        client, settings = _clean_client_and_settings(session, draft.client_id)  # one round trip
        cleaned["client_id"] = client.id
        cleaned["client"] = client  # a strong reference: the session's identity map is weak
    settings = settings or get_settings(session)
    with errors.collect():
        cleaned["currency"] = normalize_currency(draft.currency, "currency") or _default_currency(client, settings)
    with errors.collect():
        cleaned["issue_date"] = to_date(draft.issue_date, "issue_date") if draft.issue_date else dt.date.today()
    with errors.collect():
        if draft.due_date:
            cleaned["due_date"] = to_date(draft.due_date, "due_date")
        elif "issue_date" in cleaned:
            cleaned["due_date"] = cleaned["issue_date"] + dt.timedelta(days=settings.payment_terms_days)
            if cleaned["due_date"] > LATEST_DATE:
                raise ValidationFailed.one(
                    "due_date", f"would be after {LATEST_DATE.isoformat()} with the payment terms; give a due date"
                )
    _check_dates(cleaned, errors)
    _clean_texts({"purchase_order": draft.purchase_order, "notes": draft.notes}, cleaned, errors)
    with errors.collect():
        cleaned["discount"] = _clean_discount(draft.discount)
    cleaned["items"] = clean_items(draft.items, errors)
    return _finish(cleaned, errors, settings.tax_rounding, settings)


def _clean_changes(session: Session, changes: InvoiceChanges, invoice: Invoice) -> dict[str, Any]:
    """Check changes to a draft; a field not given keeps the draft's value."""
    errors = FieldErrors()
    settings = get_settings(session)
    cleaned = clean_document_changes(
        session, given(changes), invoice, settings, errors, last_date="due_date", check_dates=_check_dates
    )
    return _finish(cleaned, errors, invoice.tax_rounding, settings)


def clean_document_changes(
    session: Session,
    values: dict[str, Any],
    document: Any,
    settings: Settings,
    errors: FieldErrors,
    *,
    last_date: str,
    check_dates: Callable[[dict[str, Any], FieldErrors], None],
) -> dict[str, Any]:
    """A partial change to a draft invoice or quote: each field checked, a field not given keeps the document's value.

    ``last_date`` is the document's second date (an invoice's ``due_date``, a
    quote's ``valid_until``), which ``check_dates`` compares with the issue date.
    """
    cleaned: dict[str, Any] = {}
    client = document.client
    if "client_id" in values:
        with errors.collect():
            client = _clean_client(session, values["client_id"])
            cleaned["client_id"] = client.id
            cleaned["client"] = client
    with errors.collect():
        if "currency" in values:
            cleaned["currency"] = normalize_currency(values["currency"], "currency") or _default_currency(
                client, settings
            )
        else:
            cleaned["currency"] = document.currency
    for name in ("issue_date", last_date):
        with errors.collect():
            raw = values.get(name)
            cleaned[name] = to_date(raw, name) if raw else getattr(document, name)
    check_dates(cleaned, errors)
    _clean_texts(values, cleaned, errors)
    if "discount" in values:
        with errors.collect():
            cleaned["discount"] = _clean_discount(values["discount"])
    elif document.discount_type:
        cleaned["discount"] = money.Discount(document.discount_type, document.discount_value)
    else:
        cleaned["discount"] = None
    cleaned["items"] = clean_items(values["items"], errors) if "items" in values else items_of(document.lines)
    return cleaned


def items_of(lines: Any) -> list[dict[str, Any]]:
    """A document's lines as the checked items they were made from (to keep them through a change)."""
    return [
        {
            "description": line.description,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "tax_rate": line.tax_rate,
            "unit": line.unit,
            "tax_category": line.tax_category,
            "tax_exemption_reason": line.tax_exemption_reason,
        }
        for line in lines
    ]


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
    invoice.lines.extend(InvoiceLine.made_from(cleaned["items"], totals))


def _draft_or_conflict(session: Session, invoice_id: int) -> Invoice:
    invoice = get_or_404(session, Invoice, invoice_id, lock=True)
    if not invoice.can_edit:
        raise Conflict(
            f"invoice {invoice.number} is {invoice.status.replace('_', ' ')}; an issued invoice cannot be changed, void it instead"
        )
    return invoice


def preview_totals(session: Session, *, data: InvoiceDraft) -> money.Totals:
    """The §5.1 figures of lines as they are being typed, before anything is saved (the editor's live totals).

    The same checks and the same ``compute_totals`` call as saving, so what the
    editor shows is what the draft will hold; nothing is written. The client is
    needed only for its default currency: one not chosen yet (or not found)
    means the company's. Raises ``ValidationFailed`` for lines that cannot be
    totalled yet, under the API's field paths.
    """
    errors = FieldErrors()
    settings = get_settings(session)
    client = None
    if data.client_id not in (None, ""):
        try:
            client = _clean_client(session, data.client_id)
        except ValidationFailed:
            client = None
    currency = None
    with errors.collect():
        currency = normalize_currency(data.currency, "currency") or _default_currency(client, settings)
    discount = None
    with errors.collect():
        discount = _clean_discount(data.discount)
    items = clean_items(data.items, errors)
    errors.raise_if_any()
    return _compute(items, currency, discount, settings.tax_rounding)


@unit_of_work
def create_draft(session: Session, *, actor: Actor, data: InvoiceDraft) -> Invoice:
    """Save a new draft: no number yet, freely editable and deletable."""
    invoice, _ = create_invoice(session, actor=actor, data=data)
    return invoice


@unit_of_work
def create_invoice(
    session: Session,
    *,
    actor: Actor,
    data: InvoiceDraft,
    issue: bool = False,
    notify: Notify = Notify(),
) -> tuple[Invoice, list[QueuedMessage]]:
    """Save a new invoice and, with ``issue``, issue it and queue it in the same transaction.

    One transaction instead of a draft commit and an issue commit: a failure
    while issuing leaves no draft behind, and the number is taken in the
    transaction that writes the invoice, so a rollback returns it (no gap).
    An issued invoice is inserted already numbered, never as a draft first;
    its timeline still reads "created" then "issued".
    """
    cleaned = _clean_draft(session, data)
    invoice = Invoice(status=InvoiceStatus.DRAFT, public_token=new_public_token(), created_by=actor.label[:200])
    invoice.client = cleaned["client"]
    _apply(invoice, cleaned)
    if issue:
        _number_and_freeze(session, actor, invoice, settings=cleaned["settings"])
    insert_new(session, [invoice, *invoice.lines])  # written once: past the unit of work (SPEC §17)
    record_activity(
        session,
        actor,
        "created",
        invoice,
        invoice_id=invoice.id,
        client_id=invoice.client_id,
        summary=f"Draft created for {format_money(invoice.total, invoice.currency)}",
    )
    emit_event(session, WebhookEventType.INVOICE_CREATED, lambda: invoice_snapshot(session, invoice))
    if not issue:
        return invoice, []
    return invoice, _record_issue(session, actor, invoice, notify)


@unit_of_work
def update_draft(session: Session, *, actor: Actor, invoice_id: int, data: InvoiceChanges) -> Invoice:
    """Change a draft; only the fields given in ``data`` change."""
    invoice = _draft_or_conflict(session, invoice_id)
    cleaned = _clean_changes(session, data, invoice)
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
    # A new invoice must not be flushed here as a draft: it is inserted once, numbered (provisionally
    # until the commit takes the real number: the counter's lock is held for the commit only).
    with session.no_autoflush:
        number_at_commit(session, invoice, "invoice", invoice.issue_date.year, settings.invoice_number_format)
    invoice.status = InvoiceStatus.OPEN if invoice.total > 0 else InvoiceStatus.PAID
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
        summary=lambda: f"Issued as {invoice.number} for {total}",  # the number is taken at commit
    )
    messages = queue_invoice_messages(session, invoice, notify, actor=actor) if notify else []
    emit_event(session, WebhookEventType.INVOICE_ISSUED, lambda: invoice_snapshot(session, invoice))
    if invoice.is_paid:  # a total of 0 is paid the moment it is issued
        emit_event(session, WebhookEventType.INVOICE_PAID, lambda: invoice_snapshot(session, invoice))
    return messages


@unit_of_work
def send_invoice(session: Session, *, actor: Actor, invoice_id: int, notify: Notify) -> list[QueuedMessage]:
    """Queue an issued invoice to its client again (send or resend)."""
    invoice = get_or_404(session, Invoice, invoice_id, lock=True)
    if invoice.is_draft:
        raise Conflict("this invoice is a draft; issue it before sending")
    if invoice.is_void:
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
    reason = clean_text(reason, "reason", max_length=limits.VOID_REASON)
    if invoice.is_draft:
        raise Conflict("a draft has no number to void; delete the draft instead")
    if invoice.is_void:
        raise Conflict(f"invoice {invoice.number} is already void")
    if invoice.has_live_payment:
        raise Conflict(f"invoice {invoice.number} has payments; void its payments before voiding the invoice")
    if invoice.has_credit_note:
        raise Conflict(f"invoice {invoice.number} has a credit note; it cannot be voided")
    if not invoice.can_void:
        raise Conflict(
            f"invoice {invoice.number} is {invoice.status.replace('_', ' ')}; only an open invoice is voided"
        )
    invoice.status = InvoiceStatus.VOID
    invoice.voided_at = utcnow()
    invoice.void_reason = reason
    cancelled = cancel_queued(session, invoice.id, ("invoice", "reminder"), "invoice voided")
    summary = f"Voided{': ' + reason if reason else ''}"
    if cancelled:
        summary += f"; {cancelled} queued message{'s' if cancelled != 1 else ''} cancelled"
    record_activity(
        session, actor, "voided", invoice, invoice_id=invoice.id, client_id=invoice.client_id, summary=summary
    )
    emit_event(session, WebhookEventType.INVOICE_VOIDED, lambda: invoice_snapshot(session, invoice))
    return invoice


@unit_of_work
def record_invoice_viewed(session: Session, *, invoice_id: int, by_staff: bool = False) -> Invoice:
    """The client opened the public link: keep the first and log each view.

    Staff signed in to the admin opening the link is not the client viewing it
    (SPEC §5.6): nothing is recorded then.
    """
    invoice = get_or_404(session, Invoice, invoice_id)
    if by_staff:
        return invoice
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
