"""Sign in and out, change one's password; the user loader that ends sessions that are over (SPEC §6)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from main_service.admin import bp, login_manager
from main_service.admin.access import SignedInUser, actor
from main_service.admin.forms import ConfirmForm, LoginForm, PasswordChangeForm, show_errors
from shared.db import db, utcnow
from shared.errors import DomainError
from shared.services.sign_in import SignInRefused, session_user, sign_in, sign_out
from shared.services.users import change_password


@login_manager.user_loader
def load_user(token: str) -> SignedInUser | None:
    user = session_user(db.session, token, session.get("signed_in_at"))
    return SignedInUser(user) if user is not None else None


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
            user = sign_in(
                db.session, email=form.email.data or "", password=form.password.data or "", source=request.remote_addr
            )
        except SignInRefused as exc:
            show_errors(None, exc)
            return render_template("admin/login.html", form=form)
        session.clear()  # nothing from before the sign-in carries over
        login_user(SignedInUser(user))
        session["signed_in_at"] = int(utcnow().timestamp())
        return redirect(safe_next(request.args.get("next")))
    return render_template("admin/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    if ConfirmForm().validate_on_submit():
        sign_out(db.session, user_id=current_user.user.id)
        logout_user()
        flash("You are signed out.", "info")
        return redirect(url_for("admin.login"))
    return redirect(url_for("admin.dashboard"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            user = change_password(
                db.session,
                actor=actor(),
                user_id=current_user.user.id,
                current_password=form.current_password.data or "",
                new_password=form.new_password.data or "",
            )
        except DomainError as exc:
            show_errors(form, exc)
        else:
            login_user(SignedInUser(user))  # this browser carries on with the new session version
            flash("Your password is changed; every other session of yours has ended.", "success")
            return redirect(url_for("admin.account"))
    return render_template("admin/account.html", form=form)
