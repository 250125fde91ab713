"""The first-run setup (issue 13 item 6): company, country, currency, time zone, own password.

Until an admin completes (or skips) it, each admin is sent to ``/admin/setup``
once per sign-in and sees a reminder on every page; staff see a notice that
the setup is not finished. Settings keeps every field afterwards.
"""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user

from main_service.admin import bp
from main_service.admin.access import SignedInUser, actor, admin_required
from main_service.admin.forms import ConfirmForm, SetupForm, show_errors
from shared.db import db
from shared.errors import DomainError
from shared.lookups import get_settings
from shared.models import Settings
from shared.services.settings import complete_setup, skip_setup

# Pages an admin may open before being sent to the setup: the setup itself, signing out, assets.
NOT_REDIRECTED = {"admin.setup", "admin.setup_skip", "admin.logout", "admin.login", "admin.static", "admin.account"}
OFFERED = "setup_offered"


def company() -> Settings | None:
    """The settings row for the page chrome (sidebar, notices), read once per request; never created here."""
    if "company" not in g:
        g.company = db.session.get(Settings, 1)
    return g.company


def setup_pending() -> bool:
    settings = company()
    return settings is None or settings.needs_setup


@bp.before_app_request
def offer_the_setup_once():
    """An admin's first page after signing in on an unfinished install is the setup."""
    if request.method != "GET" or request.blueprint != "admin" or request.endpoint in NOT_REDIRECTED:
        return None
    if not current_user.is_authenticated or not current_user.is_admin or session.get(OFFERED):
        return None
    if not setup_pending():
        return None
    session[OFFERED] = True
    return redirect(url_for("admin.setup"))


@bp.app_context_processor
def page_chrome() -> dict:
    if not current_user.is_authenticated:
        return {}
    return {"company": company(), "setup_pending": setup_pending()}


@bp.route("/setup", methods=["GET", "POST"])
@admin_required
def setup():
    session[OFFERED] = True
    current = get_settings(db.session)
    form = SetupForm(obj=current)
    form.offer_currency(form.default_currency.data)
    if form.validate_on_submit():
        try:
            complete_setup(
                db.session,
                actor=actor(),
                data=form.to_data(),
                user_id=current_user.user.id,
                current_password=form.current_password.data or "",
                new_password=form.new_password.data or "",
            )
        except DomainError as exc:
            show_errors(form, exc)
            current = get_settings(db.session)
        else:
            if form.new_password.data:
                login_user(SignedInUser(current_user.user))  # this browser carries on with the new session version
                flash("The company is set up and your password is changed.", "success")
                return redirect(url_for("admin.dashboard"))
            flash(
                "The company is set up. You still sign in with the generated password: choose your own now.",
                "info",
            )
            return redirect(url_for("admin.account"))
    return render_template("admin/setup.html", form=form, settings=current, confirm=ConfirmForm())


@bp.post("/setup/skip")
@admin_required
def setup_skip():
    if ConfirmForm().validate_on_submit():
        skip_setup(db.session, actor=actor())
        flash("Setup skipped; every setting stays on the Settings page.", "info")
    return redirect(url_for("admin.dashboard"))
