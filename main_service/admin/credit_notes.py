"""Credit notes, client credit and refunds (SPEC §11): issue one from an invoice, list them, apply and refund credit."""

from __future__ import annotations

import datetime as dt

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from main_service.admin import bp
from main_service.admin.access import actor
from main_service.admin.forms import ApplyCreditForm, CreditNoteForm, RefundForm, show_errors
from main_service.admin.pagination import paginate
from shared import money
from shared.db import db
from shared.errors import DomainError
from shared.lookups import get_or_404
from shared.models import Client, CreditNote, Invoice
from shared.services import Notify, apply_client_credit, issue_credit_note, refund_client_credit
from shared.services.credit_notes import client_credit_balances, client_credit_in, preview_credit_note


@bp.route("/invoices/<int:invoice_id>/credit-notes/new", methods=["GET", "POST"])
@login_required
def credit_note_new(invoice_id: int):
    """Choose what to credit, see the credit note's totals, then confirm (two steps, both POSTs with CSRF)."""
    invoice = get_or_404(db.session, Invoice, invoice_id)
    form = CreditNoteForm()
    while len(form.line_amounts) < len(invoice.lines):
        form.line_amounts.append_entry()
    if request.method == "GET":
        form.issue_date.data = dt.date.today().isoformat()
    totals = None
    if form.validate_on_submit():
        data = form.to_input(invoice.lines)
        try:
            if request.form.get("action") == "confirm":
                note, _ = issue_credit_note(
                    db.session,
                    actor=actor(),
                    invoice_id=invoice.id,
                    data=data,
                    notify=Notify(email=bool(form.notify_email.data)),
                )
                flash(f"Credit note {note.number} issued.", "success")
                return redirect(url_for("admin.credit_note_detail", credit_note_id=note.id))
            totals = preview_credit_note(db.session, invoice_id=invoice.id, data=data)
        except DomainError as exc:
            db.session.rollback()
            show_errors(form, exc)
            totals = None
    return render_template(
        "admin/credit_notes/new.html",
        invoice=invoice,
        form=form,
        rows=list(zip(invoice.lines, form.line_amounts, strict=False)),
        totals=totals,
        creditable=invoice.creditable_amount,
    )


@bp.get("/credit-notes")
@login_required
def credit_notes():
    query = select(CreditNote).options(selectinload(CreditNote.invoice), selectinload(CreditNote.client))
    q = (request.args.get("q") or "").strip()
    if q:
        query = query.where(CreditNote.number.ilike(f"%{q}%"))
    page = paginate(query.order_by(CreditNote.id.desc()))
    return render_template("admin/credit_notes/list.html", page=page, filters={"q": q})


@bp.get("/credit-notes/<int:credit_note_id>")
@login_required
def credit_note_detail(credit_note_id: int):
    note = get_or_404(db.session, CreditNote, credit_note_id, label="credit note")
    return render_template("admin/credit_notes/detail.html", note=note, invoice=note.invoice)


@bp.get("/credit-notes/<int:credit_note_id>.pdf")
@login_required
def credit_note_pdf(credit_note_id: int):
    from shared import documents

    note = get_or_404(db.session, CreditNote, credit_note_id, label="credit note")
    pdf = documents.render_credit_note_pdf(db.session, note)
    disposition = "attachment" if request.args.get("download") else "inline"
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'{disposition}; filename="{documents.pdf_filename(note)}"'},
    )


def _open_invoices_for_credit(client: Client) -> list[Invoice]:
    currencies = [credit.currency for credit in client_credit_balances(db.session, client.id)]
    if not currencies:
        return []
    return list(
        db.session.scalars(
            select(Invoice)
            .where(Invoice.client_id == client.id, Invoice.is_live, Invoice.currency.in_(currencies))
            .order_by(Invoice.due_date, Invoice.id)
        )
    )


@bp.route("/clients/<int:client_id>/credit/apply", methods=["GET", "POST"])
@login_required
def client_credit_apply(client_id: int):
    client = get_or_404(db.session, Client, client_id, label="client")
    invoices = _open_invoices_for_credit(client)
    form = ApplyCreditForm()
    form.invoice_id.choices = [
        (
            str(invoice.id),
            f"{invoice.number} · {invoice.currency} · balance {money.format_amount(invoice.balance_due, invoice.currency)}",
        )
        for invoice in invoices
    ]
    if request.method == "GET" and request.args.get("invoice_id"):
        form.invoice_id.data = request.args["invoice_id"]
    if form.validate_on_submit():
        chosen = next((invoice for invoice in invoices if str(invoice.id) == form.invoice_id.data), None)
        if chosen is None:
            form.invoice_id.errors = ["choose one of the client's invoices with a balance"]
        else:
            try:
                apply_client_credit(db.session, actor=actor(), invoice_id=chosen.id, data=form.to_input())
            except DomainError as exc:
                db.session.rollback()
                show_errors(form, exc)
            else:
                flash(f"Client credit applied to {chosen.number}.", "success")
                return redirect(url_for("admin.invoice_detail", invoice_id=chosen.id))
    return render_template(
        "admin/credit_notes/apply.html",
        client=client,
        form=form,
        credits=client_credit_balances(db.session, client.id),
        has_invoices=bool(invoices),
    )


@bp.route("/clients/<int:client_id>/refunds/new", methods=["GET", "POST"])
@login_required
def client_refund_new(client_id: int):
    client = get_or_404(db.session, Client, client_id, label="client")
    credits = client_credit_balances(db.session, client.id)
    form = RefundForm()
    form.currency.choices = [(credit.currency, credit.currency) for credit in credits]
    if request.method == "GET":
        form.refunded_on.data = dt.date.today().isoformat()
        chosen = request.args.get("currency") or (credits[0].currency if credits else "")
        form.currency.data = chosen
        if chosen:
            form.amount.data = client_credit_in(db.session, client.id, chosen)
    if form.validate_on_submit():
        try:
            refund = refund_client_credit(db.session, actor=actor(), client_id=client.id, data=form.to_input())
        except DomainError as exc:
            db.session.rollback()
            show_errors(form, exc)
        else:
            flash(
                f"Refund of {money.format_amount(refund.amount, refund.currency)} {refund.currency} recorded.",
                "success",
            )
            return redirect(url_for("admin.client_detail", client_id=client.id))
    return render_template("admin/credit_notes/refund.html", client=client, form=form, credits=credits)
