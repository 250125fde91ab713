"""Issue 13 "Add": domain rules behind the day-one additions (expenses, tax by rate)."""

import uuid
from decimal import Decimal

import pytest

from shared.errors import PermissionDenied
from shared.inputs import ExpenseInput
from shared.money import LineInput, compute_totals
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
        session, actor=ada, data=ExpenseInput(title="Taxi", category="Travel", amount="40.00"), user_id=ada.id
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


@pytest.mark.parametrize(
    ("rounding", "by_rate"), [("line", ["0.24", "0.19"]), ("document", ["0.23", "0.19"])], ids=["line", "document"]
)
def test_tax_by_rate_comes_from_the_one_calculation_and_adds_up_to_the_tax(rounding, by_rate):
    lines = [LineInput(Decimal("1"), Decimal("1.00"), Decimal(rate)) for rate in ("7.5", "19", "7.50", "7.5")]
    totals = compute_totals(lines, "USD", None, rounding)
    assert [(r.rate, r.tax) for r in totals.tax_by_rate] == [
        (Decimal("7.5"), Decimal(by_rate[0])),
        (Decimal("19"), Decimal(by_rate[1])),
    ]
    assert [r.taxable for r in totals.tax_by_rate] == [Decimal("3.00"), Decimal("1.00")]
    assert sum(r.tax for r in totals.tax_by_rate) == totals.tax_total


def test_a_stored_invoice_breaks_its_tax_down_by_rate_only_when_it_has_several(make_invoice):
    two = make_invoice(
        items=[
            {"description": "Design", "quantity": "1", "unit_price": "1000.00", "tax_rate": "7.5"},
            {"description": "Hosting", "quantity": "2", "unit_price": "250.00", "tax_rate": "19"},
        ],
        discount={"type": "percent", "value": "10"},
    )
    assert [(r.rate, r.tax) for r in two.tax_by_rate] == [
        (Decimal("7.5"), Decimal("67.50")),
        (Decimal("19"), Decimal("85.50")),
    ]
    assert two.shows_tax_by_rate and sum(r.tax for r in two.tax_by_rate) == two.tax_total
    one = make_invoice()
    assert len(one.tax_by_rate) == 1 and not one.shows_tax_by_rate
