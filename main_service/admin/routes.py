from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import UserMixin, current_user, login_required, login_user, logout_user
from sqlalchemy import func, select

from main_service.admin import bp, login_manager
from main_service.admin.forms import LoginForm, LogoutForm
from shared import money
from shared.db import db, utcnow
from shared.models import Invoice, QueuedMessage, User
from shared.models.enums import INVOICE_STATES
from shared.services.users import find_user_by_email


class SignedInUser(UserMixin):
    """Flask-Login's view of a :class:`User`; the shared model stays free of Flask-Login.

    Attribute reads (``name``, ``role``, ``is_admin``, ...) go to the wrapped
    user, which is also available as ``.user`` for services that need the model.
    """

    def __init__(self, user: User) -> None:
        self.user = user

    def get_id(self) -> str:
        return str(self.user.id)

    @property
    def is_active(self) -> bool:
        return bool(self.user.is_active)

    def __getattr__(self, name: str):
        return getattr(self.user, name)


@login_manager.user_loader
def load_user(user_id: str) -> SignedInUser | None:
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    return SignedInUser(user) if user is not None and user.is_active else None


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never let ``next=`` send someone to another host."""
    if not target:
        return url_for("admin.dashboard")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("admin.dashboard")
    return target


@bp.after_app_request
def security_headers(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
    )
    return response


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("admin.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        user = find_user_by_email(db.session, form.email.data or "")
        if user is not None and user.is_active and user.check_password(form.password.data or ""):
            user.last_login_at = utcnow()
            db.session.commit()
            login_user(SignedInUser(user))
            return redirect(_safe_next(request.args.get("next")))
        flash("That e-mail and password do not match an active account.", "error")
    return render_template("admin/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    form = LogoutForm()
    if form.validate_on_submit():
        logout_user()
        flash("You are signed out.", "info")
        return redirect(url_for("admin.login"))
    return redirect(url_for("admin.dashboard"))


@bp.get("/")
@login_required
def dashboard():
    counts = dict(db.session.execute(select(Invoice.status, func.count()).group_by(Invoice.status)).all())
    outstanding = db.session.execute(
        select(Invoice.currency, func.sum(Invoice.total), func.sum(Invoice.amount_paid))
        .where(Invoice.status.in_(("open", "partially_paid")))
        .group_by(Invoice.currency)
        .order_by(Invoice.currency)
    ).all()
    queued = db.session.scalar(select(func.count()).where(QueuedMessage.state == "queued"))
    balances = [(currency, money.format_amount(total - paid, currency)) for currency, total, paid in outstanding]
    return render_template(
        "admin/dashboard.html",
        counts=[(state, counts.get(state, 0)) for state in INVOICE_STATES],
        balances=balances,
        queued=queued,
        logout_form=LogoutForm(),
    )
