"""Running totals of invoices and payments, kept exact by ``shared.rollups`` in every transaction.

The dashboard and the summary reports read these few hundred rows instead of
aggregating every invoice and payment. ``shared.rollups`` explains how they
are maintained and how to rebuild them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import CheckConstraint, ColumnElement, Date, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import db
from shared.models.invoices import overdue_condition

# Paid and void invoices are never reported by due date, so their rows all
# carry this one date: the table stays a row per currency and state for them.
# Drafts are not counted here at all (shared.rollups says why).
SETTLED_DUE_DATE = dt.date(1, 1, 1)


class InvoiceRollup(db.Model):
    """Invoices but drafts per (currency, status, due date): how many, their totals and amounts paid.

    ``due_date`` is the real due date only for live (open, partly paid)
    invoices; for the other states it is :data:`SETTLED_DUE_DATE`. Rows whose
    count has fallen to zero are kept (with zero sums) rather than deleted.
    """

    __tablename__ = "invoice_rollups"
    __table_args__ = (CheckConstraint("invoice_count >= 0 AND total >= 0 AND amount_paid >= 0", name="not_negative"),)

    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    due_date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    invoice_count: Mapped[int]
    total: Mapped[Decimal]
    amount_paid: Mapped[Decimal]

    @classmethod
    def overdue_clause(cls, today: dt.date) -> ColumnElement[bool]:
        """The rows of overdue invoices: ``Invoice.overdue_clause`` asked of these running totals.

        A row adds up invoices of one state and due date, so it is overdue
        exactly when they are (a live invoice always owes something).
        """
        return overdue_condition(
            today, status=cls.status, due_date=cls.due_date, total=cls.total, amount_paid=cls.amount_paid
        )

    def __repr__(self) -> str:
        return f"<InvoiceRollup {self.currency} {self.status} {self.due_date} x{self.invoice_count}>"


class PaymentRollup(db.Model):
    """Live (not voided) payments per (currency, day received): how many and how much."""

    __tablename__ = "payment_rollups"
    __table_args__ = (CheckConstraint("payment_count >= 0 AND amount >= 0", name="not_negative"),)

    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    paid_on: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    payment_count: Mapped[int]
    amount: Mapped[Decimal]

    def __repr__(self) -> str:
        return f"<PaymentRollup {self.currency} {self.paid_on} x{self.payment_count}>"


# The session listeners that keep these tables exact are registered with the
# models, so no session can change an invoice or a payment without them.
from shared import rollups as _maintenance  # noqa: E402, F401
