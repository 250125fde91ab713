"""Credit notes, client credit and refunds (SPEC §11): correcting an issued invoice.

Locks, always in this order: the invoice row (``get_or_404(..., lock=True)``),
then the gapless-number counter, then the client's credit row for the
currency (:func:`_locked_credit`). Recording a payment takes the invoice row
first too, so credit notes, applications, refunds and payments on the same
invoice or the same credit are decided one after the other on Postgres, and
SQLite's single writer does the same: an invoice is never credited past its
total and client credit never goes below 0.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, type_coerce
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shared import limits, money
from shared.activity import record_activity
from shared.actors import Actor, Notify
from shared.db import Fixed4
from shared.documents.formatting import format_money, format_money_code
from shared.errors import Conflict, ValidationFailed
from shared.inputs import ApplyCreditInput, CreditNoteInput, RefundInput
from shared.lookups import get_or_404, get_settings
from shared.messages.queue import cancel_queued, queue_credit_note_messages
from shared.models import (
    Client,
    ClientCredit,
    CreditMovement,
    CreditNote,
    CreditNoteItem,
    Invoice,
    QueuedMessage,
    Refund,
)
from shared.models.enums import CREDIT_INCREASING_KINDS, PAYMENT_METHODS, CreditMovementKind, WebhookEventType
from shared.numbering import next_number
from shared.parsing import FieldErrors, clean_text, to_date, to_decimal
from shared.representations import credit_note_snapshot, invoice_snapshot
from shared.services.clients import normalize_currency
from shared.services.invoices import clean_items
from shared.transactions import unit_of_work
from shared.webhooks.events import emit_event

ZERO = Decimal(0)


# ---------------------------------------------------------------- the client credit ledger


def _locked_credit(session: Session, client_id: int, currency: str) -> ClientCredit:
    """The client's credit row for ``currency``, created at 0 if new, locked until the transaction ends."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(ClientCredit)
        .values(client_id=client_id, currency=currency, balance=ZERO)
        .on_conflict_do_nothing(index_elements=["client_id", "currency"])
    )
    return session.get(
        ClientCredit, (client_id, currency), with_for_update={"of": ClientCredit}, populate_existing=True
    )


def _move_credit(
    session: Session,
    actor: Actor,
    *,
    client_id: int,
    currency: str,
    kind: CreditMovementKind,
    amount: Decimal,
    occurred_on: dt.date,
    **links: Any,
) -> CreditMovement:
    """Add one movement to the ledger and to the locked balance; never below 0."""
    credit = _locked_credit(session, client_id, currency)
    signed = amount if kind in CREDIT_INCREASING_KINDS else -amount
    if credit.balance + signed < 0:
        raise Conflict(
            f"{format_money_code(amount, currency)} is more than the client's credit of "
            f"{format_money_code(credit.balance, currency)}",
            field="amount",
        )
    credit.balance = credit.balance + signed
    movement = CreditMovement(
        client_id=client_id,
        currency=currency,
        kind=kind,
        amount=amount,
        occurred_on=occurred_on,
        recorded_by=actor.label[:200],
        **links,
    )
    session.add(movement)
    session.flush()
    return movement


def client_credit_balances(session: Session, client_id: int) -> list[ClientCredit]:
    """The client's credit per currency, only currencies with credit > 0 (SPEC §11), by currency."""
    return list(
        session.scalars(
            select(ClientCredit)
            .where(ClientCredit.client_id == client_id, ClientCredit.balance > 0)
            .order_by(ClientCredit.currency)
        )
    )


def client_credit_in(session: Session, client_id: int, currency: str) -> Decimal:
    """The client's credit in one currency now (0 if none), not locked: for display."""
    balance = session.scalar(
        select(ClientCredit.balance).where(ClientCredit.client_id == client_id, ClientCredit.currency == currency)
    )
    return money.round_money(balance or ZERO, currency)


def _amount(raw: Any, currency: str, field: str = "amount") -> Decimal:
    amount = to_decimal(raw, field, places=limits.DECIMAL_PLACES)
    if amount != amount.quantize(money.quantum(currency)):
        raise ValidationFailed.one(
            field, f"must have at most {money.currency_exponent(currency)} decimals in {currency}"
        )
    if amount <= 0:
        raise ValidationFailed.one(field, "must be more than 0")
    if amount > limits.MAX_AMOUNT:
        raise ValidationFailed.one(field, f"must be at most {limits.MAX_AMOUNT:,}")
    return amount


