"""Issue 13 "Add": domain rules behind the day-one additions (expenses, tax by rate)."""

import uuid

import pytest

from shared.errors import PermissionDenied
from shared.services import Actor, approve_expense, create_user, decline_expense, request_expense


def _admin(session, actor) -> Actor:
    user = create_user(
        session,
        actor=actor,
        email=f"admin{uuid.uuid4().hex[:6]}@example.com",
        name="A",
        role="admin",
        password="x" * 12,
    )
    return Actor.user(user)


def test_an_admin_cannot_approve_or_decline_their_own_expense(session, actor):
    ada, bola = _admin(session, actor), _admin(session, actor)
    expense = request_expense(
        session, actor=ada, data={"title": "Taxi", "category": "Travel", "amount": "40.00"}, user_id=ada.id
    )
    assert not expense.can_be_decided_by(ada) and expense.can_be_decided_by(bola)
    with pytest.raises(PermissionDenied, match="an expense you requested"):
        approve_expense(session, actor=ada, expense_id=expense.id)
    with pytest.raises(PermissionDenied, match="an expense you requested"):
        decline_expense(session, actor=ada, expense_id=expense.id, note="no")
    session.refresh(expense)
    assert expense.status == "pending"
    approve_expense(session, actor=bola, expense_id=expense.id)
    assert expense.status == "approved"
