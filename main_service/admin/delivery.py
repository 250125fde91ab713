"""The delivery queue: every outgoing message, with retry and cancel."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from main_service.admin import bp
from main_service.admin.access import actor
from main_service.admin.forms import ConfirmForm, show_errors
from main_service.admin.pagination import paginate
from shared.db import db
from shared.errors import DomainError
from shared.models import QueuedMessage, WebhookEndpoint
from shared.models.enums import CHANNELS, MESSAGE_KINDS, MESSAGE_STATES
from shared.services import cancel_message, retry_message


@bp.get("/delivery")
@login_required
def delivery():
    query = select(QueuedMessage).options(selectinload(QueuedMessage.invoice))
    filters = {}
    for name, column, choices in (
        ("state", QueuedMessage.state, MESSAGE_STATES),
        ("channel", QueuedMessage.channel, CHANNELS),
        ("kind", QueuedMessage.kind, MESSAGE_KINDS),
    ):
        value = request.args.get(name, "")
        filters[name] = value
        if value in choices:
            query = query.where(column == value)
    page = paginate(query.order_by(QueuedMessage.id.desc()))
    return render_template(
        "admin/delivery.html",
        page=page,
        filters=filters,
        choices={"state": MESSAGE_STATES, "channel": CHANNELS, "kind": MESSAGE_KINDS},
        confirm=ConfirmForm(),
        webhook_endpoints=db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id).limit(10)).all(),
    )


def _back(row_id: int) -> str:
    target = request.form.get("next", "")
    return target if target.startswith("/admin/") and not target.startswith("//") else url_for("admin.delivery")


@bp.post("/delivery/<int:message_id>/<any(retry, cancel):action>")
@login_required
def delivery_action(message_id: int, action: str):
    if ConfirmForm().validate_on_submit():
        change = retry_message if action == "retry" else cancel_message
        try:
            row = change(db.session, actor=actor(), message_id=message_id)
        except DomainError as exc:
            show_errors(None, exc)
        else:
            verb = "queued again" if action == "retry" else "cancelled"  # not a state: words for the flash
            flash(f"{row.kind.capitalize()} {row.channel} to {row.recipient} {verb}.", "success")
    return redirect(_back(message_id))
