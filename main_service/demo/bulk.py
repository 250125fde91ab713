"""The one bulk writer of invoices: ``seed-demo --invoices N`` and ``make bench`` both load through it.

A hundred thousand invoices cannot go through ``shared.services`` one at a
time, so they are planned in Python and written in batches straight to the
tables: ``COPY`` on Postgres, one ``executemany`` INSERT on SQLite. The rows
still follow the domain, which is asked, not restated:

- every total and line figure comes from ``shared.money.compute_totals`` (SPEC §5.1);
- invoice and receipt numbers are taken in blocks from the counters of
  ``shared.numbering``, in date order, so each year's series stays gapless and
  the next invoice issued the normal way takes the next number;
- ``amount_paid`` is the sum of the live payments, and the state matches it
  (drafts and void invoices have no payments; a bounced cheque is a voided one);
- bulk writes fire no flush events, so each batch's transaction ends with
  ``shared.models.rollups.rebuild_rollups``: the running totals are exact at every
  commit. (Its one GROUP BY costs far less than ``count_inserted``'s upsert per
  due date and payment day, thousands per load, each compiled anew.)

Each batch is one transaction. No activity rows are written.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import secrets
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Dialect, Table, func, insert, select, text
from sqlalchemy.orm import Session

from main_service.demo.company import SERVICES
from shared import money
from shared.messages.queue import notify_workers
from shared.models import Client, Expense, Invoice, InvoiceLine, Payment, QueuedMessage, rollups
from shared.models.enums import ExpenseStatus, InvoiceStatus, MessageState
from shared.numbering import take_numbers
from shared.services import atomic, get_settings

BULK_ACTOR = "demo (bulk)"
#: Distinct line sets per currency (see :class:`_LineSets`).
LINE_SETS = 256

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
PAYMENT_METHODS = ["bank_transfer", "bank_transfer", "card", "cash", "mobile_money", "online", "cheque"]
EXPENSE_SHARES = [
    ("Salaries", "Staff payroll", Decimal("0.45")),
    ("Rent", "Lekki Properties", Decimal("0.18")),
    ("Utilities", "Ikeja Electric", Decimal("0.09")),
    ("Supplies", "OfficeMart", Decimal("0.07")),
    ("Travel", "Air Peace", Decimal("0.06")),
    ("Software", "Cloud subscriptions", Decimal("0.05")),
]


@dataclass
class BulkResult:
    invoices: int = 0
    lines: int = 0
    payments: int = 0
    clients: int = 0
    expenses: int = 0
    messages: int = 0
    by_status: dict[str, int] = field(default_factory=dict)


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


# ---------------------------------------------------------------- writing rows


def _reserve_ids(session: Session, table: Table, count: int) -> list[int]:
    """``count`` new ids for ``table``, so rows that refer to each other can be written without RETURNING."""
    if count <= 0:
        return []
    if session.connection().dialect.name == "postgresql":
        taken = session.execute(
            text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :count)"),
            {"table": table.name, "count": count},
        ).scalars()
        return sorted(taken)
    # SQLite: the batch's transaction holds the database's only write lock (BEGIN IMMEDIATE,
    # shared.services.atomic), so no one else can insert into the table until it commits.
    first = session.scalar(select(func.coalesce(func.max(table.c.id), 0))) + 1
    return list(range(first, first + count))


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: Any) -> str:
    """One value as COPY's text format has it (numbers, dates and timestamps print nothing to escape)."""
    if value is None:
        return "\\N"
    if value is True or value is False:
        return "t" if value else "f"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    return str(value)


def _copy_converter(column: Column, dialect: Dialect) -> Callable[[Any], str]:
    """The column's own bind processing (Fixed4, the UTC timestamps, JSON) followed by COPY's text format.

    ``dialect_impl`` matters: the processor of the generic type would turn a
    Decimal into a float and lose cents on large amounts.
    """
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return _copy_text
    done: dict[Any, str] = {}  # amounts and timestamps repeat a lot in a batch

    def convert(value: Any) -> str:
        if value is None:
            return "\\N"
        try:
            return done[value]
        except KeyError:
            shown = done[value] = _copy_text(process(value))
            return shown
        except TypeError:  # not hashable (JSON)
            return _copy_text(process(value))

    return convert


