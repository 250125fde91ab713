"""Demo data: a small company with clients, invoices in every state, payments and expenses.

The company itself goes through ``shared.services`` so the demo obeys the same
rules, numbering and activity trail as real use. :func:`bulk_invoices` adds
thousands more for load and report testing, written in batches straight to
the tables, still consistent: totals from ``shared.money.compute_totals``,
numbers from the counters, ``amount_paid`` and status from the payments.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from shared import money, rollups
from shared.inputs import InvoiceDraft
from shared.models import Client, Expense, Invoice, InvoiceLine, Payment
from shared.numbering import take_numbers
from shared.services import (
    Actor,
    Notify,
    approve_expense,
    atomic,
    create_client,
    create_draft,
    decline_expense,
    get_settings,
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
    ("Printer toner", "Supplies", "OfficeMart", "28500.00", "pending"),
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
    extra_invoices: int = 0,
    echo: Callable[[str], None] = print,
) -> str:
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
        session.commit()

    clients = [create_client(session, actor=actor, data=data) for data in CLIENTS]
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
        ("draft", clients[0], 1, 14, 2, None),
        ("draft", clients[3], 0, 30, 1, None),
        ("open", clients[1], 5, 30, 3, {"type": "percent", "value": "10"}),
        ("open", clients[3], 2, 14, 2, None),
        ("overdue", clients[2], 45, 14, 2, None),
        ("overdue", clients[4], 70, 30, 1, None),
        ("partially_paid", clients[0], 20, 30, 2, None),
        (
            "partially_paid",
            clients[5],
            40,
            14,
            3,
            {"type": "fixed", "value": "5000.00"},
        ),
        ("paid", clients[1], 60, 30, 2, None),
        ("paid", clients[3], 35, 14, 1, None),
        ("void", clients[2], 25, 14, 1, None),
    ]
    for state, client, days_ago, terms, line_count, discount in plan:
        invoice = make(client, days_ago, terms, line_count, discount)
        if state != "draft":
            invoice = issue(invoice)
        if state in ("partially_paid", "paid"):
            paid_on = min(today, invoice.issue_date + dt.timedelta(days=rng.randint(1, 10)))
            amount = invoice.balance_due if state == "paid" else (invoice.balance_due / 2).quantize(invoice.balance_due)
            record_payment(
                session,
                actor=actor,
                invoice_id=invoice.id,
                amount=amount,
                paid_on=paid_on,
                method=rng.choice(["bank_transfer", "card", "cash", "mobile_money"]),
                reference=f"TRX{rng.randint(100000, 999999)}",
            )
        if state == "void":
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
            data={
                "title": title,
                "category": category,
                "payee": payee,
                "amount": amount,
                "expense_date": (today - dt.timedelta(days=rng.randint(0, 25))).isoformat(),
            },
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

    if extra_invoices:
        added = bulk_invoices(session, count=extra_invoices, seed=seed, today=today)
        echo(f"Added {added.invoices} invoices with {added.payments} payments in bulk.")
    return "Demo data ready."


# ---------------------------------------------------------------- bulk invoices

FIRST_NAMES = [
    "Adebayo", "Chinwe", "Emeka", "Funmilayo", "Ibrahim", "Ngozi", "Oluwaseun", "Yetunde", "Kofi", "Ama",
    "Kwabena", "Efua", "Musa", "Zainab", "Tobi", "Ifeoma", "Sarah", "James", "Maria", "David",
]  # fmt: skip
LAST_NAMES = [
    "Okafor", "Adeyemi", "Balogun", "Nwosu", "Mensah", "Owusu", "Bello", "Eze", "Okonkwo", "Danjuma",
    "Asante", "Boateng", "Smith", "Johnson", "Garcia", "Williams", "Abubakar", "Olawale", "Chukwu", "Agyeman",
]  # fmt: skip
COMPANY_WORDS = [
    "Sunrise", "Delta", "Crescent", "Harmattan", "Zenith", "Baobab", "Atlantic", "Savannah", "Unity", "Kola",
]  # fmt: skip
COMPANY_KINDS = ["Ventures", "Logistics", "Academy", "Foods", "Technologies", "Partners", "Clinic", "Traders"]
CITIES = ["Ikeja, Lagos", "Wuse, Abuja", "GRA, Port Harcourt", "Osu, Accra", "Bodija, Ibadan", "Kano", "Enugu"]
BULK_ACTOR = "demo (bulk)"


@dataclass
class BulkResult:
    invoices: int = 0
    lines: int = 0
    payments: int = 0
    clients: int = 0
    expenses: int = 0
    by_status: dict[str, int] = field(default_factory=dict)


def _bulk_clients(session: Session, rng: random.Random, count: int, now: dt.datetime) -> None:
    rows = []
    for n in range(count):
        if rng.random() < 0.35:
            name = f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_KINDS)} {n + 1}"
            client_type, currency = "corporate", "USD" if rng.random() < 0.3 else None
        else:
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} {n + 1}"
            client_type, currency = rng.choice(["individual", "student"]), None
        slug = "".join(ch for ch in name.lower() if ch.isalnum())
        rows.append(
            {
                "name": name,
                "client_type": client_type,
                "email": f"{slug}@example.com",
                "phone": f"+23480{rng.randint(10_000_000, 99_999_999)}",
                "billing_address": f"{rng.randint(1, 200)} {rng.choice(LAST_NAMES)} Street\n{rng.choice(CITIES)}",
                "postal_address": "",
                "default_currency": currency,
                "sms_opt_in": False,
                "reminders_opt_out": False,
                "created_at": now,
                "updated_at": now,
            }
        )
    session.execute(insert(Client), rows)


@dataclass(frozen=True)
class _BulkClient:
    id: int
    default_currency: str | None
    snapshot: dict


@dataclass
class _Planned:
    """One invoice to write: everything but its id and number."""

    client_id: int
    client_snapshot: dict
    currency: str
    issue_date: dt.date
    due_date: dt.date
    items: list[money.LineInput]
    descriptions: list[str]
    discount: money.Discount | None
    totals: money.Totals
    status: str
    payments: list[tuple[Decimal, dt.date, str, bool]]  # amount, paid_on, method, voided


def _plan(rng: random.Random, client: _BulkClient, today: dt.date, tax_rounding: str) -> _Planned:
    currency = client.default_currency if client.default_currency in ("NGN", "USD") else "NGN"
    if currency == "NGN" and rng.random() < 0.12:
        currency = "USD"
    issue_date = today - dt.timedelta(days=rng.randint(0, 400))
    terms = rng.choice([7, 14, 14, 30, 30])
    due_date = issue_date + dt.timedelta(days=terms)
    picks = rng.sample(SERVICES, rng.randint(1, 4))
    items, descriptions = [], []
    for description, price, rate in picks:
        unit = Decimal(price)
        if currency == "USD":
            unit = max(Decimal(1), (unit / 400).quantize(Decimal("1")))
        items.append(money.LineInput(Decimal(rng.choice([1, 1, 1, 2, 3, 5])), unit, Decimal(rate)))
        descriptions.append(description)
    discount = money.Discount("percent", Decimal(rng.choice([5, 10]))) if rng.random() < 0.15 else None
    totals = money.compute_totals(items, currency, discount, tax_rounding)

    roll = rng.random()
    days_late = (today - due_date).days
    paid_share = 0.85 if days_late > 60 else 0.6 if days_late > 0 else 0.3
    payments: list[tuple[Decimal, dt.date, str, bool]] = []
    status = "open"
    if roll < 0.02 and (today - issue_date).days < 30:
        status = "draft"
    elif roll < 0.05:
        status = "void"
    else:
        pay = rng.random()
        method = rng.choice(["bank_transfer", "bank_transfer", "card", "cash", "mobile_money", "online", "cheque"])

        def paid_on(after: dt.date) -> dt.date:
            return min(today, after + dt.timedelta(days=rng.randint(0, terms + 20)))

        if pay < paid_share:
            status = "paid"
            if rng.random() < 0.2 and totals.total > money.quantum(currency) * 2:
                first = money.round_money(totals.total * Decimal(rng.randint(30, 70)) / 100, currency)
                first_day = paid_on(issue_date)
                payments += [
                    (first, first_day, method, False),
                    (totals.total - first, paid_on(first_day), method, False),
                ]
            else:
                payments.append((totals.total, paid_on(issue_date), method, False))
        elif pay < paid_share + 0.15:
            status = "partially_paid"
            part = money.round_money(totals.total * Decimal(rng.randint(20, 80)) / 100, currency)
            payments.append((part, paid_on(issue_date), method, False))
        if status == "open" and rng.random() < 0.03:
            # A cheque that bounced: the payment is voided and the invoice is owed again.
            payments.append((totals.total, paid_on(issue_date), "cheque", True))
    return _Planned(
        client.id,
        client.snapshot,
        currency,
        issue_date,
        due_date,
        items,
        descriptions,
        discount,
        totals,
        status,
        payments,
    )


EXPENSE_SHARES = [
    ("Salaries", "Staff payroll", Decimal("0.45")),
    ("Rent", "Lekki Properties", Decimal("0.18")),
    ("Utilities", "Ikeja Electric", Decimal("0.09")),
    ("Supplies", "OfficeMart", Decimal("0.07")),
    ("Travel", "Air Peace", Decimal("0.06")),
    ("Software", "Cloud subscriptions", Decimal("0.05")),
]


def _bulk_expenses(session: Session, rng: random.Random, planned: list[_Planned], today: dt.date) -> int:
    """A year of monthly running costs in each currency, sized to what the invoices bring in."""
    collected: dict[tuple[str, dt.date], Decimal] = defaultdict(Decimal)
    for p in planned:
        for amount, paid_on, _, voided in p.payments:
            if not voided:
                collected[(p.currency, paid_on.replace(day=1))] += amount
    rows = []
    for (currency, month), income in sorted(collected.items()):
        if month < (today - dt.timedelta(days=365)).replace(day=1):
            continue
        share = Decimal(rng.randint(45, 85)) / 100
        for category, payee, weight in EXPENSE_SHARES:
            amount = money.round_money(income * share * weight, currency)
            if amount <= 0:
                continue
            day = min(today, month + dt.timedelta(days=rng.randint(0, 27)))
            status = rng.choices(["approved", "pending", "declined"], weights=[90, 6, 4])[0]
            rows.append(
                {
                    "expense_date": day,
                    "title": f"{category}, {month:%B %Y}",
                    "description": "",
                    "category": category,
                    "payee": payee,
                    "amount": amount,
                    "currency": currency,
                    "status": status,
                    "requested_by": BULK_ACTOR,
                    "decided_by": None if status == "pending" else BULK_ACTOR,
                    "decided_at": None if status == "pending" else _at(day, 17),
                    "decision_note": "Not in budget" if status == "declined" else "",
                    "created_at": _at(day, 10),
                    "updated_at": _at(day, 10),
                }
            )
    if rows:
        session.execute(insert(Expense), rows)
    return len(rows)


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


@dataclass(frozen=True)
class _Formats:
    """The settings a bulk load needs, read once (the settings row is not held across transactions)."""

    invoice_number_format: str
    receipt_number_format: str
    tax_rounding: str


def _write_batch(session: Session, batch: list[_Planned], settings: _Formats, result: BulkResult) -> None:
    issued = [p for p in batch if p.status != "draft"]
    numbers: dict[int, list[str]] = {}
    for year in sorted({p.issue_date.year for p in issued}):
        count = sum(1 for p in issued if p.issue_date.year == year)
        numbers[year] = take_numbers(session, "invoice", year, settings.invoice_number_format, count)[::-1]
    rows = []
    for p in batch:
        draft = p.status == "draft"
        created = _at(p.issue_date, 9)
        paid = sum((amount for amount, _, _, voided in p.payments if not voided), Decimal(0))
        rows.append(
            {
                "number": None if draft else numbers[p.issue_date.year].pop(),
                "status": p.status,
                "client_id": p.client_id,
                "currency": p.currency,
                "issue_date": p.issue_date,
                "due_date": p.due_date,
                "purchase_order": "",
                "notes": "",
                "discount_type": p.discount.kind if p.discount else None,
                "discount_value": p.discount.value if p.discount else None,
                "tax_rounding": settings.tax_rounding,
                "subtotal": p.totals.subtotal,
                "discount_total": p.totals.discount_total,
                "tax_total": p.totals.tax_total,
                "total": p.totals.total,
                "amount_paid": paid,
                "client_snapshot": None if draft else p.client_snapshot,
                "public_token": secrets.token_urlsafe(32),
                "created_by": BULK_ACTOR,
                "issued_at": None if draft else created,
                "issued_by": None if draft else BULK_ACTOR,
                "voided_at": _at(p.issue_date, 15) if p.status == "void" else None,
                "void_reason": "Raised in error" if p.status == "void" else None,
                "created_at": created,
                "updated_at": created,
            }
        )
    ids = session.scalars(insert(Invoice).returning(Invoice.id, sort_by_parameter_order=True), rows).all()
    lines = [
        {
            "invoice_id": invoice_id,
            "position": position,
            "description": description,
            "quantity": item.quantity,
            "unit_price": item.unit_price,
            "tax_rate": item.tax_rate,
            "amount": line.amount,
            "discount": line.discount,
            "tax": line.tax,
        }
        for invoice_id, p in zip(ids, batch, strict=True)
        for position, (item, description, line) in enumerate(
            zip(p.items, p.descriptions, p.totals.lines, strict=True), start=1
        )
    ]
    session.execute(insert(InvoiceLine), lines)
    payments = sorted(
        ((paid_on, invoice_id, p.currency, amount, method, voided))
        for invoice_id, p in zip(ids, batch, strict=True)
        for amount, paid_on, method, voided in p.payments
    )
    receipts: dict[int, list[str]] = {}
    by_year: dict[int, int] = defaultdict(int)
    for paid_on, *_ in payments:
        by_year[paid_on.year] += 1
    for year, count in sorted(by_year.items()):
        receipts[year] = take_numbers(session, "receipt", year, settings.receipt_number_format, count)[::-1]
    payment_rows = []
    if payments:
        payment_rows = [
            {
                "invoice_id": invoice_id,
                "receipt_number": receipts[paid_on.year].pop(),
                "amount": amount,
                "currency": currency,
                "paid_on": paid_on,
                "method": method,
                "reference": f"TRX{invoice_id:07d}",
                "note": "",
                "recorded_by": BULK_ACTOR,
                "voided_at": _at(paid_on, 16) if voided else None,
                "voided_by": BULK_ACTOR if voided else None,
                "void_reason": "Cheque returned unpaid" if voided else None,
                "created_at": _at(paid_on, 12),
            }
            for paid_on, invoice_id, currency, amount, method, voided in payments
        ]
        session.execute(insert(Payment), payment_rows)
    # Bulk INSERTs fire no flush events: add them to the running totals in the same transaction.
    rollups.count_inserted(session, invoices=rows, payments=payment_rows)
    result.invoices += len(batch)
    result.lines += len(lines)
    result.payments += len(payments)
    for p in batch:
        result.by_status[p.status] = result.by_status.get(p.status, 0) + 1


def bulk_invoices(
    session: Session,
    *,
    count: int,
    seed: int = 2026,
    today: dt.date | None = None,
    batch_size: int = 2000,
    progress: Callable[[int], None] | None = None,
) -> BulkResult:
    """Add ``count`` realistic invoices in NGN and USD (with clients, lines and payments) in bulk.

    Invoices are spread over the last 13 months in every state: drafts,
    open (some overdue), partly paid, paid (some in two payments), void, and
    a few bounced cheques (voided payments). Totals come from
    ``compute_totals``; invoice and receipt numbers are taken in blocks from
    the counters, in date order within each batch, so they stay gapless.
    Each batch is one transaction. A year of monthly expenses (mostly
    approved) sized to the money collected is added too, so the dashboard's
    collected-against-expenses chart has both sides. No activity rows are
    written; ``progress``
    is called with the number of invoices written after every batch.
    """
    rng = random.Random(seed * 7919 + count)
    today = today or dt.date.today()
    result = BulkResult()
    with atomic(session):
        stored = get_settings(session)
        settings = _Formats(stored.invoice_number_format, stored.receipt_number_format, stored.tax_rounding)
        result.clients = max(10, min(1000, count // 25))
        _bulk_clients(session, rng, result.clients, _at(today, 8))
    clients = [
        _BulkClient(c.id, c.default_currency, c.snapshot())
        for c in session.scalars(select(Client).where(Client.archived_at.is_(None)).order_by(Client.id))
    ]
    planned = sorted(
        (_plan(rng, rng.choice(clients), today, settings.tax_rounding) for _ in range(count)),
        key=lambda p: p.issue_date,
    )
    with atomic(session):
        result.expenses = _bulk_expenses(session, rng, planned, today)
    for start in range(0, count, batch_size):
        batch = planned[start : start + batch_size]
        with atomic(session):
            _write_batch(session, batch, settings, result)
        if progress is not None:
            progress(len(batch))
    session.expire_all()
    return result