def _day(raw: Any, field: str, today: dt.date, *, not_before: dt.date | None = None, what: str = "") -> dt.date:
    day = today if raw in (None, "") else to_date(raw, field)
    if day > today:
        raise ValidationFailed.one(field, "cannot be in the future")
    if not_before is not None and day < not_before:
        raise ValidationFailed.one(field, f"cannot be before {what} ({not_before.isoformat()})")
    return day


# ---------------------------------------------------------------- credit notes


def credited_so_far(session: Session, invoice_id: int) -> Decimal:
    """The totals of an invoice's credit notes added up, read from the database (under the invoice's lock)."""
    total = session.scalar(
        select(type_coerce(func.sum(CreditNote.total), Fixed4())).where(CreditNote.invoice_id == invoice_id)
    )
    return total or ZERO


def _full_items(invoice: Invoice) -> list[dict[str, Any]]:
    """SPEC §11: one item per invoice line, quantity 1, unit price ``b_i``, the line's rate and description."""
    return [
        {
            "description": line.description,
            "quantity": Decimal(1),
            "unit_price": line.amount - line.discount,
            "tax_rate": line.tax_rate,
            # SPEC §16: a full credit note copies the lines' unit, VAT category and exemption reason.
            "unit": line.unit,
            "tax_category": line.tax_category,
            "tax_exemption_reason": line.tax_exemption_reason,
        }
        for line in invoice.lines
    ]


def credit_note_totals(invoice: Invoice, items: list[dict[str, Any]]) -> money.Totals:
    """§5.1 with no discount, in the invoice's frozen rounding mode: the one calculation of a credit note."""
    lines = [money.LineInput(i["quantity"], i["unit_price"], i["tax_rate"]) for i in items]
    return money.compute_totals(lines, invoice.currency, None, invoice.tax_rounding)


def _clean_credit_note(
    session: Session, invoice: Invoice, data: CreditNoteInput, today: dt.date
) -> tuple[str, dt.date, bool, list[dict[str, Any]] | None]:
    errors = FieldErrors()
    reason = ""
    with errors.collect():
        reason = clean_text(data.reason, "reason", max_length=limits.CREDIT_NOTE_REASON, required=True)
    issue_date = today
    with errors.collect():
        issue_date = _day(
            data.issue_date, "issue_date", today, not_before=invoice.issue_date, what="the invoice's issue date"
        )
    full = data.full
    if full not in (None, True, False):
        errors.add("full", "must be true or false")
        full = None
    items = None
    if full and data.items is not None:
        errors.add("items", 'give either "full": true or items, not both')
    elif not full:
        if data.items is None:
            errors.add("items", 'give the items to credit, or "full": true for the whole invoice')
        else:
            items = clean_items(data.items, errors)
    errors.raise_if_any()
    return reason, issue_date, bool(full), items


def preview_credit_note(session: Session, *, invoice_id: int, data: CreditNoteInput) -> money.Totals:
    """The figures a credit note would have, before confirming (the admin's review step); nothing is written."""
    invoice = get_or_404(session, Invoice, invoice_id)
    _reason, _day_, full, items = _clean_credit_note(session, invoice, data, dt.date.today())
    totals = credit_note_totals(invoice, _full_items(invoice) if full else items)
    creditable = invoice.creditable_amount
    if totals.total > creditable:
        raise Conflict(
            f"the credit note of {format_money_code(totals.total, invoice.currency)} is more than the "
            f"{format_money_code(creditable, invoice.currency)} still creditable on invoice {invoice.number}"
        )
    return totals


