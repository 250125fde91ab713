"""Users and API keys (admins only)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import func, select

from main_service.admin import bp
from main_service.admin.access import actor, admin_required
from main_service.admin.forms import ApiKeyForm, ConfirmForm, PasswordResetForm, RoleForm, UserForm, show_errors
from main_service.admin.pagination import paginate
from shared.db import db
from shared.errors import DomainError
from shared.lookups import get_or_404
from shared.models import ApiKey, User
from shared.services import create_api_key, create_user, revoke_api_key
from shared.services.sign_in import sign_in_blocks, unblock_sign_in
from shared.services.users import change_role, reset_password, set_user_active


@bp.route("/users", methods=["GET", "POST"])
@admin_required
def users():
    form = UserForm()
    if form.validate_on_submit():
        try:
            user = create_user(
                db.session,
                actor=actor(),
                email=form.email.data or "",
                name=form.name.data or "",
                role=form.role.data,
                password=form.password.data or "",
            )
        except DomainError as exc:
            show_errors(form, exc)
        else:
            flash(f"{user.name} can now sign in as {user.email}.", "success")
            return redirect(url_for("admin.users"))
    page = paginate(select(User).order_by(func.lower(User.name)))
    blocks = sign_in_blocks(db.session, [user.email for user in page.items])
    return render_template(
        "admin/users.html", page=page, form=form, confirm=ConfirmForm(), me=current_user.id, blocks=blocks
    )


@bp.get("/users/<int:user_id>")
@admin_required
def user(user_id: int):
    return _user_page(user_id)


def _user_page(user_id: int, *, role_form: RoleForm | None = None, reset_form: PasswordResetForm | None = None):
    person = get_or_404(db.session, User, user_id)
    role_form = role_form or RoleForm(formdata=None, role=person.role)
    reset_form = reset_form or PasswordResetForm(formdata=None)
    return render_template(
        "admin/user.html", person=person, role_form=role_form, reset_form=reset_form, me=current_user.id
    )


@bp.post("/users/<int:user_id>/role")
@admin_required
def user_role(user_id: int):
    form = RoleForm()
    if form.validate_on_submit():
        try:
            person = change_role(db.session, actor=actor(), user_id=user_id, role=form.role.data)
        except DomainError as exc:
            show_errors(form, exc)
        else:
            flash(f"{person.email} is now {person.role}.", "success")
            return redirect(url_for("admin.user", user_id=user_id))
    return _user_page(user_id, role_form=form), 422


@bp.post("/users/<int:user_id>/password")
@admin_required
def user_password(user_id: int):
    form = PasswordResetForm()
    if form.validate_on_submit():
        try:
            person = reset_password(
                db.session, actor=actor(), user_id=user_id, new_password=form.new_password.data or ""
            )
        except DomainError as exc:
            show_errors(form, exc)
        else:
            flash(f"New password set for {person.email}; every session they had has ended.", "success")
            return redirect(url_for("admin.user", user_id=user_id))
    return _user_page(user_id, reset_form=form), 422


@bp.post("/users/<int:user_id>/<any(activate, deactivate):change>")
@admin_required
def user_active(user_id: int, change: str):
    if ConfirmForm().validate_on_submit():
        try:
            user = set_user_active(db.session, actor=actor(), user_id=user_id, active=change == "activate")
        except DomainError as exc:
            show_errors(None, exc)
        else:
            flash(f"{user.email} {'can sign in again' if user.is_active else 'can no longer sign in'}.", "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/unlock")
@admin_required
def user_unlock(user_id: int):
    if ConfirmForm().validate_on_submit():
        try:
            user = unblock_sign_in(db.session, actor=actor(), user_id=user_id)
        except DomainError as exc:
            show_errors(None, exc)
        else:
            flash(f"{user.email} can try to sign in again from every address.", "success")
    return redirect(url_for("admin.users"))


@bp.route("/api-keys", methods=["GET", "POST"])
@admin_required
def api_keys():
    form = ApiKeyForm()
    new_secret = None
    if form.validate_on_submit():
        try:
            key, new_secret = create_api_key(
                db.session, actor=actor(), name=form.name.data or "", scope=form.scope.data
            )
        except DomainError as exc:
            show_errors(form, exc)
        else:
            flash(f"API key {key.name} created. Copy it now: it is shown only this once.", "success")
            form = ApiKeyForm(formdata=None)
    page = paginate(select(ApiKey).order_by(ApiKey.id.desc()))
    response = render_template(
        "admin/api_keys.html", page=page, form=form, confirm=ConfirmForm(), new_secret=new_secret
    )
    return response, 200, {"Cache-Control": "no-store"}


@bp.post("/api-keys/<int:key_id>/revoke")
@admin_required
def api_key_revoke(key_id: int):
    if ConfirmForm().validate_on_submit():
        try:
            key = revoke_api_key(db.session, actor=actor(), key_id=key_id)
        except DomainError as exc:
            show_errors(None, exc)
        else:
            flash(f"API key {key.name} revoked; requests with it now get 401.", "success")
    return redirect(url_for("admin.api_keys"))