def _write_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) in the session's transaction: COPY with psycopg2, else executemany."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    if dialect.driver != "psycopg2":
        connection.execute(insert(table), list(rows))
        return
    columns = [(name, _copy_converter(table.c[name], dialect)) for name in rows[0]]
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join([convert(row[name]) for name, convert in columns]))
        buffer.write("\n")
    buffer.seek(0)
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(name) for name, _ in columns)
    with connection.connection.driver_connection.cursor() as cursor:
        cursor.copy_expert(f"COPY {quote(table.name)} ({names}) FROM STDIN", buffer)


def _take_numbers(session: Session, series: str, years: Sequence[int], fmt: str) -> dict[int, Iterator[str]]:
    """One block of gapless numbers per year, as many as ``years`` names that year, handed out in order."""
    return {
        year: iter(take_numbers(session, series, year, fmt, count)) for year, count in sorted(Counter(years).items())
    }


# ---------------------------------------------------------------- clients


def _client_rows(rng: random.Random, ids: list[int], now: dt.datetime) -> list[dict[str, Any]]:
    rows = []
    for n, client_id in enumerate(ids, start=1):
        if rng.random() < 0.35:
            name = f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_KINDS)} {n}"
            client_type, currency = "corporate", "USD" if rng.random() < 0.3 else None
        else:
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} {n}"
            client_type, currency = rng.choice(["individual", "student"]), None
        slug = "".join(ch for ch in name.lower() if ch.isalnum())
        rows.append(
            {
                "id": client_id,
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
    return rows


def _add_clients(session: Session, rng: random.Random, count: int, now: dt.datetime) -> list[int]:
    ids = _reserve_ids(session, Client.__table__, count)
    _write_rows(session, Client.__table__, _client_rows(rng, ids, now))
    return ids


def add_clients(session: Session, *, count: int, seed: int = 2026, today: dt.date | None = None) -> list[int]:
    """Add ``count`` clients with made-up names, e-mail addresses and phones in one transaction; their ids."""
    with atomic(session):
        return _add_clients(session, random.Random(seed), count, _at(today or dt.date.today(), 8))


# ---------------------------------------------------------------- planning


@dataclass(frozen=True)
class _Client:
    id: int
    default_currency: str | None
    snapshot: dict


@dataclass(frozen=True)
class _LineSet:
    items: tuple[money.LineInput, ...]
    descriptions: tuple[str, ...]
    discount: money.Discount | None
    totals: money.Totals


class _LineSets:
    """Invoice lines with their totals, up to :data:`LINE_SETS` per currency, each made once and reused.

    ``compute_totals`` is most of the cost of planning an invoice; with a few
    hundred sets a 100,000-invoice plan takes seconds, and every figure still
    comes from it.
    """

    def __init__(self, rng: random.Random, tax_rounding: str) -> None:
        self.rng = rng
        self.tax_rounding = tax_rounding
        self.made: dict[tuple[str, int], _LineSet] = {}

    def pick(self, currency: str) -> _LineSet:
        key = (currency, self.rng.randrange(LINE_SETS))
        if key not in self.made:
            self.made[key] = self._make(currency)
        return self.made[key]

    def _make(self, currency: str) -> _LineSet:
        rng = self.rng
        items, descriptions = [], []
        for description, price, rate in rng.sample(SERVICES, rng.randint(1, 4)):
            unit = Decimal(price)
            if currency == "USD":
                unit = max(Decimal(1), (unit / 400).quantize(Decimal("1")))
            items.append(money.LineInput(Decimal(rng.choice([1, 1, 1, 2, 3, 5])), unit, Decimal(rate)))
            descriptions.append(description)
        discount = money.Discount("percent", Decimal(rng.choice([5, 10]))) if rng.random() < 0.15 else None
        totals = money.compute_totals(items, currency, discount, self.tax_rounding)
        return _LineSet(tuple(items), tuple(descriptions), discount, totals)


@dataclass
class _Planned:
    """One invoice to write: everything but its id and number."""

    client: _Client
    currency: str
    issue_date: dt.date
    due_date: dt.date
    lines: _LineSet
    status: str
    payments: list[tuple[Decimal, dt.date, str, bool]]  # amount, paid_on, method, voided

    @property
    def amount_paid(self) -> Decimal:
        return sum((amount for amount, _, _, voided in self.payments if not voided), Decimal(0))


def _plan(rng: random.Random, client: _Client, today: dt.date, line_sets: _LineSets, *, unpaid: bool) -> _Planned:
    """An invoice of the last 13 months in a state drawn at random, with the payments that state needs.

    ``unpaid``: every invoice is issued and owes its whole total (as one just issued and e-mailed).
    """
    currency = client.default_currency if client.default_currency in ("NGN", "USD") else "NGN"
    if currency == "NGN" and rng.random() < 0.12:
        currency = "USD"
    issue_date = today - dt.timedelta(days=rng.randint(0, 400))
    terms = rng.choice([7, 14, 14, 30, 30])
    due_date = issue_date + dt.timedelta(days=terms)
    lines = line_sets.pick(currency)
    total = lines.totals.total
    planned = _Planned(client, currency, issue_date, due_date, lines, InvoiceStatus.OPEN, [])
    if unpaid:
        return planned

    roll = rng.random()
    days_late = (today - due_date).days
    paid_share = 0.85 if days_late > 60 else 0.6 if days_late > 0 else 0.3
    if roll < 0.02 and (today - issue_date).days < 30:
        planned.status = InvoiceStatus.DRAFT
        return planned
    if roll < 0.05:
        planned.status = InvoiceStatus.VOID
        return planned
    pay = rng.random()
    method = rng.choice(PAYMENT_METHODS)

    def paid_on(after: dt.date) -> dt.date:
        return min(today, after + dt.timedelta(days=rng.randint(0, terms + 20)))

    if pay < paid_share:
        planned.status = InvoiceStatus.PAID
        if rng.random() < 0.2 and total > money.quantum(currency) * 2:
            first = money.round_money(total * Decimal(rng.randint(30, 70)) / 100, currency)
            first_day = paid_on(issue_date)
            planned.payments += [(first, first_day, method, False), (total - first, paid_on(first_day), method, False)]
        else:
            planned.payments.append((total, paid_on(issue_date), method, False))
    elif pay < paid_share + 0.15:
        planned.status = InvoiceStatus.PARTIALLY_PAID
        part = money.round_money(total * Decimal(rng.randint(20, 80)) / 100, currency)
        planned.payments.append((part, paid_on(issue_date), method, False))
    elif rng.random() < 0.03:
        # A cheque that bounced: the payment is voided and the invoice is owed again.
        planned.payments.append((total, paid_on(issue_date), "cheque", True))
    return planned


def _expense_rows(rng: random.Random, planned: list[_Planned], today: dt.date) -> list[dict[str, Any]]:
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
            status = rng.choices(
                [ExpenseStatus.APPROVED, ExpenseStatus.PENDING, ExpenseStatus.DECLINED], weights=[90, 6, 4]
            )[0]
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
                    "decided_by": None if status == ExpenseStatus.PENDING else BULK_ACTOR,
                    "decided_at": None if status == ExpenseStatus.PENDING else _at(day, 17),
                    "decision_note": "Not in budget" if status == ExpenseStatus.DECLINED else "",
                    "created_at": _at(day, 10),
                    "updated_at": _at(day, 10),
                }
            )
    return rows


