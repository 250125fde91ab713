"""Webhooks under Settings (SPEC §15): endpoints (admins), their deliveries and retries (all staff)."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from main_service.admin import bp
from main_service.admin.access import actor, admin_required
from main_service.admin.forms import ConfirmForm, WebhookEndpointForm, show_errors
from main_service.admin.pagination import paginate
from shared.db import db
from shared.errors import DomainError
from shared.lookups import get_or_404
from shared.models import WebhookDelivery, WebhookEndpoint
from shared.models.enums import WebhookDeliveryState
from shared.services.webhooks import (
    create_webhook_endpoint,
    delete_webhook_endpoint,
    retry_webhook_delivery,
    rotate_webhook_secret,
    send_test_event,
    update_webhook_endpoint,
)

NO_STORE = {"Cache-Control": "no-store"}  # a page showing a secret is never cached


def _allow_private() -> bool:
    return bool(current_app.config.get("WEBHOOK_ALLOW_PRIVATE"))


def _counts() -> dict[int, dict[str, int]]:
    """Deliveries per endpoint and state, for the list."""
    counts: dict[int, dict[str, int]] = {}
    rows = db.session.execute(
        select(WebhookDelivery.endpoint_id, WebhookDelivery.state, func.count()).group_by(
            WebhookDelivery.endpoint_id, WebhookDelivery.state
        )
    )
    for endpoint_id, state, n in rows:
        counts.setdefault(endpoint_id, {})[state] = n
    return counts


@bp.route("/settings/webhooks", methods=["GET", "POST"])
@admin_required
def webhooks():
    form = WebhookEndpointForm()
    new_secret = None
    if form.validate_on_submit():
        try:
            endpoint = create_webhook_endpoint(
                db.session, actor=actor(), data=form.to_input(), allow_private=_allow_private()
            )
        except DomainError as exc:
            show_errors(form, exc)
        else:
            new_secret = endpoint.secret
            flash(f"Webhook endpoint {endpoint.url} added. Copy its secret now: it is shown only this once.", "success")
            form = WebhookEndpointForm(formdata=None)
    page = paginate(select(WebhookEndpoint).order_by(WebhookEndpoint.id.desc()))
    response = render_template(
        "admin/webhooks.html",
        page=page,
        form=form,
        new_secret=new_secret,
        counts=_counts(),
        states=WebhookDeliveryState,
    )
    return response, 200, NO_STORE


@bp.route("/settings/webhooks/<int:endpoint_id>", methods=["GET", "POST"])
@login_required
def webhook_detail(endpoint_id: int):
    """The endpoint's deliveries (any staff member may retry one); admins also edit it here."""
    endpoint = get_or_404(db.session, WebhookEndpoint, endpoint_id, label="webhook endpoint")
    form = WebhookEndpointForm(obj=endpoint) if current_user.is_admin else None
    if request.method == "POST":
        if form is None:
            abort(403)
        if form.validate_on_submit():
            try:
                update_webhook_endpoint(
                    db.session,
                    actor=actor(),
                    endpoint_id=endpoint.id,
                    data=form.to_changes(),
                    allow_private=_allow_private(),
                )
            except DomainError as exc:
                show_errors(form, exc)
                endpoint = get_or_404(db.session, WebhookEndpoint, endpoint_id, label="webhook endpoint")
            else:
                flash("Webhook endpoint saved.", "success")
                return redirect(url_for("admin.webhook_detail", endpoint_id=endpoint.id))
    deliveries = paginate(
        select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id).order_by(WebhookDelivery.id.desc())
    )
    return render_template(
        "admin/webhook_detail.html", endpoint=endpoint, form=form, page=deliveries, confirm=ConfirmForm()
    )


@bp.route("/settings/webhooks/<int:endpoint_id>/rotate", methods=["GET", "POST"])
@admin_required
def webhook_rotate(endpoint_id: int):
    return _confirmed(endpoint_id, "rotate")


@bp.route("/settings/webhooks/<int:endpoint_id>/delete", methods=["GET", "POST"])
@admin_required
def webhook_delete(endpoint_id: int):
    return _confirmed(endpoint_id, "delete")


def _confirmed(endpoint_id: int, action: str):
    """Rotating the secret and deleting the endpoint are asked for twice: a page, then the button on it."""
    endpoint = get_or_404(db.session, WebhookEndpoint, endpoint_id, label="webhook endpoint")
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            if action == "delete":
                delete_webhook_endpoint(db.session, actor=actor(), endpoint_id=endpoint.id)
            else:
                endpoint = rotate_webhook_secret(db.session, actor=actor(), endpoint_id=endpoint.id)
        except DomainError as exc:
            show_errors(None, exc)
            return redirect(url_for("admin.webhook_detail", endpoint_id=endpoint_id))
        if action == "delete":
            flash(f"Webhook endpoint {endpoint.url} deleted; nothing more is sent to it.", "success")
            return redirect(url_for("admin.webhooks"))
        flash("New secret made. Copy it now: it is shown only this once.", "success")
        response = render_template("admin/webhook_secret.html", endpoint=endpoint, new_secret=endpoint.secret)
        return response, 200, NO_STORE
    return render_template("admin/webhook_confirm.html", endpoint=endpoint, action=action, form=form)


@bp.post("/settings/webhooks/<int:endpoint_id>/test")
@admin_required
def webhook_test(endpoint_id: int):
    if ConfirmForm().validate_on_submit():
        try:
            send_test_event(db.session, actor=actor(), endpoint_id=endpoint_id)
        except DomainError as exc:
            show_errors(None, exc)
        else:
            flash("Test event queued; its delivery appears below within seconds.", "success")
    return redirect(url_for("admin.webhook_detail", endpoint_id=endpoint_id))


@bp.post("/webhook-deliveries/<int:delivery_id>/retry")
@login_required
def webhook_delivery_retry(delivery_id: int):
    endpoint_id = None
    if ConfirmForm().validate_on_submit():
        try:
            delivery = retry_webhook_delivery(db.session, actor=actor(), delivery_id=delivery_id)
        except DomainError as exc:
            show_errors(None, exc)
        else:
            endpoint_id = delivery.endpoint_id
            flash(f"Webhook {delivery.event.type} to {delivery.endpoint.url} will be sent again now.", "success")
    if endpoint_id is None:
        row = db.session.get(WebhookDelivery, delivery_id)
        if row is None:
            return redirect(url_for("admin.delivery"))
        endpoint_id = row.endpoint_id
    return redirect(url_for("admin.webhook_detail", endpoint_id=endpoint_id))
