"""Bulk data for the benchmarks: clients, issued invoices with lines, queued e-mails.

Rows go in with COPY (100,000 invoices and their lines in well under a
minute); totals come from ``shared.money.compute_totals`` so every row obeys
the same arithmetic and check constraints as one made through the services.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import random
import secrets
from decimal import Decimal

from shared.models.rollups import PG_LOCK_SQL, REBUILD_SQL
from shared.money import Discount, LineInput, compute_totals

CURRENCY = "NGN"
DESCRIPTIONS = ["Consulting", "Website maintenance", "Hosting (monthly)", "Training session", "Design work"]


def _csv(value) -> str:
    if value is None:
        return "\\N"
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _copy(cursor, table: str, columns: list[str], rows) -> None:
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(_csv(v) for v in row))
        buffer.write("\n")
    buffer.seek(0)
    cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)


def line_templates(rng: random.Random, count: int, lines_per_invoice: int) -> list[tuple[list[tuple], object]]:
    """A few distinct line sets with their totals (reused round-robin)."""
    templates = []
    for _ in range(count):
        items = [
            (
                rng.choice(DESCRIPTIONS),
                Decimal(rng.choice([1, 1, 2, 3, 5])),
                Decimal(rng.randint(5, 400) * 100),
                Decimal(rng.choice(["0", "7.5"])),
            )
            for _ in range(lines_per_invoice)
        ]
        discount = Discount("percent", Decimal("10")) if rng.random() < 0.3 else None
        totals = compute_totals([LineInput(q, p, r) for _, q, p, r in items], CURRENCY, discount)
        templates.append((items, discount, totals))
    return templates


def ensure_clients(cursor, count: int = 20) -> list[int]:
    now = dt.datetime.now(dt.UTC)
    ids = []
    for n in range(count):
        cursor.execute(
            "INSERT INTO clients (name, client_type, email, phone, billing_address, postal_address,"
            " default_currency, sms_opt_in, reminders_opt_out, created_at, updated_at)"
            " VALUES (%s, 'corporate', %s, NULL, %s, '', %s, false, false, %s, %s) RETURNING id",
            (f"Bench Client {n:02d} Ltd", f"client{n:02d}@bench.example", "1 Bench Road\nLagos", CURRENCY, now, now),
        )
        ids.append(cursor.fetchone()[0])
    return ids


def bulk_invoices(
    conn,
    count: int,
    *,
    client_ids: list[int],
    seed: int = 7,
    lines_per_invoice: int = 3,
    queue_email: bool = False,
    number_prefix: str = "SEED",
) -> list[int]:
    """Insert ``count`` issued invoices (open, partly paid and paid, due over the past year).

    With ``queue_email`` each gets a queued invoice e-mail, as ``issue`` with
    notify would. Returns the new invoice ids. Commits.
    """
    rng = random.Random(seed)
    templates = line_templates(rng, 50, lines_per_invoice)
    now = dt.datetime.now(dt.UTC)
    today = dt.date.today()
    with conn.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM invoices")
        first = cursor.fetchone()[0] + 1
        cursor.execute("SELECT id, name, email, billing_address FROM clients WHERE id = ANY(%s)", (client_ids,))
        rows = cursor.fetchall()
        emails = {cid: email for cid, _, email, _ in rows}
        snapshots = {
            cid: json.dumps(
                {
                    "name": name,
                    "client_type": "corporate",
                    "email": email,
                    "phone": None,
                    "billing_address": address,
                    "postal_address": "",
                }
            )
            for cid, name, email, address in rows
        }
        ids = list(range(first, first + count))
        invoices, lines, queue = [], [], []
        tag = secrets.token_hex(3)
        for n, invoice_id in enumerate(ids):
            items, discount, totals = templates[n % len(templates)]
            client_id = client_ids[n % len(client_ids)]
            issue_date = today - dt.timedelta(days=rng.randint(0, 365))
            due_date = issue_date + dt.timedelta(days=rng.choice([7, 14, 30]))
            roll = rng.random()
            if roll < 0.5:
                status, paid = "paid", totals.total
            elif roll < 0.6:
                status, paid = "partially_paid", (totals.total / 2).quantize(Decimal("1.00"))
            else:
                status, paid = "open", Decimal("0")
            if queue_email:
                status, paid = "open", Decimal("0")
            issued_at = dt.datetime.combine(issue_date, dt.time(9), dt.UTC)
            invoices.append(
                (
                    invoice_id,
                    f"{number_prefix}-{tag}-{n + 1:06d}",
                    status,
                    client_id,
                    CURRENCY,
                    issue_date,
                    due_date,
                    "",
                    "",
                    discount.kind if discount else None,
                    discount.value if discount else None,
                    "line",
                    totals.subtotal,
                    totals.discount_total,
                    totals.tax_total,
                    totals.total,
                    paid,
                    snapshots[client_id],
                    secrets.token_urlsafe(24),
                    "bench",
                    issued_at,
                    "bench",
                    None if queue_email else issued_at,
                    issued_at,
                    issued_at,
                )
            )
            for position, ((description, quantity, price, rate), line) in enumerate(
                zip(items, totals.lines, strict=True), start=1
            ):
                lines.append(
                    (invoice_id, position, description, quantity, price, rate, line.amount, line.discount, line.tax)
                )
            if queue_email:
                queue.append(
                    ("invoice", "email", emails[client_id], invoice_id, client_id, "queued", 0, now, "bench", now, now)
                )
        _copy(
            cursor,
            "invoices",
            [
                "id",
                "number",
                "status",
                "client_id",
                "currency",
                "issue_date",
                "due_date",
                "purchase_order",
                "notes",
                "discount_type",
                "discount_value",
                "tax_rounding",
                "subtotal",
                "discount_total",
                "tax_total",
                "total",
                "amount_paid",
                "client_snapshot",
                "public_token",
                "created_by",
                "issued_at",
                "issued_by",
                "last_emailed_at",
                "created_at",
                "updated_at",
            ],
            invoices,
        )
        _copy(
            cursor,
            "invoice_lines",
            [
                "invoice_id",
                "position",
                "description",
                "quantity",
                "unit_price",
                "tax_rate",
                "amount",
                "discount",
                "tax",
            ],
            lines,
        )
        if queue:
            _copy(
                cursor,
                "email_queue",
                [
                    "kind",
                    "channel",
                    "recipient",
                    "invoice_id",
                    "client_id",
                    "state",
                    "attempts",
                    "next_attempt_at",
                    "requested_by",
                    "created_at",
                    "updated_at",
                ],
                queue,
            )
        cursor.execute("SELECT setval(pg_get_serial_sequence('invoices', 'id'), (SELECT max(id) FROM invoices))")
        # COPY fires no flush events: recompute the dashboard's running totals (shared.models.rollups).
        cursor.execute(PG_LOCK_SQL)
        for statement in REBUILD_SQL:
            cursor.execute(statement)
        cursor.execute("ANALYZE")
    conn.commit()
    return ids