@unit_of_work
def issue_credit_note(
    session: Session,
    *,
    actor: Actor,
    invoice_id: int,
    data: CreditNoteInput,
    notify: Notify = Notify(),
    today: dt.date | None = None,
) -> tuple[CreditNote, list[QueuedMessage]]:
    """Issue a credit note on an invoice: it settles what is still owed and the rest becomes client credit.

    Checked under the invoice's row lock, so credit notes posted at the same
    moment are decided one after the other and never add up past the total.
    """
    today = today or dt.date.today()
    invoice = get_or_404(session, Invoice, invoice_id, lock=True)
    if invoice.is_draft:
        raise Conflict("this invoice is a draft; edit or delete it instead of crediting it")
    if invoice.is_void:
        raise Conflict(f"invoice {invoice.number} is void; there is nothing to credit")
    reason, issue_date, full, items = _clean_credit_note(session, invoice, data, today)
    currency = invoice.currency
    if invoice.total <= 0:
        raise Conflict(f"invoice {invoice.number} has a total of 0; there is nothing to credit")
    already = credited_so_far(session, invoice.id)
    if full:
        if already > 0:
            raise Conflict(
                f"invoice {invoice.number} already has a credit note; credit the "
                f"{format_money_code(invoice.total - already, currency)} still creditable by items"
            )
        items = _full_items(invoice)
    totals = credit_note_totals(invoice, items)
    errors = FieldErrors()
    if not full:
        for index, line in enumerate(totals.lines):
            if line.amount > limits.MAX_AMOUNT:
                errors.add(f"items.{index}.quantity", f"quantity × unit price must be at most {limits.MAX_AMOUNT:,}")
    errors.raise_if_any()
    if totals.total <= 0:
        raise ValidationFailed.one("items", "a credit note must credit more than 0")
    creditable = money.round_money(invoice.total - already, currency)
    if totals.total > creditable:
        raise Conflict(
            f"the credit note of {format_money_code(totals.total, currency)} is more than the "
            f"{format_money_code(creditable, currency)} still creditable on invoice {invoice.number}",
            field="items",
        )

    applied = min(totals.total, invoice.balance_due)
    to_credit = totals.total - applied
    settings = get_settings(session)
    note = CreditNote(
        # Numbered in the year it is recorded, as receipts are: a late entry never reopens a closed year.
        number=next_number(session, "credit_note", today.year, settings.credit_note_number_format),
        invoice=invoice,
        client_id=invoice.client_id,
        currency=currency,
        issue_date=issue_date,
        reason=reason,
        tax_rounding=invoice.tax_rounding,
        subtotal=totals.subtotal,
        tax_total=totals.tax_total,
        total=totals.total,
        applied=applied,
        to_credit=to_credit,
        created_by=actor.label[:200],
    )
    note.items.extend(CreditNoteItem.made_from(items, totals))
    session.add(note)
    _settle(session, invoice, applied)
    session.flush()
    summary = f"Credit note {note.number} for {format_money(note.total, currency)}: {reason}"
    if to_credit > 0:
        summary += f"; {format_money(to_credit, currency)} to client credit"
    record_activity(
        session,
        actor,
        "credit_note_issued",
        note,
        invoice_id=invoice.id,
        client_id=invoice.client_id,
        summary=summary,
        details={"credit_note_id": note.id, "applied": str(applied), "to_credit": str(to_credit)},
    )
    if to_credit > 0:
        _move_credit(
            session,
            actor,
            client_id=invoice.client_id,
            currency=currency,
            kind=CreditMovementKind.CREDIT_NOTE,
            amount=to_credit,
            occurred_on=issue_date,
            credit_note_id=note.id,
            invoice_id=invoice.id,
        )
    messages = queue_credit_note_messages(session, note, notify, actor=actor) if notify.email else []
    emit_event(session, WebhookEventType.CREDIT_NOTE_ISSUED, lambda: credit_note_snapshot(session, note))
    return note, messages


def _settle(session: Session, invoice: Invoice, amount: Decimal) -> None:
    """Credit ``amount`` against the invoice's balance and re-derive its state; reminders stop at balance 0."""
    was_paid = invoice.is_paid
    invoice.amount_credited = invoice.amount_credited + amount
    invoice.status = invoice.derived_status
    if invoice.balance_due <= 0:
        cancel_queued(session, invoice.id, ("reminder",), "invoice settled by credit")
    if invoice.is_paid and not was_paid:  # payments and credit together settled it
        emit_event(session, WebhookEventType.INVOICE_PAID, lambda: invoice_snapshot(session, invoice))


# ---------------------------------------------------------------- applying and refunding credit


