"""The API under load while its Postgres restarts (SPEC §10): 503 problems while down, back by itself, nothing half-written."""

from __future__ import annotations

import threading
import time
import uuid
from decimal import Decimal

import requests
import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

import api_service
from shared import money
from shared.db import db
from shared.models import Invoice, QueuedMessage
from shared.services import Actor, create_api_key
from support import app_config
from support.figures import count
from support.processes import wait_until

CLIENT_THREADS = 4
DOWN_SECONDS = 3.0
RECOVERY_SECONDS = 8.0  # 5 s to come back, then 3 s in which every answer must be a 201


def body(n: int) -> dict:
    return {
        "client": {"name": f"Load client {n % 7}", "email": f"load{n % 7}@example.com"},
        "currency": "USD",
        "discount": {"type": "percent", "value": "5"},
        "items": [
            {"description": "Consulting", "quantity": "2", "unit_price": "150.00", "tax_rate": "7.5"},
            {"description": "Travel", "quantity": "1", "unit_price": "80.35", "tax_rate": "0"},
            {"description": "Hosting", "quantity": "3", "unit_price": "9.99", "tax_rate": "20"},
        ],
    }


def test_api_survives_a_postgres_restart_under_load(pg_cluster, live_server):
    app = api_service.create_app(app_config(pg_cluster.url))
    with app.app_context():
        _, secret = create_api_key(db.session, actor=Actor.system("resilience"), name="load", scope="write")
        db.session.remove()

    results: list[tuple[float, int, str, str]] = []  # (time, status, content type, body)
    lock = threading.Lock()
    stop = threading.Event()
    counter = iter(range(1_000_000))

    def client(base: str) -> None:
        http = requests.Session()
        while not stop.is_set():
            n = next(counter)
            try:
                response = http.post(
                    f"{base}/api/v1/invoices",
                    json=body(n),
                    headers={"Authorization": f"Bearer {secret}", "Idempotency-Key": f"load-{uuid.uuid4()}"},
                    timeout=30,
                )
                entry = (
                    time.monotonic(),
                    response.status_code,
                    response.headers.get("Content-Type", ""),
                    response.text,
                )
            except requests.RequestException as exc:  # the server itself must stay up
                entry = (time.monotonic(), 0, "", repr(exc))
            with lock:
                results.append(entry)

    with live_server(app) as server:
        threads = [threading.Thread(target=client, args=(server.url,)) for _ in range(CLIENT_THREADS)]
        for thread in threads:
            thread.start()
        try:
            # Load first: wait for the first invoices instead of a fixed 2 s (as quick when idle, sure when busy).
            assert wait_until(lambda: any(status == 201 for _, status, _, _ in list(results)), 60, interval=0.1)
            time.sleep(0.5)
            pg_cluster.stop("fast")
            count("faults injected")
            down_at = time.monotonic()
            time.sleep(DOWN_SECONDS)
            pg_cluster.start()
            up_at = time.monotonic()
            time.sleep(RECOVERY_SECONDS)
        finally:
            stop.set()
            for thread in threads:
                thread.join(60)
        with app.app_context():
            db.engine.dispose()

    count("requests sent", len(results))
    statuses = [status for _, status, _, _ in results]
    count("  API 201 created", statuses.count(201))
    count("  API 503 while Postgres down", statuses.count(503))
    unexpected = [(status, text[:300]) for _, status, _, text in results if status not in (201, 503)]
    assert not unexpected, unexpected[:5]
    assert not any("Traceback" in text for *_, text in results)
    for _, status, content_type, text in results:
        if status == 503:
            assert content_type == "application/problem+json", text
            assert '"status": 503' in text
    assert statuses.count(503) > 0, "the outage was not seen: the fault did not happen"
    assert any(at < down_at and status == 201 for at, status, _, _ in results)
    # Back by itself within seconds: a 201 soon after the server is up, and only 201s at the end.
    first_ok = min((at for at, status, _, _ in results if at > up_at and status == 201), default=None)
    assert first_ok is not None and first_ok - up_at < 5, "no recovery within 5 s"
    settled = [status for at, status, _, _ in results if at > up_at + 5]
    assert settled and all(status == 201 for status in settled), settled[:20]

    # Nothing half-written: every invoice whole, its totals those of shared.money, its e-mail queued.
    engine = sa.create_engine(pg_cluster.url)
    with Session(engine) as session:
        invoices = session.scalars(select_invoices()).all()
        assert len(invoices) >= statuses.count(201)
        for invoice in invoices:
            assert len(invoice.lines) == 3, invoice.id
            totals = money.compute_totals(
                [money.LineInput(line.quantity, line.unit_price, line.tax_rate) for line in invoice.lines],
                invoice.currency,
                money.Discount("percent", Decimal("5")),
                invoice.tax_rounding,
            )
            assert (invoice.subtotal, invoice.discount_total, invoice.tax_total, invoice.total) == (
                totals.subtotal,
                totals.discount_total,
                totals.tax_total,
                totals.total,
            )
            assert invoice.status != "draft" and invoice.number
            queued = session.scalar(
                sa.select(sa.func.count()).where(
                    QueuedMessage.invoice_id == invoice.id, QueuedMessage.kind == "invoice"
                )
            )
            assert queued == 1, invoice.id
        session.execute(sa.text("TRUNCATE invoices, invoice_lines, clients, email_queue, activity CASCADE"))
        session.commit()
    engine.dispose()


def select_invoices():
    return sa.select(Invoice).options(selectinload(Invoice.lines)).order_by(Invoice.id)
