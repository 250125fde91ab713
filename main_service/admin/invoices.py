"""Invoices: list, line editor, review before send, send, void, delete, PDF."""

from __future__ import annotations

import datetime as dt

from flask import Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from main_service.admin import bp
from main_service.admin.access import actor
from main_service.admin.forms import (
    AmountField,
    ConfirmForm,
    InvoiceForm,
    ReasonForm,
    SendForm,
    field_for,
    offer_channels,
    show_errors,
)
from main_service.admin.pagination import keyset_paginate
from main_service.admin.reports import csv_amount, csv_download, csv_text, export_url
from shared.db import db, parse_id
from shared.documents.formatting import format_money, format_number, format_quantity, format_rate, format_unit_price
from shared.errors import DomainError, ValidationFailed
from shared.lookups import get_or_404, get_settings
from shared.messages.queue import messages_for_invoice, reachable
from shared.models import Client, Invoice
from shared.models.enums import INVOICE_STATES
from shared.parsing import to_date
from shared.queries import InvoiceFilters, invoices_matching, timeline
from shared.services import (
    Notify,
    create_draft,
    delete_draft,
    issue_invoice,
    preview_totals,
    send_invoice,
    update_draft,
    void_invoice,
)
from shared.services.credit_notes import client_credit_in


def _date_arg(name: str) -> dt.date | None:
    raw = request.args.get(name) or ""
    try:
        return to_date(raw, name) if raw else None
    except DomainError:
        flash(f"Ignored the {name.replace('_', ' ')} filter: use a date like 2026-11-25.", "error")
        return None


def _list_filters() -> InvoiceFilters:
    """The invoice list's filters, from the query string (the list on screen and its CSV export)."""
    status = request.args.get("status") or ""
    return InvoiceFilters(
        status=status if status in INVOICE_STATES else None,
        client_id=parse_id(request.args.get("client_id") or ""),
        overdue=True if request.args.get("overdue") == "1" else None,
        issued_from=_date_arg("issued_from"),
        issued_to=_date_arg("issued_to"),
        number_contains=(request.args.get("q") or "").strip(),
    )


@bp.get("/invoices")
@login_required
def invoices():
    today = dt.date.today()
    query = invoices_matching(_list_filters(), today=today).options(selectinload(Invoice.client))
    page = keyset_paginate(query, Invoice.id)
    clients = db.session.execute(select(Client.id, Client.name).order_by(func.lower(Client.name))).all()
    return render_template(
        "admin/invoices/list.html",
        page=page,
        states=INVOICE_STATES,
        clients=clients,
        filters={
            "status": request.args.get("status") or "",
            "client_id": request.args.get("client_id") or "",
            "issued_from": request.args.get("issued_from", ""),
            "issued_to": request.args.get("issued_to", ""),
            "overdue": request.args.get("overdue") == "1",
            "q": (request.args.get("q") or "").strip(),
        },
        today=today,
        csv_url=export_url("admin.invoices_csv"),
    )


INVOICE_CSV_HEADER = [
    "number",
    "status",
    "overdue",
    "client_id",
    "client",
    "currency",
    "issue_date",
    "due_date",
    "purchase_order",
    "subtotal",
    "discount",
    "tax",
    "total",
    "amount_paid",
    "balance_due",
]


@bp.get("/invoices.csv")
@login_required
def invoices_csv():
    """The invoice list with its filters applied, every page, oldest first."""
    today = dt.date.today()
    query = invoices_matching(_list_filters(), today=today).options(selectinload(Invoice.client))
    invoices = db.session.scalars(query.order_by(Invoice.id)).all()

    def row(invoice: Invoice) -> list:
        currency = invoice.currency
        return [
            csv_text(invoice.number),
            csv_text(invoice.status),
            "yes" if invoice.is_overdue(today) else "no",
            invoice.client_id,
            csv_text(invoice.billed_to.get("name")),
            currency,
            csv_text(invoice.issue_date),
            csv_text(invoice.due_date),
            csv_text(invoice.purchase_order),
            *(csv_amount(getattr(invoice, name), currency) for name in ("subtotal", "discount_total", "tax_total")),
            csv_amount(invoice.total, currency),
            csv_amount(invoice.amount_paid, currency),
            csv_amount(invoice.balance_due, currency),
        ]

    return csv_download("invoices", INVOICE_CSV_HEADER, (row(i) for i in invoices), today=today)


