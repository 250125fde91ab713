"""Recurring invoices (SPEC §12): list, editor with the next five run dates, pause/resume, the invoices made."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from main_service.admin import bp
from main_service.admin.access import actor
from main_service.admin.forms import ConfirmForm, RecurringInvoiceForm, show_errors
from main_service.admin.invoices import _client_choices, _editor_action
from main_service.admin.pagination import paginate
from shared.db import db, parse_id
from shared.documents.formatting import format_quantity, format_rate, format_unit_price
from shared.errors import DomainError
from shared.lookups import get_or_404, get_settings
from shared.models import RecurringInvoice
from shared.models.enums import RECURRING_STATES, RecurringMode
from shared.queries import timeline
from shared.services.recurring import (
    create_recurring_invoice,
    delete_recurring_invoice,
    invoices_made,
    pause_recurring_invoice,
    resume_recurring_invoice,
    upcoming_runs,
    update_recurring_invoice,
)

LABEL = "recurring invoice"
MODE_WORDS = {
    RecurringMode.SEND: "issued and e-mailed",
    RecurringMode.ISSUE: "issued, not e-mailed",
    RecurringMode.DRAFT: "left as a draft",
}


@bp.app_template_filter("recurring_mode")
def recurring_mode(mode: str) -> str:
    """What each run of a recurring invoice leaves behind, in words."""
    return MODE_WORDS.get(mode, mode)


@bp.get("/recurring-invoices")
@login_required
def recurring_invoices():
    query = select(RecurringInvoice).options(selectinload(RecurringInvoice.client))
    status = request.args.get("status", "")
    if status in RECURRING_STATES:
        query = query.where(RecurringInvoice.status == status)
    page = paginate(
        query.order_by(RecurringInvoice.next_run_on.is_(None), RecurringInvoice.next_run_on, RecurringInvoice.id)
    )
    return render_template("admin/recurring/list.html", page=page, states=RECURRING_STATES, status=status)


def _form(template: RecurringInvoice | None = None) -> RecurringInvoiceForm:
    if request.method == "POST" or template is None:
        form = RecurringInvoiceForm()
    else:
        currency = template.currency
        form = RecurringInvoiceForm(
            data={
                "client_id": str(template.client_id),
                "currency": currency,
                "purchase_order": template.purchase_order,
                "notes": template.notes,
                "discount_type": template.discount_type or "",
                "discount_value": _shown_discount(template),
                "lines": [
                    {
                        "description": item["description"],
                        "quantity": format_quantity(Decimal(item["quantity"])),
                        "unit_price": format_unit_price(Decimal(item["unit_price"]), currency),
                        "tax_rate": format_rate(Decimal(item["tax_rate"])).removesuffix("%"),
                    }
                    for item in template.items
                ],
                "interval": template.interval,
                "interval_count": str(template.interval_count),
                "start_date": template.start_date.isoformat(),
                "end_date": template.end_date.isoformat() if template.end_date else "",
                "max_runs": str(template.max_runs or ""),
                "payment_terms_days": str(template.payment_terms_days),
                "mode": template.mode,
            }
        )
    form.client_id.choices = _client_choices(template.client if template else None)
    if template is None and request.method == "GET":
        wanted = request.args.get("client_id", "")
        if parse_id(wanted):
            form.client_id.data = wanted
        form.start_date.data = dt.date.today().isoformat()
        form.payment_terms_days.data = str(get_settings(db.session).payment_terms_days)
        while len(form.lines) < 2:
            form.lines.append_entry()
    if form.currency.data and (form.currency.data, form.currency.data) not in form.currency.choices:
        form.currency.choices.append((form.currency.data, form.currency.data))
    return form


def _shown_discount(template: RecurringInvoice) -> str:
    if template.discount_value is None:
        return ""
    if template.discount_type == "fixed":
        return format_unit_price(template.discount_value, template.currency)
    return format_quantity(template.discount_value)


def _preview(form: RecurringInvoiceForm, template: RecurringInvoice | None) -> tuple[list[dt.date], str | None]:
    """The next five run dates as the form stands (a saved template's own, on a fresh edit page)."""
    if template is not None and request.method == "GET":
        return template.upcoming_runs(5), None
    try:
        return upcoming_runs(db.session, data=form.to_input()), None
    except DomainError as exc:
        return [], exc.message


def _editor(template: RecurringInvoice | None):
    form = _form(template)
    action = _editor_action(form) if request.method == "POST" else "edit"
    if request.form.get("action") == "preview":
        action = "edit"
    if action == "save" and form.validate_on_submit():
        try:
            if template is None:
                saved = create_recurring_invoice(db.session, actor=actor(), data=form.to_input())
                flash("Recurring invoice saved. Its first run is on " + saved.next_run_on.isoformat() + ".", "success")
            else:
                saved = update_recurring_invoice(
                    db.session, actor=actor(), recurring_id=template.id, data=form.to_changes()
                )
                flash("Saved. The invoices already made stay as they are; the next runs use the new values.", "success")
        except DomainError as exc:
            db.session.rollback()
            show_errors(form, exc)
        else:
            return redirect(url_for("admin.recurring_invoice_detail", recurring_id=saved.id))
    dates, problem = _preview(form, template)
    return render_template(
        "admin/recurring/form.html", form=form, template=template, upcoming=dates, upcoming_problem=problem
    )


@bp.route("/recurring-invoices/new", methods=["GET", "POST"])
@login_required
def recurring_invoice_new():
    return _editor(None)


@bp.route("/recurring-invoices/<int:recurring_id>/edit", methods=["GET", "POST"])
@login_required
def recurring_invoice_edit(recurring_id: int):
    return _editor(get_or_404(db.session, RecurringInvoice, recurring_id, label=LABEL))


@bp.get("/recurring-invoices/<int:recurring_id>")
@login_required
def recurring_invoice_detail(recurring_id: int):
    template = get_or_404(db.session, RecurringInvoice, recurring_id, label=LABEL)
    return render_template(
        "admin/recurring/detail.html",
        template=template,
        upcoming=template.upcoming_runs(5),
        invoices=invoices_made(db.session, template, limit=50),
        activity=timeline(db.session, template, limit=50),
        confirm=ConfirmForm(),
    )


@bp.post("/recurring-invoices/<int:recurring_id>/pause")
@login_required
def recurring_invoice_pause(recurring_id: int):
    return _pause_or_resume(recurring_id, pause_recurring_invoice)


@bp.post("/recurring-invoices/<int:recurring_id>/resume")
@login_required
def recurring_invoice_resume(recurring_id: int):
    return _pause_or_resume(recurring_id, resume_recurring_invoice)


def _pause_or_resume(recurring_id: int, change):
    if ConfirmForm().validate_on_submit():
        try:
            template = change(db.session, actor=actor(), recurring_id=recurring_id)
        except DomainError as exc:
            show_errors(None, exc)
        else:
            if template.is_paused:
                flash("Paused. No invoice is made until you resume it.", "success")
            elif template.next_run_on:
                flash(f"Resumed; the next run is on {template.next_run_on.isoformat()}.", "success")
            else:
                flash("Resumed; no run date is left, so it has ended.", "success")
    return redirect(url_for("admin.recurring_invoice_detail", recurring_id=recurring_id))


@bp.route("/recurring-invoices/<int:recurring_id>/delete", methods=["GET", "POST"])
@login_required
def recurring_invoice_delete(recurring_id: int):
    template = get_or_404(db.session, RecurringInvoice, recurring_id, label=LABEL)
    if not template.can_delete:
        flash("It has made invoices, so it is kept; pause it instead.", "error")
        return redirect(url_for("admin.recurring_invoice_detail", recurring_id=recurring_id))
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            delete_recurring_invoice(db.session, actor=actor(), recurring_id=recurring_id)
        except DomainError as exc:
            show_errors(None, exc)
            return redirect(url_for("admin.recurring_invoice_detail", recurring_id=recurring_id))
        flash("Recurring invoice deleted.", "success")
        return redirect(url_for("admin.recurring_invoices"))
    return render_template("admin/recurring/delete.html", template=template, form=form)
