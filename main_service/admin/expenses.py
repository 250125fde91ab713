"""Expenses: staff request them, admins approve or decline them with a note."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from main_service.admin import bp
from main_service.admin.access import actor, admin_required
from main_service.admin.forms import ConfirmForm, DecisionForm, ExpenseForm, show_errors
from main_service.admin.pagination import paginate
from shared.db import db
from shared.errors import DomainError
from shared.lookups import get_or_404
from shared.models import Expense
from shared.models.enums import EXPENSE_STATES
from shared.queries import timeline
from shared.services import approve_expense, decline_expense, delete_expense, request_expense, update_expense


@bp.get("/expenses")
@login_required
def expenses():
    query = select(Expense)
    status = request.args.get("status", "")
    if status in EXPENSE_STATES:
        query = query.where(Expense.status == status)
    page = paginate(query.order_by(Expense.expense_date.desc(), Expense.id.desc()))
    return render_template("admin/expenses/list.html", page=page, states=EXPENSE_STATES, status=status)


@bp.route("/expenses/new", methods=["GET", "POST"])
@login_required
def expense_new():
    form = ExpenseForm()
    if form.validate_on_submit():
        try:
            expense = request_expense(db.session, actor=actor(), data=form.to_input(), user_id=current_user.id)
        except DomainError as exc:
            show_errors(form, exc)
        else:
            flash("Expense requested; an admin will approve or decline it.", "success")
            return redirect(url_for("admin.expense_detail", expense_id=expense.id))
    return render_template("admin/expenses/form.html", form=form, expense=None)


def _may_edit(expense: Expense) -> bool:
    return expense.can_be_changed_by(actor())


@bp.route("/expenses/<int:expense_id>/edit", methods=["GET", "POST"])
@login_required
def expense_edit(expense_id: int):
    expense = get_or_404(db.session, Expense, expense_id)
    if not _may_edit(expense):
        abort(403)
    form = ExpenseForm(obj=expense)
    if request.method == "GET":
        form.amount.data = format(expense.amount.normalize(), "f")
        form.expense_date.data = expense.expense_date.isoformat()
    if form.validate_on_submit():
        try:
            update_expense(db.session, actor=actor(), expense_id=expense.id, data=form.to_changes())
        except DomainError as exc:
            show_errors(form, exc)
        else:
            flash("Expense saved.", "success")
            return redirect(url_for("admin.expense_detail", expense_id=expense.id))
    return render_template("admin/expenses/form.html", form=form, expense=expense)


@bp.get("/expenses/<int:expense_id>")
@login_required
def expense_detail(expense_id: int):
    expense = get_or_404(db.session, Expense, expense_id)
    activity = timeline(db.session, expense)
    return render_template(
        "admin/expenses/detail.html",
        expense=expense,
        decision=DecisionForm(formdata=None),
        confirm=ConfirmForm(),
        may_edit=_may_edit(expense),
        may_decide=expense.can_be_decided_by(actor()),
        own_request=expense.is_requested_by(actor()),
        activity=activity,
    )


@bp.post("/expenses/<int:expense_id>/<any(approve, decline):decision>")
@login_required
@admin_required  # the role (SPEC §6); the expense itself says whether it can still be decided
def expense_decide(expense_id: int, decision: str):
    form = DecisionForm()
    if form.validate_on_submit():
        decide = approve_expense if decision == "approve" else decline_expense
        try:
            expense = decide(db.session, actor=actor(), expense_id=expense_id, note=form.note.data or "")
        except DomainError as exc:
            show_errors(None, exc)
        else:
            flash(f"Expense {expense.status}.", "success")
    return redirect(url_for("admin.expense_detail", expense_id=expense_id))


@bp.post("/expenses/<int:expense_id>/withdraw")
@login_required
def expense_withdraw(expense_id: int):
    expense = get_or_404(db.session, Expense, expense_id)
    if not _may_edit(expense):
        abort(403)
    if ConfirmForm().validate_on_submit():
        try:
            delete_expense(db.session, actor=actor(), expense_id=expense.id)
        except DomainError as exc:
            show_errors(None, exc)
            return redirect(url_for("admin.expense_detail", expense_id=expense_id))
        flash("Expense withdrawn.", "success")
    return redirect(url_for("admin.expenses"))