def _client_choices(current: Client | None = None) -> list[tuple[str, str]]:
    rows = db.session.execute(
        select(Client.id, Client.name).where(Client.archived_at.is_(None)).order_by(func.lower(Client.name))
    ).all()
    choices = [("", "Choose a client…")] + [(str(cid), name) for cid, name in rows]
    if current is not None and current.archived_at is not None:
        choices.append((str(current.id), f"{current.name} (archived)"))
    return choices


def _editor_form(invoice: Invoice | None = None) -> InvoiceForm:
    if request.method == "POST" or invoice is None:
        form = InvoiceForm()
    else:
        form = InvoiceForm(
            data={
                "client_id": str(invoice.client_id),
                "currency": invoice.currency,
                "issue_date": invoice.issue_date.isoformat(),
                "due_date": invoice.due_date.isoformat(),
                "purchase_order": invoice.purchase_order,
                "notes": invoice.notes,
                "discount_type": invoice.discount_type or "",
                "discount_value": _shown_discount(invoice),
                "lines": [
                    {
                        "description": line.description,
                        "quantity": format_quantity(line.quantity),
                        "unit_price": format_unit_price(line.unit_price, invoice.currency),
                        "tax_rate": format_rate(line.tax_rate).removesuffix("%"),
                    }
                    for line in invoice.lines
                ],
            }
        )
    form.client_id.choices = _client_choices(invoice.client if invoice else None)
    if invoice is None and request.method == "GET":
        wanted = request.args.get("client_id", "")
        if parse_id(wanted):
            form.client_id.data = wanted
        settings = get_settings(db.session)
        form.issue_date.data = dt.date.today().isoformat()
        form.due_date.data = (dt.date.today() + dt.timedelta(days=settings.payment_terms_days)).isoformat()
        while len(form.lines) < 3:
            form.lines.append_entry()
    if form.currency.data and (form.currency.data, form.currency.data) not in form.currency.choices:
        form.currency.choices.append((form.currency.data, form.currency.data))
    return form


def _shown_discount(invoice: Invoice) -> str:
    """The discount as the pages show figures (``1,000.00``, ``7.5``); the form reads it back the same way."""
    if invoice.discount_value is None:
        return ""
    if invoice.discount_type == "fixed":
        return format_unit_price(invoice.discount_value, invoice.currency)
    return format_quantity(invoice.discount_value)


def _editor_action(form: InvoiceForm) -> str:
    """add_line / remove_line:N / save: the button that submitted the editor."""
    action = request.form.get("action", "save")
    if action == "add_line":
        form.lines.append_entry()
        return "edit"
    if action.startswith("remove_line:"):
        index = action.split(":", 1)[1]
        if index.isascii() and index.isdigit() and int(index) < len(form.lines.entries) and len(form.lines.entries) > 1:
            kept = [entry.data for i, entry in enumerate(form.lines.entries) if i != int(index)]
            while form.lines.entries:
                form.lines.pop_entry()
            for data in kept:
                form.lines.append_entry(data)
        return "edit"
    return "save"


@bp.route("/invoices/new", methods=["GET", "POST"])
@login_required
def invoice_new():
    form = _editor_form()
    if request.method == "POST" and _editor_action(form) == "save" and form.validate_on_submit():
        try:
            invoice = create_draft(db.session, actor=actor(), data=form.to_draft())
        except DomainError as exc:
            show_errors(form, exc)
        else:
            flash("Draft saved. Check it below, then send it.", "success")
            return redirect(url_for("admin.invoice_review", invoice_id=invoice.id))
    return render_template("admin/invoices/new.html", form=form)


