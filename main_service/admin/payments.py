"""Payments and receipts: record one against an invoice, list them, void one, see the receipt."""

from __future__ import annotations

import datetime as dt

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from main_service.admin import bp
from main_service.admin.access import actor
from main_service.admin.forms import PaymentForm, ReasonForm, offer_channels, show_errors
from main_service.admin.pagination import paginate
from main_service.admin.reports import csv_amount, csv_download, csv_text, export_url
from shared.db import db
from shared.errors import DomainError
from shared.lookups import get_or_404
from shared.messages.queue import reachable
from shared.models import Invoice, Payment
from shared.models.enums import PAYMENT_METHODS, PaymentState
from shared.queries import timeline
from shared.services import Notify, record_payment, void_payment


@bp.route("/invoices/<int:invoice_id>/payments/new", methods=["GET", "POST"])
@login_required
def payment_new(invoice_id: int):
    invoice = get_or_404(db.session, Invoice, invoice_id)
    form = PaymentForm()
    if request.method == "GET":
        form.amount.data = format(invoice.balance_due, "f")
        form.paid_on.data = dt.date.today().isoformat()
    offer_channels(
        form.notify_email,
        form.notify_sms,
        reachable(invoice.billed_to),
        sms_ticked=False,
        submitted=form.is_submitted(),
    )
    if form.validate_on_submit():
        try:
            payment, _ = record_payment(
                db.session,
                actor=actor(),
                invoice_id=invoice.id,
                data=form.to_input(),
                notify=Notify(email=bool(form.notify_email.data), sms=bool(form.notify_sms.data)),
            )
        except DomainError as exc:
            show_errors(form, exc)
        else:
            flash(f"Payment recorded; receipt {payment.receipt_number}.", "success")
            return redirect(url_for("admin.payment_detail", payment_id=payment.id))
    return render_template("admin/payments/new.html", invoice=invoice, form=form)


@bp.get("/payments")
@login_required
def payments():
    query, filters = _list_query()
    page = paginate(query.order_by(Payment.id.desc()))
    return render_template(
        "admin/payments/list.html",
        page=page,
        methods=PAYMENT_METHODS,
        filters=filters,
        csv_url=export_url("admin.payments_csv"),
    )


def _list_query():
    """The payments the list's filters let through (on screen and in its CSV export), and the filters shown."""
    query = select(Payment).options(selectinload(Payment.invoice).selectinload(Invoice.client))
    method = request.args.get("method", "")
    if method in PAYMENT_METHODS:
        query = query.where(Payment.method == method)
    state = request.args.get("state", "")
    if state == "live":
        query = query.where(Payment.voided_at.is_(None))
    elif state == PaymentState.VOID:
        query = query.where(Payment.voided_at.is_not(None))
    q = (request.args.get("q") or "").strip()
    if q:
        query = query.where(Payment.receipt_number.ilike(f"%{q}%") | Payment.reference.ilike(f"%{q}%"))
    return query, {"method": method, "state": state, "q": q}


@bp.get("/payments.csv")
@login_required
def payments_csv():
    """The payment list with its filters applied, every page, oldest first."""
    query, _ = _list_query()
    payments = db.session.scalars(query.order_by(Payment.id)).all()
    header = ["receipt_number", "invoice_number", "client", "paid_on", "amount", "currency", "method", "reference"]
    header += ["voided", "voided_at"]
    rows = (
        [
            csv_text(p.receipt_number),
            csv_text(p.invoice.number),
            csv_text(p.invoice.billed_to.get("name")),
            csv_text(p.paid_on),
            csv_amount(p.amount, p.currency),
            p.currency,
            csv_text(p.method),
            csv_text(p.reference),
            "yes" if p.is_void else "no",
            csv_text(p.voided_at),
        ]
        for p in payments
    )
    return csv_download("payments", header, rows, today=dt.date.today())


@bp.get("/payments/<int:payment_id>")
@login_required
def payment_detail(payment_id: int):
    payment = get_or_404(db.session, Payment, payment_id)
    activity = timeline(db.session, payment)
    return render_template(
        "admin/payments/detail.html", payment=payment, void_form=ReasonForm(formdata=None), activity=activity
    )


@bp.get("/payments/<int:payment_id>/receipt.pdf")
@login_required
def payment_receipt_pdf(payment_id: int):
    from shared import documents

    payment = get_or_404(db.session, Payment, payment_id)
    return Response(
        documents.render_receipt_pdf(db.session, payment),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{documents.pdf_filename(payment)}"'},
    )


@bp.route("/payments/<int:payment_id>/void", methods=["GET", "POST"])
@login_required
def payment_void(payment_id: int):
    payment = get_or_404(db.session, Payment, payment_id)
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            void_payment(db.session, actor=actor(), payment_id=payment.id, reason=form.reason.data or "")
        except DomainError as exc:
            show_errors(None, exc)
        else:
            flash(f"Payment {payment.receipt_number} is void; the balance is back on the invoice.", "success")
        return redirect(url_for("admin.payment_detail", payment_id=payment.id))
    return render_template("admin/payments/void.html", payment=payment, form=form)
