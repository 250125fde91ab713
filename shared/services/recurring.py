"""Recurring invoices (SPEC §12): the templates, and the worker's job that makes each due run exactly once.

A template keeps ``next_run_index`` (the ``k`` of its next run not yet made
or skipped) and ``next_run_on`` (that run's date, ``shared.recurrence``).
:func:`make_due_runs` takes the oldest due run of any active template under a
row lock (``FOR UPDATE SKIP LOCKED`` on Postgres, the single write lock on
SQLite), makes its invoice through :func:`create_invoice` (the service behind
``POST /invoices``), moves the template on and commits: number, queue rows,
activity and the template's new position in one transaction. A worker killed
before the commit made nothing; one killed after it made the run, and the
template no longer offers it. ``invoices (recurring_invoice_id,
recurring_run_on)`` is unique besides, so even a bug cannot make a run twice.

A worker that was stopped finds several runs due and makes them one by one,
oldest first, each dated its own run date. Resuming a paused template skips
the runs dated before the resume day (an activity row for each); they are
never made later.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared import limits, money
from shared.activity import record_activity
from shared.actors import Actor, Notify
from shared.documents.formatting import format_money
from shared.errors import Conflict, DomainError, ValidationFailed
from shared.inputs import DiscountInput, InvoiceDraft, ItemInput, RecurringInvoiceChanges, RecurringInvoiceInput, given
from shared.lookups import get_or_404, get_settings
from shared.models import Client, Invoice, RecurringInvoice
from shared.models.enums import RECURRING_INTERVALS, RECURRING_MODES, RecurringMode, RecurringStatus
from shared.numbering import settle_numbers
from shared.parsing import LATEST_DATE, FieldErrors, clean_text, to_date, to_whole
from shared.recurrence import Schedule
from shared.services.clients import normalize_currency
from shared.services.invoices import (
    _clean_client,
    _clean_discount,
    _compute,
    _default_currency,
    clean_items,
    create_invoice,
)
from shared.transactions import atomic, unit_of_work

log = logging.getLogger("shared.services.recurring")

MAX_RUNS = 100_000
MAX_TERMS_DAYS = 365
SCHEDULE_FIELDS = ("start_date", "interval", "interval_count")


# ------------------------------------------------------------------ checking what was entered


def _choice(value: Any, field: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValidationFailed.one(field, f"must be one of {', '.join(choices)}")
    return str(value)


def _optional_whole(value: Any, field: str, low: int, high: int) -> int | None:
    if value is None or value == "":
        return None
    return to_whole(value, field, low, high)


def _clean(session: Session, values: dict[str, Any], current: RecurringInvoice | None) -> dict[str, Any]:
    """Check the fields given (all of them for a new template); a field not given keeps ``current``'s value."""
    errors = FieldErrors()
    settings = get_settings(session)
    cleaned: dict[str, Any] = {}

    def keep(name: str) -> Any:
        return getattr(current, name)

    client = current.client if current is not None else None
    if "client_id" in values or current is None:
        with errors.collect():
            client = _clean_client(session, values.get("client_id"))
            cleaned["client_id"] = client.id
    cleaned["client"] = client
    with errors.collect():
        if "currency" in values or current is None:
            cleaned["currency"] = normalize_currency(values.get("currency"), "currency") or _default_currency(
                client, settings
            )
        else:
            cleaned["currency"] = keep("currency")
    if "items" in values or current is None:
        cleaned["items"] = clean_items(values.get("items"), errors)
    else:
        cleaned["items"] = [
            {name: Decimal(value) if name in _DECIMAL_FIELDS else value for name, value in item.items()}
            for item in current.items
        ]
    if "discount" in values or current is None:
        with errors.collect():
            cleaned["discount"] = _clean_discount(values.get("discount"))
    elif current.discount_type:
        cleaned["discount"] = money.Discount(current.discount_type, current.discount_value)
    else:
        cleaned["discount"] = None
    for name, limit in (("purchase_order", limits.PURCHASE_ORDER), ("notes", limits.INVOICE_NOTES)):
        with errors.collect():
            cleaned[name] = clean_text(values[name], name, max_length=limit) if name in values else keep(name)
    with errors.collect():
        cleaned["interval"] = (
            _choice(values.get("interval"), "interval", RECURRING_INTERVALS)
            if "interval" in values or current is None
            else keep("interval")
        )
    with errors.collect():
        cleaned["interval_count"] = (
            to_whole(values.get("interval_count"), "interval_count", 1, 366)
            if "interval_count" in values or current is None
            else keep("interval_count")
        )
    with errors.collect():
        if "start_date" in values or current is None:
            raw = values.get("start_date")
            cleaned["start_date"] = to_date(raw, "start_date") if raw else dt.date.today()
        else:
            cleaned["start_date"] = keep("start_date")
    with errors.collect():
        if "end_date" in values:
            raw = values["end_date"]
            cleaned["end_date"] = to_date(raw, "end_date") if raw else None
        else:
            cleaned["end_date"] = keep("end_date") if current is not None else None
    with errors.collect():
        cleaned["max_runs"] = (
            _optional_whole(values["max_runs"], "max_runs", 1, MAX_RUNS)
            if "max_runs" in values
            else (keep("max_runs") if current is not None else None)
        )
    with errors.collect():
        if "payment_terms_days" in values or current is None:
            terms = _optional_whole(values.get("payment_terms_days"), "payment_terms_days", 0, MAX_TERMS_DAYS)
            cleaned["payment_terms_days"] = settings.payment_terms_days if terms is None else terms
        else:
            cleaned["payment_terms_days"] = keep("payment_terms_days")
    with errors.collect():
        cleaned["mode"] = (
            _choice(values.get("mode"), "mode", RECURRING_MODES)
            if "mode" in values or current is None
            else keep("mode")
        )
    if cleaned.get("start_date") and cleaned.get("end_date") and cleaned["end_date"] < cleaned["start_date"]:
        errors.add("end_date", "must be on or after the start date")
    if (
        cleaned.get("mode") == RecurringMode.SEND
        and client is not None
        and not client.email
        and ("mode" in values or "client_id" in values)
    ):
        errors.add("mode", f"{client.name} has no e-mail address to send to; choose issue or draft")
    errors.raise_if_any()
    cleaned["totals"] = _compute(cleaned["items"], cleaned["currency"], cleaned["discount"], settings.tax_rounding)
    return cleaned


