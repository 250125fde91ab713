"""Quotes (SPEC §13): list, editor, review before send, send, convert to an invoice, delete, PDF."""

from __future__ import annotations

import datetime as dt

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy.orm import selectinload

from main_service.admin import bp
from main_service.admin.access import actor
from main_service.admin.forms import ConfirmForm, ConvertForm, QuoteForm, QuoteSendForm, show_errors
from main_service.admin.invoices import _client_choices, _editor_action, _shown_discount
from main_service.admin.pagination import keyset_paginate
from shared.db import db, parse_id
from shared.documents.formatting import format_quantity, format_rate, format_unit_price
from shared.errors import DomainError
from shared.lookups import get_or_404
from shared.messages.queue import messages_for_quote
from shared.models import Quote
from shared.models.enums import QUOTE_STATES
from shared.queries import quotes_matching, timeline
from shared.services import Notify, convert_quote, create_quote, delete_quote, send_quote, update_quote


@bp.get("/quotes")
@login_required
def quotes():
    status = request.args.get("status") or ""
    query = quotes_matching(
        status=status if status in QUOTE_STATES else None, client_id=parse_id(request.args.get("client_id") or "")
    ).options(selectinload(Quote.client))
    return render_template(
        "admin/quotes/list.html",
        page=keyset_paginate(query, Quote.id),
        states=QUOTE_STATES,
        filters={"status": status},
    )


def _quote_form(quote: Quote | None = None) -> QuoteForm:
    if request.method == "POST" or quote is None:
        form = QuoteForm()
    else:
        form = QuoteForm(
            data={
                "client_id": str(quote.client_id),
                "currency": quote.currency,
                "issue_date": quote.issue_date.isoformat(),
                "valid_until": quote.valid_until.isoformat(),
                "purchase_order": quote.purchase_order,
                "notes": quote.notes,
                "discount_type": quote.discount_type or "",
                "discount_value": _shown_discount(quote),
                "lines": [
                    {
                        "description": line.description,
                        "quantity": format_quantity(line.quantity),
                        "unit_price": format_unit_price(line.unit_price, quote.currency),
                        "tax_rate": format_rate(line.tax_rate).removesuffix("%"),
                    }
                    for line in quote.lines
                ],
            }
        )
    form.client_id.choices = _client_choices(quote.client if quote else None)
    if quote is None and request.method == "GET":
        wanted = request.args.get("client_id", "")
        if parse_id(wanted):
            form.client_id.data = wanted
        form.issue_date.data = dt.date.today().isoformat()  # valid_until: the service's default when left blank
        while len(form.lines) < 3:
            form.lines.append_entry()
    if form.currency.data and (form.currency.data, form.currency.data) not in form.currency.choices:
        form.currency.choices.append((form.currency.data, form.currency.data))
    return form


@bp.route("/quotes/new", methods=["GET", "POST"])
@login_required
def quote_new():
    form = _quote_form()
    if request.method == "POST" and _editor_action(form) == "save" and form.validate_on_submit():
        try:
            quote = create_quote(db.session, actor=actor(), data=form.to_quote())
        except DomainError as exc:
            show_errors(form, exc)
        else:
            flash("Draft quote saved. Check it below, then send it.", "success")
            return redirect(url_for("admin.quote_review", quote_id=quote.id))
    return render_template("admin/quotes/new.html", form=form)


@bp.route("/quotes/<int:quote_id>/review", methods=["GET", "POST"])
@login_required
def quote_review(quote_id: int):
    """Review before send: the editor, the exact PDF and e-mail, and the send button."""
    quote = get_or_404(db.session, Quote, quote_id)
    if not quote.is_draft:
        return redirect(url_for("admin.quote_detail", quote_id=quote.id))
    form = _quote_form(quote)
    if request.method == "POST" and _editor_action(form) == "save" and form.validate_on_submit():
        try:
            update_quote(db.session, actor=actor(), quote_id=quote.id, data=form.to_quote_changes())
        except DomainError as exc:
            show_errors(form, exc)
        else:
            flash("Draft quote saved.", "success")
            return redirect(url_for("admin.quote_review", quote_id=quote.id))
    from shared.documents import DocumentTooLong, check_renders_on_request
    from shared.documents.pages import MAX_PREVIEW_PAGES
    from shared.messages.preview import preview_quote_message

    try:
        check_renders_on_request(quote)
        too_long = None
    except DocumentTooLong as exc:
        too_long = exc.message
    send_form = QuoteSendForm(formdata=None)
    if not quote.client.email:
        send_form.email.data = False
        send_form.email.render_kw = {"disabled": True}
    return render_template(
        "admin/quotes/review.html",
        quote=quote,
        form=form,
        send_form=send_form,
        preview=preview_quote_message(db.session, quote, current_app.config),
        max_pages=MAX_PREVIEW_PAGES,
        too_long=too_long,
    )


