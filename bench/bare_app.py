"""The ceiling for create-invoice: a bare WSGI app doing the same writes with raw SQL.

One transaction per request: take the next invoice number (the same counter
row the API locks), insert the invoice, its three lines and a queued e-mail,
commit, answer 201 with a small JSON body. No framework, no ORM, no
validation, no idempotency record: what Postgres and gunicorn cost alone.
Run with ``gunicorn bench.bare_app:app`` and ``DATABASE_URL`` set.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import threading
from decimal import Decimal

import psycopg2

from shared.money import LineInput, compute_totals

_local = threading.local()
_CLIENT_ID = int(os.environ.get("BENCH_CLIENT_ID", "1"))


def _connection():
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        url = os.environ["DATABASE_URL"].replace("postgresql+psycopg2://", "postgresql://")
        conn = _local.conn = psycopg2.connect(url)
    return conn


def app(environ, start_response):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = json.loads(environ["wsgi.input"].read(length) or b"{}")
    items = body.get("items") or []
    lines = [
        (
            i["description"],
            Decimal(str(i["quantity"])),
            Decimal(str(i["unit_price"])),
            Decimal(str(i.get("tax_rate", "0"))),
        )
        for i in items
    ]
    totals = compute_totals([LineInput(q, p, r) for _, q, p, r in lines], "NGN")
    client_id = int(body.get("client_id") or _CLIENT_ID)
    today = dt.date.today()
    now = dt.datetime.now(dt.UTC)
    conn = _connection()
    with conn, conn.cursor() as cursor:
        cursor.execute(
            "INSERT INTO number_counters (series, year, last_value) VALUES ('invoice', %s, 0) ON CONFLICT DO NOTHING",
            (today.year,),
        )
        cursor.execute(
            "UPDATE number_counters SET last_value = last_value + 1 WHERE series = 'invoice' AND year = %s"
            " RETURNING last_value",
            (today.year,),
        )
        number = f"BARE-{today.year}-{cursor.fetchone()[0]:06d}"
        cursor.execute("SELECT email FROM clients WHERE id = %s", (client_id,))
        email = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO invoices (number, status, client_id, currency, issue_date, due_date, purchase_order, notes,"
            " tax_rounding, subtotal, discount_total, tax_total, total, amount_paid, public_token, created_by,"
            " issued_at, issued_by, created_at, updated_at)"
            " VALUES (%s, 'open', %s, 'NGN', %s, %s, '', '', 'line', %s, %s, %s, %s, 0, %s, 'bare', %s, 'bare', %s, %s)"
            " RETURNING id",
            (
                number,
                client_id,
                today,
                today + dt.timedelta(days=14),
                totals.subtotal,
                totals.discount_total,
                totals.tax_total,
                totals.total,
                secrets.token_urlsafe(24),
                now,
                now,
                now,
            ),
        )
        invoice_id = cursor.fetchone()[0]
        # The same running total the real app keeps (shared.models.rollups), so the comparison stays fair.
        cursor.execute(
            "INSERT INTO invoice_rollups (currency, status, due_date, issue_month, invoice_count, total, amount_paid)"
            " VALUES ('NGN', 'open', %s, %s, 1, %s, 0) ON CONFLICT (currency, status, due_date, issue_month) DO UPDATE"
            " SET invoice_count = invoice_rollups.invoice_count + 1, total = invoice_rollups.total + excluded.total",
            (today + dt.timedelta(days=14), f"{today:%Y-%m}", totals.total),
        )
        cursor.executemany(
            "INSERT INTO invoice_lines (invoice_id, position, description, quantity, unit_price, tax_rate, amount,"
            " discount, tax) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (invoice_id, n, d, q, p, r, t.amount, t.discount, t.tax)
                for n, ((d, q, p, r), t) in enumerate(zip(lines, totals.lines, strict=True), start=1)
            ],
        )
        cursor.execute(
            "INSERT INTO email_queue (kind, channel, recipient, invoice_id, client_id, state, attempts,"
            " next_attempt_at, requested_by, created_at, updated_at)"
            " VALUES ('invoice', 'email', %s, %s, %s, 'queued', 0, %s, 'bare', %s, %s)",
            (email, invoice_id, client_id, now, now, now),
        )
    payload = json.dumps({"id": invoice_id, "number": number, "total": str(totals.total)}).encode()
    start_response("201 Created", [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
    return [payload]
