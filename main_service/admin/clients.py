"""Clients: list and search, create, edit, archive, and each client's page."""

from __future__ import annotations

import datetime as dt

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import func, or_, select

from main_service.admin import bp
from main_service.admin.access import actor
from main_service.admin.forms import ClientForm, ConfirmForm, show_errors
from main_service.admin.pagination import paginate
from main_service.admin.reports import csv_download, csv_text, export_url
from shared.db import db
from shared.documents.formatting import format_phone
from shared.errors import DomainError
from shared.lookups import get_or_404
from shared.models import Client, Invoice, Payment
from shared.queries import client_balances, timeline
from shared.services import archive_client, create_client, restore_client, update_client
from shared.services.credit_notes import client_credit_balances


@bp.get("/clients")
@login_required
def clients():
    query, q, show = _list_query()
    page = paginate(query)
    return render_template(
        "admin/clients/list.html", page=page, q=q, show=show, csv_url=export_url("admin.clients_csv")
    )


def _list_query():
    """The clients the list's filters let through, by name (on screen and in its CSV export)."""
    query = select(Client)
    q = (request.args.get("q") or "").strip()
    if q:
        pattern = f"%{q.lower()}%"
        query = query.where(
            or_(
                func.lower(Client.name).like(pattern),
                func.lower(Client.email).like(pattern),
                Client.phone.like(pattern),
            )
        )
    show = request.args.get("show", "active")
    if show == "archived":
        query = query.where(Client.archived_at.is_not(None))
    elif show != "all":
        query = query.where(Client.archived_at.is_(None))
    return query.order_by(func.lower(Client.name), Client.id), q, show


@bp.get("/clients.csv")
@login_required
def clients_csv():
    """The client list with its filters applied, every page."""
    query, _, _ = _list_query()
    header = ["client_id", "name", "type", "email", "phone", "currency", "billing_address", "archived"]
    rows = (
        [
            c.id,
            csv_text(c.name),
            csv_text(c.client_type),
            csv_text(c.email),
            csv_text(c.phone),
            csv_text(c.default_currency),
            csv_text(c.billing_address),
            "yes" if c.archived_at is not None else "no",
        ]
        for c in db.session.scalars(query).all()
    )
    return csv_download("clients", header, rows, today=dt.date.today())


@bp.route("/clients/new", methods=["GET", "POST"])
@login_required
def client_new():
    form = ClientForm()
    if form.validate_on_submit():
        try:
            client = create_client(db.session, actor=actor(), data=form.to_input())
        except DomainError as exc:
            show_errors(form, exc)
        else:
            flash(f"Client {client.name} created.", "success")
            return redirect(url_for("admin.client_detail", client_id=client.id))
    return render_template("admin/clients/form.html", form=form, client=None)


@bp.route("/clients/<int:client_id>/edit", methods=["GET", "POST"])
@login_required
def client_edit(client_id: int):
    client = get_or_404(db.session, Client, client_id)
    form = ClientForm(obj=client)
    if request.method == "GET":
        form.default_currency.data = client.default_currency or ""
        form.phone.data = format_phone(client.phone)  # "+1 415-555-0199": read back the same
    if form.validate_on_submit():
        try:
            update_client(db.session, actor=actor(), client_id=client.id, data=form.to_changes())
        except DomainError as exc:
            show_errors(form, exc)
        else:
            flash("Client saved.", "success")
            return redirect(url_for("admin.client_detail", client_id=client.id))
    return render_template("admin/clients/form.html", form=form, client=client)


@bp.get("/clients/<int:client_id>")
@login_required
def client_detail(client_id: int):
    client = get_or_404(db.session, Client, client_id)
    invoices = db.session.scalars(
        select(Invoice).where(Invoice.client_id == client.id).order_by(Invoice.id.desc()).limit(100)
    ).all()
    payments = db.session.scalars(
        select(Payment).join(Invoice).where(Invoice.client_id == client.id).order_by(Payment.id.desc()).limit(100)
    ).all()
    balances = client_balances(db.session, client.id)
    activity = timeline(db.session, client, limit=50)
    return render_template(
        "admin/clients/detail.html",
        client=client,
        invoices=invoices,
        payments=payments,
        balances=balances,
        credits=client_credit_balances(db.session, client.id),
        activity=activity,
        confirm=ConfirmForm(),
    )


@bp.post("/clients/<int:client_id>/archive")
@login_required
def client_archive(client_id: int):
    if ConfirmForm().validate_on_submit():
        try:
            client = archive_client(db.session, actor=actor(), client_id=client_id)
            flash(f"{client.name} archived. Their invoices stay; they no longer appear in pickers.", "success")
        except DomainError as exc:
            show_errors(None, exc)
    return redirect(url_for("admin.client_detail", client_id=client_id))


@bp.post("/clients/<int:client_id>/restore")
@login_required
def client_restore(client_id: int):
    if ConfirmForm().validate_on_submit():
        try:
            client = restore_client(db.session, actor=actor(), client_id=client_id)
            flash(f"{client.name} restored.", "success")
        except DomainError as exc:
            show_errors(None, exc)
    return redirect(url_for("admin.client_detail", client_id=client_id))