# ---------------------------------------------------------------- one batch


@dataclass(frozen=True)
class _Formats:
    """The settings a bulk load needs, read once (the settings row is not held across transactions)."""

    invoice_number_format: str
    receipt_number_format: str
    tax_rounding: str


def _write_batch(
    session: Session, batch: list[_Planned], formats: _Formats, result: BulkResult, *, queue_email: bool
) -> None:
    numbers = _take_numbers(
        session,
        "invoice",
        [p.issue_date.year for p in batch if p.status != InvoiceStatus.DRAFT],
        formats.invoice_number_format,
    )
    ids = _reserve_ids(session, Invoice.__table__, len(batch))
    invoices = []
    for invoice_id, p in zip(ids, batch, strict=True):
        draft, void = p.status == InvoiceStatus.DRAFT, p.status == InvoiceStatus.VOID
        created = _at(p.issue_date, 9)
        totals = p.lines.totals
        invoices.append(
            {
                "id": invoice_id,
                "number": None if draft else next(numbers[p.issue_date.year]),
                "status": p.status,
                "client_id": p.client.id,
                "currency": p.currency,
                "issue_date": p.issue_date,
                "due_date": p.due_date,
                "purchase_order": "",
                "notes": "",
                "discount_type": p.lines.discount.kind if p.lines.discount else None,
                "discount_value": p.lines.discount.value if p.lines.discount else None,
                "tax_rounding": formats.tax_rounding,
                "subtotal": totals.subtotal,
                "discount_total": totals.discount_total,
                "tax_total": totals.tax_total,
                "total": totals.total,
                "amount_paid": p.amount_paid,
                "client_snapshot": None if draft else p.client.snapshot,
                "public_token": secrets.token_urlsafe(32),
                "created_by": BULK_ACTOR,
                "issued_at": None if draft else created,
                "issued_by": None if draft else BULK_ACTOR,
                "voided_at": _at(p.issue_date, 15) if void else None,
                "void_reason": "Raised in error" if void else None,
                "created_at": created,
                "updated_at": created,
            }
        )
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
            zip(p.lines.items, p.lines.descriptions, p.lines.totals.lines, strict=True), start=1
        )
    ]
    # Receipts are numbered in the order the money came in, each in the year it was recorded.
    paid = sorted(
        (paid_on, invoice_id, p.currency, amount, method, voided)
        for invoice_id, p in zip(ids, batch, strict=True)
        for amount, paid_on, method, voided in p.payments
    )
    receipts = _take_numbers(session, "receipt", [row[0].year for row in paid], formats.receipt_number_format)
    payments = [
        {
            "invoice_id": invoice_id,
            "receipt_number": next(receipts[paid_on.year]),
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
        for paid_on, invoice_id, currency, amount, method, voided in paid
    ]
    now = dt.datetime.now(dt.UTC)
    messages = [
        {
            "kind": "invoice",
            "channel": "email",
            "recipient": p.client.snapshot["email"],
            "invoice_id": invoice_id,
            "client_id": p.client.id,
            "state": MessageState.QUEUED.value,
            "attempts": 0,
            "next_attempt_at": now,
            "requested_by": BULK_ACTOR,
            "created_at": now,
            "updated_at": now,
        }
        for invoice_id, p in zip(ids, batch, strict=True)
        if queue_email
    ]
    _write_rows(session, Invoice.__table__, invoices)
    _write_rows(session, InvoiceLine.__table__, lines)
    _write_rows(session, Payment.__table__, payments)
    _write_rows(session, QueuedMessage.__table__, messages)
    if messages:
        notify_workers(session)
    rollups.rebuild_rollups(session)  # see the module's docstring
    result.invoices += len(batch)
    result.lines += len(lines)
    result.payments += len(payments)
    result.messages += len(messages)
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
    client_ids: Sequence[int] | None = None,
    queue_email: bool = False,
    expenses: bool = True,
) -> BulkResult:
    """Add ``count`` realistic invoices in NGN and USD, with their lines and payments, in bulk.

    Invoices are spread over the last 13 months in every state: drafts, open
    (some overdue), partly paid, paid (some in two payments), void, and a few
    bounced cheques (voided payments). They are written in issue-date order,
    ``batch_size`` to a transaction; ``progress`` is called with the number
    written after every batch.

    Without ``client_ids``, ``count // 25`` new clients (10 to 1,000) are added
    and the invoices go to every client that is not archived; with them, only
    to those clients. ``queue_email`` issues every invoice unpaid with its
    invoice e-mail queued, as issuing with ``notify.email`` does (the worker
    benchmark). ``expenses`` adds a year of monthly expenses (mostly approved)
    sized to the money collected, so the dashboard's collected-against-expenses
    chart has both sides.
    """
    rng = random.Random(seed * 7919 + count)
    today = today or dt.date.today()
    result = BulkResult()
    with atomic(session):
        stored = get_settings(session)
        formats = _Formats(stored.invoice_number_format, stored.receipt_number_format, stored.tax_rounding)
        if client_ids is None:
            result.clients = max(10, min(1000, count // 25))
            _add_clients(session, rng, result.clients, _at(today, 8))
    query = select(Client).order_by(Client.id)
    query = query.where(Client.archived_at.is_(None)) if client_ids is None else query.where(Client.id.in_(client_ids))
    clients = [_Client(c.id, c.default_currency, c.snapshot()) for c in session.scalars(query)]
    if not clients:
        raise ValueError("there is no client to invoice")
    if queue_email and not all(c.snapshot["email"] for c in clients):
        raise ValueError("every client needs an e-mail address to queue invoice e-mails")
    line_sets = _LineSets(rng, formats.tax_rounding)
    planned = sorted(
        (_plan(rng, rng.choice(clients), today, line_sets, unpaid=queue_email) for _ in range(count)),
        key=lambda p: p.issue_date,
    )
    if expenses:
        with atomic(session):
            rows = _expense_rows(rng, planned, today)
            _write_rows(session, Expense.__table__, rows)
            result.expenses = len(rows)
    for start in range(0, count, batch_size):
        batch = planned[start : start + batch_size]
        with atomic(session):
            _write_batch(session, batch, formats, result, queue_email=queue_email)
        if progress is not None:
            progress(len(batch))
    session.expire_all()
    return result
