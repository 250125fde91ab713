from __future__ import annotations

from sqlalchemy import select

from api_service.resources.base import BaseResource, query_choice
from api_service.schemas import DecisionIn, ExpenseIn, ExpensePatch
from shared.db import db
from shared.inputs import ExpenseChanges, ExpenseInput
from shared.models import Expense
from shared.models.enums import EXPENSE_STATES
from shared.representations import expense_json
from shared.services import approve_expense, decline_expense, delete_expense, request_expense, update_expense


class ExpenseList(BaseResource):
    def get(self):
        query = select(Expense)
        status = query_choice("status", EXPENSE_STATES)
        if status:
            query = query.where(Expense.status == status)
        return self.paginate(query, Expense.id, expense_json)

    def post(self):
        expense = request_expense(db.session, actor=self.actor, data=ExpenseInput.from_mapping(self.body(ExpenseIn)))
        return expense_json(expense), 201


class ExpenseItem(BaseResource):
    def get(self, expense_id: int):
        return expense_json(self.get_object_or_404(Expense, expense_id))

    def patch(self, expense_id: int):
        data = ExpenseChanges.from_mapping(self.body(ExpensePatch))
        return expense_json(update_expense(db.session, actor=self.actor, expense_id=expense_id, data=data))

    def delete(self, expense_id: int):
        delete_expense(db.session, actor=self.actor, expense_id=expense_id)
        return "", 204


class ExpenseApprove(BaseResource):
    scopes = {"POST": "admin"}

    def post(self, expense_id: int):
        note = self.body(DecisionIn).get("note", "")
        expense = approve_expense(db.session, actor=self.actor, expense_id=expense_id, note=note)
        return expense_json(expense)


class ExpenseDecline(BaseResource):
    scopes = {"POST": "admin"}

    def post(self, expense_id: int):
        note = self.body(DecisionIn).get("note", "")
        expense = decline_expense(db.session, actor=self.actor, expense_id=expense_id, note=note)
        return expense_json(expense)