@bp.post("/invoices/preview-totals")
@login_required
def invoice_preview_totals():
    """The editor's live totals: the lines as typed, totalled by the server's one formula (§5.1), formatted.

    Called by admin.js as the lines change (the CSRF token comes with the form);
    nothing is saved. Lines that cannot be totalled yet answer ``ok: false``
    with a message per field, by the input's id.
    """
    form = InvoiceForm(meta={"csrf": False})  # CSRFProtect has checked the token already
    errors: dict[str, list[str]] = {}
    for field in _amount_fields(form):
        if field.process_errors:
            errors[field.id] = [str(e) for e in field.process_errors]
    if not errors:
        try:
            totals = preview_totals(db.session, data=form.to_draft())
        except ValidationFailed as exc:
            for path, messages in exc.errors.items():
                field = field_for(form, path)
                errors[field.id if field is not None else path] = messages
        except DomainError as exc:
            errors["lines"] = [exc.message]
        else:
            currency = totals.currency
            rows = getattr(form, "item_rows", [])
            return jsonify(
                ok=True,
                currency=currency,
                lines={
                    form.lines.entries[row].id: format_number(line.amount, currency)
                    for row, line in zip(rows, totals.lines, strict=True)
                },
                subtotal=format_money(totals.subtotal, currency),
                discount=f"−{format_money(totals.discount_total, currency)}" if totals.discount_total > 0 else None,
                tax=format_money(totals.tax_total, currency),
                total=format_money(totals.total, currency),
            )
    db.session.rollback()
    return jsonify(ok=False, errors=errors, message=_first_problem(form, errors))


def _first_problem(form: InvoiceForm, errors: dict[str, list[str]]) -> str:
    """``Unit price, line 2: is required``: the first thing that keeps the lines from being totalled."""
    where, messages = next(iter(errors.items()))
    for number, entry in enumerate(form.lines.entries, start=1):
        for field in entry.form:
            if field.id == where:
                return f"{field.label.text}, line {number}: {messages[0]}"
    if where == form.discount_value.id:
        return f"{form.discount_value.label.text}: {messages[0]}"
    return messages[0]


def _amount_fields(form: InvoiceForm):
    yield form.discount_value
    for entry in form.lines.entries:
        yield from (field for field in entry.form if isinstance(field, AmountField))


@bp.route("/invoices/<int:invoice_id>/review", methods=["GET", "POST"])
@login_required
def invoice_review(invoice_id: int):
    """Review before send: the editor, the exact PDF and e-mail, and the send choice."""
    invoice = get_or_404(db.session, Invoice, invoice_id)
    if not invoice.is_draft:
        return redirect(url_for("admin.invoice_detail", invoice_id=invoice.id))
    form = _editor_form(invoice)
    if request.method == "POST" and _editor_action(form) == "save" and form.validate_on_submit():
        try:
            update_draft(db.session, actor=actor(), invoice_id=invoice.id, data=form.to_changes())
        except DomainError as exc:
            show_errors(form, exc)
        else:
            flash("Draft saved.", "success")
            return redirect(url_for("admin.invoice_review", invoice_id=invoice.id))
    send_form = SendForm(formdata=None)
    offer_channels(send_form.email, send_form.sms, reachable(invoice.client), sms_ticked=invoice.client.sms_opt_in)
    from shared.documents import DocumentTooLong, check_renders_on_request
    from shared.documents.pages import MAX_PREVIEW_PAGES

    # The pictures of the PDF's pages load from their own requests (admin.js adds one page after
    # another): rendering the PDF here, only to count its pages, is what made this page slow.
    try:
        check_renders_on_request(invoice)
        too_long = None
    except DocumentTooLong as exc:
        too_long = exc.message
    return render_template(
        "admin/invoices/review.html",
        invoice=invoice,
        max_pages=MAX_PREVIEW_PAGES,
        too_long=too_long,
        form=form,
        send_form=send_form,
        preview=_message_preview(invoice),
        confirm=ConfirmForm(),
    )


def _message_preview(invoice: Invoice) -> dict:
    """The exact e-mail subject and text, and the SMS, the client will receive."""
    from flask import current_app

    from shared.messages.preview import preview_invoice_messages

    return preview_invoice_messages(db.session, invoice, current_app.config)


@bp.get("/invoices/<int:invoice_id>")
@login_required
def invoice_detail(invoice_id: int):
    invoice = get_or_404(db.session, Invoice, invoice_id)
    activity = timeline(db.session, invoice)
    send_form = SendForm(formdata=None)
    offer_channels(send_form.email, send_form.sms, reachable(invoice.billed_to), sms_ticked=invoice.client.sms_opt_in)
    return render_template(
        "admin/invoices/detail.html",
        invoice=invoice,
        messages=messages_for_invoice(db.session, invoice.id),
        activity=activity,
        send_form=send_form,
        confirm=ConfirmForm(),
        today=dt.date.today(),
        client_credit=client_credit_in(db.session, invoice.client_id, invoice.currency) if invoice.is_live else 0,
    )


