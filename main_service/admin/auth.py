"""Sign in and out; the user loader; security headers on every admin response."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from main_service.admin import bp, login_manager
from main_service.admin.access import SignedInUser
from main_service.admin.forms import ConfirmForm, LoginForm
from shared.db import db, parse_id
from shared.models import User
from shared.services.users import SignInRefused, sign_in


@login_manager.user_loader
def load_user(user_id: str) -> SignedInUser | None:
    if parse_id(user_id) is None:
        return None
    user = db.session.get(User, parse_id(user_id))
    return SignedInUser(user) if user is not None and user.is_active else None


def safe_next(target: str | None) -> str:
    """Only same-site paths: never let ``next=`` send someone to another host."""
    fallback = url_for("admin.dashboard")
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(ch) < 32 for ch in target):
        return fallback
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("admin.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = sign_in(db.session, email=form.email.data or "", password=form.password.data or "")
        except SignInRefused as exc:
            flash(exc.message, "error")
            return render_template("admin/login.html", form=form)
        login_user(SignedInUser(user))
        return redirect(safe_next(request.args.get("next")))
    return render_template("admin/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    if ConfirmForm().validate_on_submit():
        logout_user()
        flash("You are signed out.", "info")
        return redirect(url_for("admin.login"))
    return redirect(url_for("admin.dashboard"))
