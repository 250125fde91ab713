"""The demo company of ``seed-demo``: clients, invoices in every state, payments and expenses.

Everything goes through ``shared.services``, so the demo obeys the same rules,
numbering and activity trail as real use. ``main_service.demo.bulk`` adds
thousands more invoices on top.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

from sqlalchemy.orm import Session

from shared.db import utcnow
from shared.inputs import ClientInput, CreditNoteInput, ExpenseInput, InvoiceDraft, PaymentInput
from shared.models.enums import InvoiceStatus
from shared.services import (
    Actor,
    Notify,
    approve_expense,
    create_client,
    create_draft,
    decline_expense,
    get_settings,
    issue_credit_note,
    issue_invoice,
    record_payment,
    request_expense,
    void_invoice,
)

CLIENTS = [
    {
        "name": "Adaeze Okafor",
        "client_type": "individual",
        "email": "adaeze.okafor@example.com",
        "phone": "+2348031234567",
        "billing_address": "14 Admiralty Way\nLekki Phase 1, Lagos",
        "sms_opt_in": True,
    },
    {
        "name": "Brightpath Academy Ltd",
        "client_type": "corporate",
        "email": "accounts@brightpath.example",
        "phone": "+2348098765432",
        "billing_address": "Plot 22 Aminu Kano Crescent\nWuse II, Abuja",
    },
    {
        "name": "Kwame Mensah",
        "client_type": "student",
        "email": "kwame.mensah@example.com",
        "billing_address": "7 Ring Road East\nAccra",
        "default_currency": "GHS",
    },
    {
        "name": "Harbour Freight Co.",
        "client_type": "corporate",
        "email": "billing@harbourfreight.example",
        "phone": "+14155550123",
        "billing_address": "500 Embarcadero\nSan Francisco, CA 94111",
        "default_currency": "USD",
    },
    {
        "name": "Chiamaka Eze",
        "client_type": "student",
        "email": "chiamaka.eze@example.com",
        "billing_address": "Hall 3, University of Nigeria\nNsukka",
        "reminders_opt_out": True,
    },
    {
        "name": "Tunde Bakare",
        "client_type": "individual",
        "phone": "+2347012345678",
        "billing_address": "3 Ogunlana Drive\nSurulere, Lagos",
    },
]

SERVICES = [
    ("Website design and build", "350000.00", "7.5"),
    ("Monthly hosting and maintenance", "25000.00", "7.5"),
    ("Tuition, first term", "180000.00", "0"),
    ("Examination fee", "15000.00", "0"),
    ("Consulting, per hour", "30000.00", "7.5"),
    ("Logo and brand guide", "120000.00", "7.5"),
    ("Freight handling", "450.00", "5"),
    ("Training workshop seat", "45000.00", "7.5"),
]

EXPENSES = [
    ("Office rent, November", "Rent", "Lekki Properties", "450000.00", "approve"),
    ("Internet subscription", "Utilities", "FiberOne", "35000.00", "approve"),
    ("Printer toner", "Supplies", "OfficeMart", "28500.00", "leave"),
    ("Team lunch", "Staff welfare", "Mama Put Kitchen", "42000.00", "decline"),
    ("Diesel for generator", "Utilities", "Total Energies", "60000.00", "approve"),
]


def _lines(rng: random.Random, currency: str, count: int) -> list[dict]:
    picks = rng.sample(SERVICES, count)
    lines = []
    for description, price, rate in picks:
        if currency == "USD":
            price = f"{int(price.split('.')[0]) // 400 or 1}.00"
        elif currency == "GHS":
            price = f"{int(price.split('.')[0]) // 60 or 1}.00"
        lines.append(
            {
                "description": description,
                "quantity": str(rng.choice([1, 1, 2, 3, 5])),
                "unit_price": price,
                "tax_rate": rate,
            }
        )
    return lines


def seed_demo(
    session: Session,
    *,
    seed: int = 2026,
    echo: Callable[[str], None] = print,
) -> str:
    """Create the demo company (settings, clients, invoices, payments, expenses); returns the closing line."""
    rng = random.Random(seed)
    actor = Actor.system("demo", is_admin=True)
    today = dt.date.today()
    settings = get_settings(session)
    if settings.company_name == "Your Company":
        settings.company_name = "Lagoon Digital Services Ltd"
        settings.company_address = "12 Marina Road\nLagos Island, Lagos, Nigeria"
        settings.company_email = "billing@lagoondigital.example"
        settings.company_phone = "+234 1 555 0100"
        settings.payment_instructions = "Bank transfer to Lagoon Digital Services Ltd, account 0123456789, First Bank."
        settings.country = "NG"
        settings.time_zone = "Africa/Lagos"
        settings.setup_completed_at = utcnow()  # the demo company is set up
        session.commit()

    clients = [create_client(session, actor=actor, data=ClientInput(**data)) for data in CLIENTS]
    echo(f"Created {len(clients)} clients.")
    counts: dict[str, int] = {}

    def make(client, days_ago: int, terms: int, line_count: int, discount=None):
        issue_date = today - dt.timedelta(days=days_ago)
        currency = client.default_currency or settings.default_currency
        data = {
            "client_id": client.id,
            "issue_date": issue_date.isoformat(),
            "due_date": (issue_date + dt.timedelta(days=terms)).isoformat(),
            "items": _lines(rng, currency, line_count),
        }
        if discount:
            data["discount"] = discount
        return create_draft(session, actor=actor, data=InvoiceDraft.from_mapping(data))

    def issue(invoice):
        return issue_invoice(session, actor=actor, invoice_id=invoice.id, notify=Notify())[0]

    plan = [
        (InvoiceStatus.DRAFT, clients[0], 1, 14, 2, None),
        (InvoiceStatus.DRAFT, clients[3], 0, 30, 1, None),
        (InvoiceStatus.OPEN, clients[1], 5, 30, 3, {"type": "percent", "value": "10"}),
        (InvoiceStatus.OPEN, clients[3], 2, 14, 2, None),
        ("overdue", clients[2], 45, 14, 2, None),
        ("overdue", clients[4], 70, 30, 1, None),
        (InvoiceStatus.PARTIALLY_PAID, clients[0], 20, 30, 2, None),
        (
            InvoiceStatus.PARTIALLY_PAID,
            clients[5],
            40,
            14,
            3,
            {"type": "fixed", "value": "5000.00"},
        ),
        (InvoiceStatus.PAID, clients[1], 60, 30, 2, None),
        (InvoiceStatus.PAID, clients[3], 35, 14, 1, None),
        (InvoiceStatus.VOID, clients[2], 25, 14, 1, None),
        (InvoiceStatus.CREDITED, clients[4], 15, 30, 1, None),
    ]
    for state, client, days_ago, terms, line_count, discount in plan:
        invoice = make(client, days_ago, terms, line_count, discount)
        if state != InvoiceStatus.DRAFT:
            invoice = issue(invoice)
        if state in (InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.PAID):
            paid_on = min(today, invoice.issue_date + dt.timedelta(days=rng.randint(1, 10)))
            amount = (
                invoice.balance_due
                if state == InvoiceStatus.PAID
                else (invoice.balance_due / 2).quantize(invoice.balance_due)
            )
            record_payment(
                session,
                actor=actor,
                invoice_id=invoice.id,
                data=PaymentInput(
                    amount=amount,
                    paid_on=paid_on,
                    method=rng.choice(["bank_transfer", "card", "cash", "mobile_money"]),
                    reference=f"TRX{rng.randint(100000, 999999)}",
                ),
            )
        if state == InvoiceStatus.CREDITED:
            issue_credit_note(
                session,
                actor=actor,
                invoice_id=invoice.id,
                data=CreditNoteInput(reason="Order cancelled by the client", full=True),
            )
        if state == InvoiceStatus.VOID:
            void_invoice(
                session,
                actor=actor,
                invoice_id=invoice.id,
                reason="Issued to the wrong client",
            )
        counts[state] = counts.get(state, 0) + 1
    echo("Created invoices: " + ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in counts.items()) + ".")

    for title, category, payee, amount, decision in EXPENSES:
        expense = request_expense(
            session,
            actor=Actor.system("demo staff"),
            data=ExpenseInput(
                title=title,
                category=category,
                payee=payee,
                amount=amount,
                expense_date=(today - dt.timedelta(days=rng.randint(0, 25))).isoformat(),
            ),
        )
        if decision == "approve":
            approve_expense(
                session,
                actor=actor,
                expense_id=expense.id,
                note="Within budget",
            )
        elif decision == "decline":
            decline_expense(
                session,
                actor=actor,
                expense_id=expense.id,
                note="Not a business expense",
            )
    echo(f"Created {len(EXPENSES)} expenses (approved, pending and declined).")
    return "Demo data ready."