def _apply(template: RecurringInvoice, cleaned: dict[str, Any]) -> None:
    for name in (
        "client_id",
        "currency",
        "notes",
        "purchase_order",
        "interval",
        "interval_count",
        "start_date",
        "end_date",
        "max_runs",
        "payment_terms_days",
        "mode",
    ):
        if name in cleaned:
            setattr(template, name, cleaned[name])
    if cleaned.get("client") is not None:
        template.client = cleaned["client"]
    discount: money.Discount | None = cleaned["discount"]
    template.discount_type = discount.kind if discount else None
    template.discount_value = discount.value if discount else None
    template.items = [
        {
            "description": item["description"],
            "quantity": _decimal_text(item["quantity"]),
            "unit_price": _decimal_text(item["unit_price"]),
            "tax_rate": _decimal_text(item["tax_rate"]),
            # SPEC §16: each run's lines keep the template's unit and VAT category.
            "unit": str(item["unit"]),
            "tax_category": str(item["tax_category"]),
            "tax_exemption_reason": item["tax_exemption_reason"] or "",
        }
        for item in cleaned["items"]
    ]
    template.total = cleaned["totals"].total


_DECIMAL_FIELDS = ("quantity", "unit_price", "tax_rate")


def _decimal_text(value: Decimal) -> str:
    return format(Decimal(value).normalize(), "f")