@bp.get("/invoices/<int:invoice_id>/pdf")
@login_required
def invoice_pdf(invoice_id: int):
    from shared import documents

    invoice = get_or_404(db.session, Invoice, invoice_id)
    pdf = documents.render_invoice_pdf_on_request(db.session, invoice)
    disposition = "attachment" if request.args.get("download") else "inline"
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'{disposition}; filename="{documents.pdf_filename(invoice)}"'},
    )


@bp.get("/invoices/<int:invoice_id>/pages/<int:page>.png")
@login_required
def invoice_page_png(invoice_id: int, page: int):
    """One page of the invoice PDF as a picture: the review page shows the exact document."""
    from shared import documents
    from shared.documents.pages import page_png

    invoice = get_or_404(db.session, Invoice, invoice_id)
    try:
        png = page_png(documents.render_invoice_pdf_on_request(db.session, invoice), page)
    except IndexError:
        abort(404)
    return Response(png, mimetype="image/png", headers={"Cache-Control": "private, no-store"})


@bp.post("/invoices/<int:invoice_id>/send")
@login_required
def invoice_send(invoice_id: int):
    """Issue a reviewed draft and queue it, or queue an issued invoice again (resend)."""
    invoice = get_or_404(db.session, Invoice, invoice_id)
    form = SendForm()
    if not form.validate_on_submit():
        abort(400)
    notify = Notify(email=bool(form.email.data), sms=bool(form.sms.data))
    if form.intent.data == "issue" and not invoice.is_draft:
        flash(f"Invoice {invoice.number} was already issued; nothing more was sent.", "info")
        return redirect(url_for("admin.invoice_detail", invoice_id=invoice.id))
    try:
        if invoice.is_draft:
            if not notify:
                issued, _ = issue_invoice(db.session, actor=actor(), invoice_id=invoice.id)
                flash(f"Issued as {issued.number}; nothing was sent.", "success")
            else:
                issued, rows = issue_invoice(db.session, actor=actor(), invoice_id=invoice.id, notify=notify)
                flash(f"Issued as {issued.number} and queued: {_describe(rows)}.", "success")
        else:
            rows = send_invoice(db.session, actor=actor(), invoice_id=invoice.id, notify=notify)
            flash(f"Queued again: {_describe(rows)}.", "success")
    except DomainError as exc:
        show_errors(None, exc)
        target = "admin.invoice_review" if invoice.is_draft else "admin.invoice_detail"
        return redirect(url_for(target, invoice_id=invoice.id))
    return redirect(url_for("admin.invoice_detail", invoice_id=invoice.id))


def _describe(rows) -> str:
    return ", ".join(f"{row.channel} to {row.recipient}" for row in rows)


@bp.route("/invoices/<int:invoice_id>/void", methods=["GET", "POST"])
@login_required
def invoice_void(invoice_id: int):
    invoice = get_or_404(db.session, Invoice, invoice_id)
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            void_invoice(db.session, actor=actor(), invoice_id=invoice.id, reason=form.reason.data or "")
        except DomainError as exc:
            show_errors(None, exc)
        else:
            flash(f"Invoice {invoice.number} is void. Its number stays used.", "success")
        return redirect(url_for("admin.invoice_detail", invoice_id=invoice.id))
    return render_template("admin/invoices/void.html", invoice=invoice, form=form)


@bp.route("/invoices/<int:invoice_id>/delete", methods=["GET", "POST"])
@login_required
def invoice_delete(invoice_id: int):
    invoice = get_or_404(db.session, Invoice, invoice_id)
    if not invoice.is_draft:
        flash("Only drafts can be deleted; void an issued invoice instead.", "error")
        return redirect(url_for("admin.invoice_detail", invoice_id=invoice.id))
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            delete_draft(db.session, actor=actor(), invoice_id=invoice.id)
        except DomainError as exc:
            show_errors(None, exc)
            return redirect(url_for("admin.invoice_review", invoice_id=invoice.id))
        flash("Draft deleted.", "success")
        return redirect(url_for("admin.invoices"))
    return render_template("admin/invoices/delete.html", invoice=invoice, form=form)
