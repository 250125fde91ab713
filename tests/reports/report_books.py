"""The hand-worked books behind tests/reports: NGN and USD documents whose every figure is worked out below.

The books are "as of" ``TODAY`` (a fixed day in the past, so no payment is in
the future) and the reports run over ``PERIOD``, the first half of 2025.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from shared import reports
from shared.inputs import ClientInput, ExpenseInput, InvoiceDraft, PaymentInput
from shared.services import (
    Actor,
    approve_expense,
    create_client,
    create_draft,
    decline_expense,
    issue_invoice,
    record_payment,
    request_expense,
    void_invoice,
    void_payment,
)

TODAY = dt.date(2025, 6, 30)
PERIOD = reports.Period(dt.date(2025, 1, 1), TODAY)


@dataclass
class Books:
    ada: int  # NGN client with a USD invoice too
    chidi: int  # NGN client with one invoice long overdue
    bolt: int  # USD client
    invoices: dict[str, int]


def build_books(session: Session) -> Books:
    """Write the documents behind every expected figure in tests/reports.

    NGN (line tax rounding):
      N1 Ada  issued 2025-01-10 due 01-24: 2 x 15,000.00 at 7.5 %, 10 % off -> S 30,000, D 3,000,
         tax 2,025.00, total 29,025.00; paid 10,000.00 (02-05, bank transfer) + 19,025.00 (03-01, cash): paid
      N2 Ada  issued 2025-03-15 due 04-14: 1 x 50,000.00 at 7.5 % -> 53,750.00; 20,000.00 paid (04-20, card)
         -> partially paid, 33,750.00 due, 77 days late (61-90)
      N3 Ada  issued 2025-06-20 due 07-20: 1 x 8,000.00 at 0 % -> 8,000.00, open, current
      N4 Ada  issued 2025-05-01 due 06-10: 3 x 1,000.00 at 5 % -> 3,150.00, open, 20 days late (1-30);
         a cheque of 3,150.00 on 06-12 bounced (voided payment)
      N5 Ada  issued 2025-02-01: 1 x 99,999.00 at 7.5 %, voided
      N6 Ada  draft: 1 x 5,000.00
      N7 Chidi issued 2024-12-01 due 2025-01-01: 1 x 12,000.00 at 7.5 % -> 12,900.00, open, 180 days late
    USD:
      U1 Bolt issued 2025-02-10 due 03-12: 1 x 100.00 at 10 % + 2 x 50.00 at 0 % -> 210.00; paid 03-01 (online)
      U2 Bolt issued 2025-06-01 due 06-15: 1 x 500.00 at 10 % -> 550.00; 100.00 paid 06-20 (mobile money)
         -> 450.00 due, 15 days late (1-30)
      U3 Ada  issued 2025-05-05 due 05-19: 1 x 20.00 at 0 % -> 20.00, open, 42 days late (31-60)
    Expenses (approved unless said): NGN rent 150,000.00 (2025-01-31), utilities 20,000.00 (03-10) and
      5,000.00 (06-05), rent 150,000.00 (2024-12-15, before the period), supplies 7,000.00 (06-01, pending),
      welfare 3,000.00 (06-02, declined); USD software 49.99 (06-03).
    """
    actor = Actor.system("books", is_admin=True)
    ada = create_client(session, actor=actor, data=ClientInput(name="Ada Obi", email="ada@example.com"))
    chidi = create_client(session, actor=actor, data=ClientInput(name="Chidi Eze", email="chidi@example.com"))
    bolt = create_client(
        session, actor=actor, data=ClientInput(name="Bolt Ltd", email="ap@bolt.example", default_currency="USD")
    )
    invoices: dict[str, int] = {}

    def invoice(name, client, currency, issued, due, items, *, discount=None, issue=True):
        data = {
            "client_id": client.id,
            "currency": currency,
            "issue_date": issued,
            "due_date": due,
            "items": [
                {"description": f"{name} line {i + 1}", "quantity": q, "unit_price": p, "tax_rate": r}
                for i, (q, p, r) in enumerate(items)
            ],
        }
        if discount:
            data["discount"] = discount
        draft = create_draft(session, actor=actor, data=InvoiceDraft.from_mapping(data))
        invoices[name] = draft.id
        if issue:
            issue_invoice(session, actor=actor, invoice_id=draft.id)
        return draft.id

    def pay(name, amount, on, method):
        payment, _ = record_payment(
            session, actor=actor, invoice_id=invoices[name], data=PaymentInput(amount=amount, paid_on=on, method=method)
        )
        return payment

    invoice("N7", chidi, "NGN", "2024-12-01", "2025-01-01", [("1", "12000.00", "7.5")])
    invoice(
        "N1",
        ada,
        "NGN",
        "2025-01-10",
        "2025-01-24",
        [("2", "15000.00", "7.5")],
        discount={"type": "percent", "value": "10"},
    )
    invoice("N5", ada, "NGN", "2025-02-01", "2025-02-15", [("1", "99999.00", "7.5")])
    void_invoice(session, actor=actor, invoice_id=invoices["N5"], reason="Wrong client")
    invoice("U1", bolt, "USD", "2025-02-10", "2025-03-12", [("1", "100.00", "10"), ("2", "50.00", "0")])
    invoice("N2", ada, "NGN", "2025-03-15", "2025-04-14", [("1", "50000.00", "7.5")])
    invoice("N4", ada, "NGN", "2025-05-01", "2025-06-10", [("3", "1000.00", "5")])
    invoice("U3", ada, "USD", "2025-05-05", "2025-05-19", [("1", "20.00", "0")])
    invoice("U2", bolt, "USD", "2025-06-01", "2025-06-15", [("1", "500.00", "10")])
    invoice("N3", ada, "NGN", "2025-06-20", "2025-07-20", [("1", "8000.00", "0")])
    invoice("N6", ada, "NGN", "2025-06-25", "2025-07-09", [("1", "5000.00", "0")], issue=False)

    pay("N1", "10000.00", "2025-02-05", "bank_transfer")
    pay("N1", "19025.00", "2025-03-01", "cash")
    pay("U1", "210.00", "2025-03-01", "online")
    pay("N2", "20000.00", "2025-04-20", "card")
    bounced = pay("N4", "3150.00", "2025-06-12", "cheque")
    void_payment(session, actor=actor, payment_id=bounced.id, reason="Cheque bounced")
    pay("U2", "100.00", "2025-06-20", "mobile_money")

    for title, category, amount, currency, day, decision in [
        ("Rent H1", "Rent", "150000.00", "NGN", "2025-01-31", "approve"),
        ("Power", "Utilities", "20000.00", "NGN", "2025-03-10", "approve"),
        ("Water", "Utilities", "5000.00", "NGN", "2025-06-05", "approve"),
        ("Rent 2024", "Rent", "150000.00", "NGN", "2024-12-15", "approve"),
        ("Toner", "Supplies", "7000.00", "NGN", "2025-06-01", "pending"),
        ("Lunch", "Welfare", "3000.00", "NGN", "2025-06-02", "decline"),
        ("Hosting", "Software", "49.99", "USD", "2025-06-03", "approve"),
    ]:
        expense = request_expense(
            session,
            actor=actor,
            data=ExpenseInput(title=title, category=category, amount=amount, currency=currency, expense_date=day),
        )
        if decision == "approve":
            approve_expense(session, actor=actor, expense_id=expense.id)
        elif decision == "decline":
            decline_expense(session, actor=actor, expense_id=expense.id, note="No")
    session.commit()  # end the read transaction: other connections (the app under test) write next
    return Books(ada=ada.id, chidi=chidi.id, bolt=bolt.id, invoices=invoices)