def _position(template: RecurringInvoice, k: int) -> None:
    """Put the template at run ``k``: its date, or ``ended`` when the schedule has no run left."""
    template.next_run_index = k
    day = template.schedule.next_run(k, template.runs)
    template.next_run_on = day
    if day is None:
        template.status = RecurringStatus.ENDED
    elif template.is_ended:
        template.status = RecurringStatus.ACTIVE


def _describe(template: RecurringInvoice) -> str:
    unit = template.interval if template.interval_count == 1 else f"{template.interval_count} {template.interval}s"
    return f"every {unit} from {template.start_date.isoformat()}"


# ------------------------------------------------------------------ the templates


@unit_of_work
def create_recurring_invoice(
    session: Session, *, actor: Actor, data: RecurringInvoiceInput, today: dt.date | None = None
) -> RecurringInvoice:
    """Save a new recurring invoice, positioned at its first run on or after ``today`` (or its first, with backfill).

    A ``start_date`` in the past does not make the runs before today unless
    ``backfill`` is true: nobody expects a year of invoices from one click.
    """
    today = today or dt.date.today()
    values = {f.name: getattr(data, f.name) for f in dataclasses.fields(data) if f.name != "backfill"}
    cleaned = _clean(session, values, None)
    template = RecurringInvoice(status=RecurringStatus.ACTIVE, runs=0, created_by=actor.label[:200])
    _apply(template, cleaned)
    schedule = template.schedule
    first = 0 if data.backfill is True else schedule.first_index_on_or_after(today)
    if schedule.next_run(first, 0) is None:
        field = "end_date" if template.end_date is not None else "start_date"
        raise ValidationFailed.one(field, f"leaves no run date on or after {today.isoformat()}")
    _position(template, first)
    session.add(template)
    session.flush()
    record_activity(
        session,
        actor,
        "created",
        template,
        client_id=template.client_id,
        summary=f"Recurring invoice of {format_money(template.total, template.currency)} {_describe(template)};"
        f" first run {template.next_run_on.isoformat()}",
    )
    return template


def _last_run_on(session: Session, template: RecurringInvoice) -> dt.date | None:
    return session.scalar(select(func.max(Invoice.recurring_run_on)).where(Invoice.recurring_invoice_id == template.id))


@unit_of_work
def update_recurring_invoice(
    session: Session,
    *,
    actor: Actor,
    recurring_id: int,
    data: RecurringInvoiceChanges,
    today: dt.date | None = None,
) -> RecurringInvoice:
    """Change a recurring invoice; the invoices already made stay as they are, the runs not made yet use the new values.

    A new start date, interval or count starts the new schedule at its first
    run on or after today (and after the last run made, so no date is
    invoiced twice); a new end date or run cap keeps the position.
    """
    today = today or dt.date.today()
    template = get_or_404(session, RecurringInvoice, recurring_id, lock=True, label="recurring invoice")
    values = given(data)
    cleaned = _clean(session, values, template)
    _apply(template, cleaned)
    schedule_changed = any(name in values for name in SCHEDULE_FIELDS)
    if schedule_changed:
        last = _last_run_on(session, template)
        from_day = max(today, last + dt.timedelta(days=1)) if last else today
        k = template.schedule.first_index_on_or_after(from_day)
    else:
        k = template.next_run_index
    paused = template.is_paused
    _position(template, k)
    if paused and not template.is_ended:
        template.status = RecurringStatus.PAUSED
    summary = "Edited; the runs not made yet use the new values"
    if template.next_run_on:
        summary += f"; next run {template.next_run_on.isoformat()}"
    elif template.is_ended:
        summary += "; no run date is left, so it has ended"
    record_activity(session, actor, "edited", template, client_id=template.client_id, summary=summary)
    return template


