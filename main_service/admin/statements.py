"""A client's statement of account: on screen, as a PDF, and e-mailed through the queue."""

from __future__ import annotations

import datetime as dt

from flask import Response, flash, redirect, render_template, url_for
from flask_login import login_required

from main_service.admin import bp
from main_service.admin.access import actor
from main_service.admin.forms import ConfirmForm, show_errors
from shared import documents, reports
from shared.db import db
from shared.errors import DomainError
from shared.lookups import get_or_404
from shared.models import Client
from shared.services import Notify, queue_statement


@bp.get("/clients/<int:client_id>/statement")
@login_required
def client_statement(client_id: int):
    client = get_or_404(db.session, Client, client_id, label="client")
    statement = reports.client_statement(db.session, client.id, as_of=dt.date.today())
    return render_template("admin/clients/statement.html", client=client, statement=statement, confirm=ConfirmForm())


@bp.get("/clients/<int:client_id>/statement.pdf")
@login_required
def client_statement_pdf(client_id: int):
    client = get_or_404(db.session, Client, client_id, label="client")
    today = dt.date.today()
    return Response(
        documents.render_statement_pdf(db.session, client.id, as_of=today),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{documents.statement_filename(client, today)}"'},
    )


@bp.post("/clients/<int:client_id>/statement/send")
@login_required
def client_statement_send(client_id: int):
    if ConfirmForm().validate_on_submit():
        try:
            rows = queue_statement(db.session, actor=actor(), client_id=client_id, notify=Notify(email=True))
        except DomainError as exc:
            show_errors(None, exc)
        else:
            flash(f"Statement queued for e-mail to {rows[0].recipient}.", "success")
    return redirect(url_for("admin.client_statement", client_id=client_id))
