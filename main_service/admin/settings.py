"""Settings (admins only): company profile and logo, numbering, terms, tax rounding, reminders."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from main_service.admin import bp
from main_service.admin.access import actor, admin_required
from main_service.admin.forms import ConfirmForm, LogoForm, SettingsForm, show_errors
from shared.db import db
from shared.documents.formatting import format_iban
from shared.errors import DomainError
from shared.lookups import get_settings
from shared.services.settings import MAX_LOGO_BYTES, remove_logo, set_logo, update_settings


@bp.route("/settings", methods=["GET", "POST"])
@admin_required
def settings():
    current = get_settings(db.session)
    form = SettingsForm(obj=current)
    if request.method == "GET":
        form.payment_terms_days.data = str(current.payment_terms_days)
        form.reminder_offsets.data = ", ".join(str(day) for day in current.reminder_offsets)
        form.reminder_repeat_days.data = str(current.reminder_repeat_days)
        form.reminder_max.data = str(current.reminder_max)
        form.iban.data = format_iban(current.iban or "")  # in groups of four, as it is printed
    form.offer_currency(form.default_currency.data)
    if form.validate_on_submit():
        try:
            update_settings(db.session, actor=actor(), data=form.to_changes())
        except DomainError as exc:
            show_errors(form, exc)
            # The refusal rolled back; on a fresh install that took the settings row just made with it.
            current = get_settings(db.session)
        else:
            flash("Settings saved.", "success")
            return redirect(url_for("admin.settings"))
    return render_template(
        "admin/settings.html", form=form, logo_form=LogoForm(formdata=None), settings=current, confirm=ConfirmForm()
    )


@bp.post("/settings/logo")
@admin_required
def settings_logo():
    form = LogoForm()
    if not form.validate_on_submit():
        abort(400)
    upload = form.logo.data
    data = upload.read(MAX_LOGO_BYTES + 1) if upload else b""
    try:
        set_logo(db.session, actor=actor(), data=data)
    except DomainError as exc:
        show_errors(None, exc)
    else:
        flash("Logo saved; it appears on new PDFs.", "success")
    return redirect(url_for("admin.settings"))


@bp.post("/settings/logo/remove")
@admin_required
def settings_logo_remove():
    if ConfirmForm().validate_on_submit():
        remove_logo(db.session, actor=actor())
        flash("Logo removed.", "success")
    return redirect(url_for("admin.settings"))


@bp.get("/settings/logo")
@login_required
def settings_logo_image():
    current = get_settings(db.session)
    if not current.logo:
        abort(404)
    return Response(
        current.logo,
        mimetype=current.logo_mime or "application/octet-stream",
        headers={"Content-Security-Policy": "default-src 'none'", "Cache-Control": "private, max-age=60"},
    )