@unit_of_work
def delete_recurring_invoice(session: Session, *, actor: Actor, recurring_id: int) -> None:
    template = get_or_404(session, RecurringInvoice, recurring_id, lock=True, label="recurring invoice")
    if not template.can_delete:
        raise Conflict(
            f"this recurring invoice has made {template.runs} invoice{'s' if template.runs != 1 else ''};"
            " pause it instead of deleting it"
        )
    record_activity(
        session,
        actor,
        "deleted",
        template,
        client_id=template.client_id,
        summary=f"Recurring invoice {_describe(template)} deleted",
    )
    session.delete(template)


@unit_of_work
def pause_recurring_invoice(session: Session, *, actor: Actor, recurring_id: int) -> RecurringInvoice:
    template = get_or_404(session, RecurringInvoice, recurring_id, lock=True, label="recurring invoice")
    if not template.can_pause:
        raise Conflict(f"this recurring invoice is {template.status}; only an active one is paused")
    template.status = RecurringStatus.PAUSED
    record_activity(
        session,
        actor,
        "paused",  # not a state: the activity verb
        template,
        client_id=template.client_id,
        summary="Paused: no run is made until resumed",
    )
    return template


@unit_of_work
def resume_recurring_invoice(
    session: Session, *, actor: Actor, recurring_id: int, today: dt.date | None = None
) -> RecurringInvoice:
    """Run again from ``today``: every run dated before today not made yet is skipped (a row each), never made later."""
    today = today or dt.date.today()
    template = get_or_404(session, RecurringInvoice, recurring_id, lock=True, label="recurring invoice")
    if not template.can_resume:
        raise Conflict(f"this recurring invoice is {template.status}; only a paused one is resumed")
    schedule = template.schedule
    k = template.next_run_index
    target = max(k, schedule.first_index_on_or_after(today))
    while k < target:
        day = schedule.next_run(k, template.runs)
        if day is None:
            break
        record_activity(
            session,
            actor,
            "skipped",
            template,
            client_id=template.client_id,
            summary=f"Run of {day.isoformat()} skipped: paused, resumed on {today.isoformat()}",
            details={"run_on": day.isoformat(), "run": k},
        )
        k += 1
    template.status = RecurringStatus.ACTIVE
    _position(template, target)
    summary = "Resumed"
    summary += f"; next run {template.next_run_on.isoformat()}" if template.next_run_on else "; no run date is left"
    record_activity(session, actor, "resumed", template, client_id=template.client_id, summary=summary)
    return template


# ------------------------------------------------------------------ the worker's job


