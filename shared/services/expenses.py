"""Expenses (SPEC §5.5): staff request, an admin approves or declines with a note."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from shared import limits, money
from shared.activity import record_activity
from shared.actors import Actor
from shared.db import utcnow
from shared.documents.formatting import format_money
from shared.errors import Conflict, PermissionDenied, ValidationFailed
from shared.inputs import ExpenseChanges, ExpenseInput, given
from shared.lookups import get_or_404, get_settings
from shared.models import Expense
from shared.models.enums import ExpenseStatus
from shared.parsing import FieldErrors, clean_text, to_date, to_decimal
from shared.services.clients import normalize_currency
from shared.transactions import unit_of_work


def _clean_expense(session: Session, fields: ExpenseInput | ExpenseChanges, expense: Expense | None) -> dict[str, Any]:
    data = given(fields)  # a new expense's every field, or the changes given
    errors = FieldErrors()
    cleaned: dict[str, Any] = {}
    partial = expense is not None
    texts = {
        "title": (limits.EXPENSE_TITLE, True),
        "description": (limits.EXPENSE_DESCRIPTION, False),
        "category": (limits.EXPENSE_CATEGORY, True),
        "payee": (limits.EXPENSE_PAYEE, False),
    }
    for name, (limit, required) in texts.items():
        if name in data or not partial:
            with errors.collect():
                cleaned[name] = clean_text(data.get(name), name, max_length=limit, required=required)
    if "expense_date" in data or not partial:
        with errors.collect():
            raw = data.get("expense_date")
            cleaned["expense_date"] = to_date(raw, "expense_date") if raw else dt.date.today()
    if "currency" in data or not partial:
        with errors.collect():
            cleaned["currency"] = normalize_currency(data.get("currency"), "currency") or (
                expense.currency if expense else get_settings(session).default_currency
            )
    if "amount" in data or not partial:
        with errors.collect():
            if data.get("amount") in (None, ""):
                raise ValidationFailed.one("amount", "is required")
            amount = to_decimal(data["amount"], "amount", places=limits.DECIMAL_PLACES)
            # A currency refused above is reported there; check decimals against
            # a known one only.
            currency = cleaned.get("currency") or (expense.currency if expense else None)
            if currency and amount != amount.quantize(money.quantum(currency)):
                exponent = money.currency_exponent(currency)
                raise ValidationFailed.one("amount", f"must have at most {exponent} decimals in {currency}")
            if amount <= 0 or amount > limits.MAX_AMOUNT:
                raise ValidationFailed.one("amount", f"must be more than 0 and at most {limits.MAX_AMOUNT:,}")
            cleaned["amount"] = amount
    if expense is not None and "currency" in cleaned and "amount" not in cleaned:
        currency = cleaned["currency"]
        if expense.amount != expense.amount.quantize(money.quantum(currency)):
            exponent = money.currency_exponent(currency)
            errors.add("amount", f"{expense.amount.normalize()} has more than {exponent} decimals for {currency}")
    errors.raise_if_any()
    return cleaned


@unit_of_work
def request_expense(session: Session, *, actor: Actor, data: ExpenseInput, user_id: int | None = None) -> Expense:
    cleaned = _clean_expense(session, data, None)
    expense = Expense(
        status=ExpenseStatus.PENDING, requested_by=actor.label[:200], requested_by_user_id=user_id, **cleaned
    )
    session.add(expense)
    record_activity(
        session,
        actor,
        "expense_requested",
        expense,
        summary=f"{expense.title}: {format_money(expense.amount, expense.currency)} requested",
    )
    return expense


def _pending(session: Session, expense_id: int) -> Expense:
    expense = get_or_404(session, Expense, expense_id, lock=True)
    if not expense.is_pending:
        raise Conflict(f"expense {expense.id} is already {expense.status}; only pending expenses can be changed")
    return expense


def _changeable(session: Session, actor: Actor, expense_id: int) -> Expense:
    expense = _pending(session, expense_id)
    if not expense.can_be_changed_by(actor):
        raise PermissionDenied("only an admin or the person who requested it can change this expense")
    return expense


@unit_of_work
def update_expense(session: Session, *, actor: Actor, expense_id: int, data: ExpenseChanges) -> Expense:
    expense = _changeable(session, actor, expense_id)
    cleaned = _clean_expense(session, data, expense)
    changed = sorted(k for k, v in cleaned.items() if getattr(expense, k) != v)
    for name in changed:
        setattr(expense, name, cleaned[name])
    if changed:
        record_activity(session, actor, "edited", expense, summary="Changed " + ", ".join(changed))
    return expense


@unit_of_work
def delete_expense(session: Session, *, actor: Actor, expense_id: int) -> None:
    expense = _changeable(session, actor, expense_id)
    record_activity(session, actor, "deleted", expense, summary=f"Pending expense {expense.title} withdrawn")
    session.delete(expense)


def _decide(session: Session, actor: Actor, expense_id: int, status: str, note: str) -> Expense:
    note = clean_text(note, "note", max_length=limits.DECISION_NOTE, required=status == ExpenseStatus.DECLINED)
    expense = _pending(session, expense_id)
    if not expense.can_be_decided_by(actor):
        if expense.is_requested_by(actor):
            raise PermissionDenied("You cannot approve or decline an expense you requested; another admin decides it.")
        raise PermissionDenied("only an admin can approve or decline expenses")
    expense.status = status
    expense.decided_by = actor.label[:200]
    expense.decided_at = utcnow()
    expense.decision_note = note
    record_activity(
        session,
        actor,
        f"expense_{status}",
        expense,
        summary=f"{expense.title}: {format_money(expense.amount, expense.currency)} {status}"
        + (f" ({note})" if note else ""),
    )
    return expense


@unit_of_work
def approve_expense(session: Session, *, actor: Actor, expense_id: int, note: str = "") -> Expense:
    return _decide(session, actor, expense_id, ExpenseStatus.APPROVED, note)


@unit_of_work
def decline_expense(session: Session, *, actor: Actor, expense_id: int, note: str) -> Expense:
    """Declining needs a note so the requester knows why."""
    return _decide(session, actor, expense_id, ExpenseStatus.DECLINED, note)
