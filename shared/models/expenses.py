from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import db, utcnow
from shared.models.enums import EXPENSE_STATES, ExpenseStatus, one_of, sql_literal


class Expense(db.Model):
    """Company expenditure: requested by staff, approved or declined by an admin."""

    __tablename__ = "expenses"
    __table_args__ = (
        CheckConstraint(one_of("status", EXPENSE_STATES), name="status"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            f"(status = {sql_literal(ExpenseStatus.PENDING)}) = (decided_at IS NULL)", name="decided_iff_not_pending"
        ),
        Index("ix_expenses_status_expense_date", "status", "expense_date"),
        Index("ix_expenses_expense_date", "expense_date"),
        Index("ix_expenses_currency_status_expense_date", "currency", "status", "expense_date"),  # reports
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    expense_date: Mapped[dt.date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(100))
    payee: Mapped[str] = mapped_column(String(200), default="")
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), default=ExpenseStatus.PENDING.value)
    requested_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    requested_by: Mapped[str] = mapped_column(String(200))
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[dt.datetime | None]
    decision_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @hybrid_property
    def is_pending(self) -> bool:
        return self.status == ExpenseStatus.PENDING

    @hybrid_property
    def is_approved(self) -> bool:
        """Approved expenses, and only they, count in reports (SPEC §5.5)."""
        return self.status == ExpenseStatus.APPROVED

    def can_be_changed_by(self, actor: Any) -> bool:
        """Who may edit or withdraw an expense (SPEC §5.5): only a pending one; an admin any, staff their own.

        ``actor`` is a :class:`shared.actors.Actor`. API keys (write scope,
        checked by the API) and the command line change any pending expense:
        SPEC §7 gives the API "CRUD while pending".
        """
        if not self.is_pending:
            return False
        if actor.is_admin:
            return True
        if actor.type == "user":
            return self.is_requested_by(actor)
        return actor.type in ("api_key", "system")

    def is_requested_by(self, actor: Any) -> bool:
        """Whether ``actor`` is the signed-in user who requested this expense."""
        return actor.type == "user" and actor.id is not None and self.requested_by_user_id == actor.id

    def can_be_decided_by(self, actor: Any) -> bool:
        """Only an admin approves or declines, only a pending expense, and never their own (SPEC §5.5, §6)."""
        return self.is_pending and actor.is_admin and not self.is_requested_by(actor)

    def __repr__(self) -> str:
        return f"<Expense {self.id} {self.title!r} {self.status}>"