def _due_template(session: Session, today: dt.date, failed: set[int]) -> RecurringInvoice | None:
    query = (
        select(RecurringInvoice)
        .where(RecurringInvoice.is_active, RecurringInvoice.next_run_on <= today)
        .order_by(RecurringInvoice.next_run_on, RecurringInvoice.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    if failed:
        query = query.where(RecurringInvoice.id.not_in(failed))
    return session.scalars(query).first()


def _run_draft(template: RecurringInvoice, run_on: dt.date) -> InvoiceDraft:
    due = run_on + dt.timedelta(days=template.payment_terms_days)
    discount = (
        DiscountInput(type=template.discount_type, value=template.discount_value) if template.discount_type else None
    )
    return InvoiceDraft(
        client_id=template.client_id,
        items=[ItemInput(**item) for item in template.items],
        currency=template.currency,
        issue_date=run_on,
        due_date=min(due, LATEST_DATE),
        purchase_order=template.purchase_order,
        notes=template.notes,
        discount=discount,
    )


def make_run(session: Session, *, actor: Actor, template: RecurringInvoice) -> Invoice:
    """Make the template's next run (inside the caller's transaction, the template locked) and move it on."""
    run_on = template.next_run_on
    k = template.next_run_index
    client: Client = template.client
    email = template.emails_invoices and bool(client.email)
    invoice, _ = create_invoice(
        session,
        actor=actor,
        data=_run_draft(template, run_on),
        issue=template.issues_invoices,
        notify=Notify(email=email),
    )
    invoice.recurring_invoice_id = template.id
    invoice.recurring_run_on = run_on
    template.runs += 1
    template.last_error = None
    _position(template, k + 1)
    settle_numbers(session)  # the summary names the number
    what = invoice.number or "a draft"
    summary = f"Run of {run_on.isoformat()}: {what} for {format_money(invoice.total, invoice.currency)}"
    if template.emails_invoices:
        summary += ", e-mailed" if email else f", not e-mailed: {client.name} has no e-mail address"
    if template.is_ended:
        summary += "; that was the last run"
    record_activity(
        session,
        actor,
        "run",
        template,
        invoice_id=invoice.id,
        client_id=template.client_id,
        summary=summary,
        details={"run_on": run_on.isoformat(), "run": k},
    )
    session.flush()
    return invoice


def make_due_runs(
    session: Session,
    *,
    actor: Actor,
    today: dt.date | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> int:
    """Make every run due on or before ``today``, oldest first, one transaction each; returns how many were made.

    Safe to run from any number of workers at once: each takes a different
    template's row lock (Postgres skips the locked ones). A run that cannot be
    made (the client archived, a line no longer valid) is left due, with the
    reason kept on the template for staff, and tried again by the next sweep.
    """
    today = today or dt.date.today()
    made = 0
    failed: set[int] = set()
    while not should_stop():
        template_id = None
        try:
            with atomic(session):
                template = _due_template(session, today, failed)
                if template is None:
                    break
                template_id = template.id
                make_run(session, actor=actor, template=template)
        except DomainError as exc:
            failed.add(template_id)
            _record_failure(session, actor, template_id, exc.message)
            continue
        made += 1
    if made:
        log.info("recurring invoices: %d run(s) made for %s", made, today.isoformat())
    return made


def _record_failure(session: Session, actor: Actor, template_id: int, message: str) -> None:
    log.warning("recurring invoice %s: the due run could not be made: %s", template_id, message)
    with atomic(session):
        template = session.get(RecurringInvoice, template_id, with_for_update=True, populate_existing=True)
        if template is None or template.last_error == message:
            return
        template.last_error = message[:2000]
        record_activity(
            session,
            actor,
            "run_failed",
            template,
            client_id=template.client_id,
            summary=f"Run of {template.next_run_on.isoformat()} not made: {message}",
        )


def invoices_made(session: Session, template: RecurringInvoice, *, limit: int | None = None) -> list[Invoice]:
    """The invoices a template made, newest run first."""
    query = (
        select(Invoice)
        .where(Invoice.recurring_invoice_id == template.id)
        .order_by(Invoice.recurring_run_on.desc(), Invoice.id.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def last_invoice(session: Session, template: RecurringInvoice) -> Invoice | None:
    made = invoices_made(session, template, limit=1)
    return made[0] if made else None


def upcoming_runs(session: Session, *, data: RecurringInvoiceInput, count: int = 5, today: dt.date | None = None):
    """The first ``count`` run dates a new template with these fields would have (the editor's preview); nothing saved."""
    today = today or dt.date.today()
    errors = FieldErrors()
    values: dict[str, Any] = {}
    with errors.collect():
        values["interval"] = _choice(data.interval, "interval", RECURRING_INTERVALS)
    with errors.collect():
        values["interval_count"] = to_whole(data.interval_count, "interval_count", 1, 366)
    with errors.collect():
        values["start_date"] = to_date(data.start_date, "start_date") if data.start_date else today
    with errors.collect():
        values["end_date"] = to_date(data.end_date, "end_date") if data.end_date else None
    with errors.collect():
        values["max_runs"] = _optional_whole(data.max_runs, "max_runs", 1, MAX_RUNS)
    errors.raise_if_any()
    schedule = Schedule(**values)
    first = 0 if data.backfill is True else schedule.first_index_on_or_after(today)
    return schedule.upcoming(first, 0, count)
