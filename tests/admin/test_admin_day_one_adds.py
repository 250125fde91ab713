"""Issue 13 "Add" in the admin: own expenses, CSV exports, invoice links, statements, paper size."""

import re

from sqlalchemy import select

from shared.db import db
from shared.models import Expense


def _request_expense(admin) -> int:
    response = admin.post_form(
        "/admin/expenses/new",
        {"title": "Taxi", "category": "Travel", "amount": "40.00", "currency": "NGN", "expense_date": "2026-11-20"},
        follow=True,
    )
    assert "Expense requested" in response.get_data(as_text=True)
    return int(re.search(r"/admin/expenses/(\d+)", response.request.path).group(1))


def test_a_signed_in_admin_is_not_offered_and_cannot_approve_their_own_expense(admin_app, admin):
    expense_id = _request_expense(admin)
    page = admin.get(f"/admin/expenses/{expense_id}").get_data(as_text=True)
    assert "Approve" not in page
    response = admin.post_form(
        f"/admin/expenses/{expense_id}", {"note": "ok"}, to=f"/admin/expenses/{expense_id}/approve", follow=True
    )
    assert "You cannot approve or decline an expense you requested" in response.get_data(as_text=True)
    with admin_app.app_context():
        assert db.session.scalars(select(Expense.status).where(Expense.id == expense_id)).one() == "pending"