@bp.get("/quotes/<int:quote_id>")
@login_required
def quote_detail(quote_id: int):
    quote = get_or_404(db.session, Quote, quote_id)
    convert_form = ConvertForm(formdata=None)
    if not quote.client.email:
        convert_form.email.data = False
        convert_form.email.render_kw = {"disabled": True}
    return render_template(
        "admin/quotes/detail.html",
        quote=quote,
        messages=messages_for_quote(db.session, quote.id),
        activity=timeline(db.session, quote),
        send_form=QuoteSendForm(formdata=None),
        convert_form=convert_form,
        confirm=ConfirmForm(),
    )


@bp.post("/quotes/<int:quote_id>/send")
@login_required
def quote_send(quote_id: int):
    """Number a reviewed draft and e-mail it, or e-mail a sent quote again."""
    quote = get_or_404(db.session, Quote, quote_id)
    form = QuoteSendForm()
    if not form.validate_on_submit():
        abort(400)
    was_draft = quote.is_draft
    try:
        sent, rows = send_quote(
            db.session, actor=actor(), quote_id=quote.id, notify=Notify(email=bool(form.email.data))
        )
    except DomainError as exc:
        show_errors(None, exc)
        return redirect(url_for("admin.quote_review" if was_draft else "admin.quote_detail", quote_id=quote.id))
    queued = ", ".join(f"{row.channel} to {row.recipient}" for row in rows)
    if was_draft:
        flash(f"Sent as {sent.number}" + (f" and queued: {queued}." if rows else "; nothing was e-mailed."), "success")
    else:
        flash(f"Queued again: {queued}.", "success")
    return redirect(url_for("admin.quote_detail", quote_id=quote.id))


@bp.post("/quotes/<int:quote_id>/convert")
@login_required
def quote_convert(quote_id: int):
    """The quote becomes an invoice (once): staff may convert an accepted or a sent quote."""
    quote = get_or_404(db.session, Quote, quote_id)
    form = ConvertForm()
    if not form.validate_on_submit():
        abort(400)
    issue = bool(form.issue.data)
    try:
        _, invoice, rows = convert_quote(
            db.session,
            actor=actor(),
            quote_id=quote.id,
            issue=issue,
            notify=Notify(email=issue and bool(form.email.data)),
        )
    except DomainError as exc:
        show_errors(None, exc)
        return redirect(url_for("admin.quote_detail", quote_id=quote.id))
    if invoice.is_draft:
        flash("Converted to a draft invoice. Check it, then issue it.", "success")
        return redirect(url_for("admin.invoice_review", invoice_id=invoice.id))
    queued = ", ".join(f"{row.channel} to {row.recipient}" for row in rows)
    flash(f"Converted to invoice {invoice.number}" + (f" and queued: {queued}." if rows else "."), "success")
    return redirect(url_for("admin.invoice_detail", invoice_id=invoice.id))


@bp.route("/quotes/<int:quote_id>/delete", methods=["GET", "POST"])
@login_required
def quote_delete(quote_id: int):
    quote = get_or_404(db.session, Quote, quote_id)
    if not quote.can_edit:
        flash("Only a draft quote can be deleted.", "error")
        return redirect(url_for("admin.quote_detail", quote_id=quote.id))
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            delete_quote(db.session, actor=actor(), quote_id=quote.id)
        except DomainError as exc:
            show_errors(None, exc)
            return redirect(url_for("admin.quote_review", quote_id=quote.id))
        flash("Draft quote deleted.", "success")
        return redirect(url_for("admin.quotes"))
    return render_template("admin/quotes/delete.html", quote=quote, form=form)


@bp.get("/quotes/<int:quote_id>/pdf")
@login_required
def quote_pdf(quote_id: int):
    from shared import documents

    quote = get_or_404(db.session, Quote, quote_id)
    pdf = documents.render_quote_pdf_on_request(db.session, quote)
    disposition = "attachment" if request.args.get("download") else "inline"
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'{disposition}; filename="{documents.pdf_filename(quote)}"'},
    )


@bp.get("/quotes/<int:quote_id>/pages/<int:page>.png")
@login_required
def quote_page_png(quote_id: int, page: int):
    """One page of the quote PDF as a picture, for the review page."""
    from shared import documents
    from shared.documents.pages import page_png

    quote = get_or_404(db.session, Quote, quote_id)
    try:
        png = page_png(documents.render_quote_pdf_on_request(db.session, quote), page)
    except IndexError:
        abort(404)
    return Response(png, mimetype="image/png", headers={"Cache-Control": "private, no-store"})