@unit_of_work
def apply_client_credit(
    session: Session, *, actor: Actor, invoice_id: int, data: ApplyCreditInput, today: dt.date | None = None
) -> Invoice:
    """Settle (part of) an invoice with its client's credit in the invoice's currency."""
    today = today or dt.date.today()
    invoice = get_or_404(session, Invoice, invoice_id, lock=True)
    currency = invoice.currency
    amount = _amount(data.amount, currency)
    if not invoice.can_take_client_credit:
        raise Conflict(
            f"invoice {invoice.number or '(draft)'} is {invoice.status.replace('_', ' ')}; nothing is owed on it"
        )
    credit = _locked_credit(session, invoice.client_id, currency)
    if credit.balance <= 0:
        raise Conflict(f"the client has no credit in {currency}", field="amount")
    if amount > credit.balance:
        raise Conflict(
            f"{format_money_code(amount, currency)} is more than the client's credit of "
            f"{format_money_code(credit.balance, currency)}",
            field="amount",
        )
    if amount > invoice.balance_due:
        raise Conflict(
            f"{format_money_code(amount, currency)} is more than the balance due of "
            f"{format_money_code(invoice.balance_due, currency)}",
            field="amount",
        )
    _settle(session, invoice, amount)
    movement = _move_credit(
        session,
        actor,
        client_id=invoice.client_id,
        currency=currency,
        kind=CreditMovementKind.APPLICATION,
        amount=amount,
        occurred_on=today,
        invoice_id=invoice.id,
    )
    record_activity(
        session,
        actor,
        "credit_applied",
        invoice,
        invoice_id=invoice.id,
        client_id=invoice.client_id,
        summary=f"Client credit of {format_money(amount, currency)} applied",
        details={"credit_movement_id": movement.id},
    )
    return invoice


@unit_of_work
def refund_client_credit(
    session: Session, *, actor: Actor, client_id: int, data: RefundInput, today: dt.date | None = None
) -> Refund:
    """Pay client credit back to the client; never more than the credit in that currency."""
    today = today or dt.date.today()
    client = get_or_404(session, Client, client_id, label="client")
    errors = FieldErrors()
    currency = None
    with errors.collect():
        currency = normalize_currency(data.currency, "currency")
        if currency is None:
            raise ValidationFailed.one("currency", "is required")
    amount = None
    if currency is not None:
        with errors.collect():
            amount = _amount(data.amount, currency)
    if data.method not in PAYMENT_METHODS:
        errors.add("method", f"must be one of {', '.join(PAYMENT_METHODS)}")
    refunded_on = today
    with errors.collect():
        refunded_on = _day(data.refunded_on, "refunded_on", today)
    reference = note = ""
    with errors.collect():
        reference = clean_text(data.reference, "reference", max_length=limits.PAYMENT_REFERENCE)
    with errors.collect():
        note = clean_text(data.note, "note", max_length=limits.PAYMENT_NOTE)
    errors.raise_if_any()
    refund = Refund(
        client_id=client.id,
        currency=currency,
        amount=amount,
        method=data.method,
        reference=reference,
        refunded_on=refunded_on,
        note=note,
        recorded_by=actor.label[:200],
    )
    session.add(refund)
    session.flush()
    _move_credit(
        session,
        actor,
        client_id=client.id,
        currency=currency,
        kind=CreditMovementKind.REFUND,
        amount=amount,
        occurred_on=refunded_on,
        refund_id=refund.id,
    )
    record_activity(
        session,
        actor,
        "credit_refunded",
        refund,
        client_id=client.id,
        summary=f"Refund of {format_money(amount, currency)} by {data.method.replace('_', ' ')} from client credit",
        details={"refund_id": refund.id},
    )
    return refund


@unit_of_work
def credit_online_overpayment(
    session: Session,
    *,
    actor: Actor,
    client_id: int,
    currency: str,
    amount: Decimal,
    payment_id: int | None = None,
    invoice_id: int | None = None,
    received_on: dt.date | None = None,
    note: str = "",
) -> CreditMovement:
    """SPEC §14: put the part of an online payment above the invoice's balance into the client's credit.

    The one door for online payments (Stripe webhooks) to add client credit:
    call it inside the transaction that records the payment, after the invoice
    row is locked (the lock order of this module). ``amount`` must be > 0 with
    the currency's decimals.
    """
    currency = normalize_currency(currency, "currency") or ""
    amount = _amount(amount, currency)
    movement = _move_credit(
        session,
        actor,
        client_id=client_id,
        currency=currency,
        kind=CreditMovementKind.OVERPAYMENT,
        amount=amount,
        occurred_on=received_on or dt.date.today(),
        payment_id=payment_id,
        invoice_id=invoice_id,
        note=note[:2000],
    )
    client = get_or_404(session, Client, client_id, label="client")
    record_activity(
        session,
        actor,
        "credit_added",
        client,
        invoice_id=invoice_id,
        client_id=client_id,
        summary=f"Online overpayment of {format_money(amount, currency)} added to client credit",
        details={"credit_movement_id": movement.id},
    )
    return movement
