"""Two payments race for the last balance of an invoice (SPEC §5.3, §7): one wins, the balance never goes negative."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest

import api_service
import main_service
from shared.db import db
from shared.models import Invoice, Payment
from shared.services import Actor, create_api_key, create_user
from support import ADMIN_PASSWORD, app_config, csrf_from, sign_in
from support.figures import count

ROUNDS = 5


def race(*calls):
    """Run the calls at the same moment on their own threads; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def check_books(session, invoice_id: int) -> None:
    session.rollback()
    invoice = session.get(Invoice, invoice_id)
    paid = sum((p.amount for p in session.query(Payment).filter_by(invoice_id=invoice_id) if not p.is_void), Decimal(0))
    assert invoice.amount_paid == paid == invoice.total
    assert invoice.balance_due == 0  # never negative
    assert invoice.status == "paid"


@pytest.fixture
def apps(database_url):
    api = api_service.create_app(app_config(database_url))
    admin = main_service.create_app(app_config(database_url))
    yield api, admin
    for app in (api, admin):
        with app.app_context():
            db.engine.dispose()


def test_two_api_payments_for_the_last_balance(apps, session, make_invoice):
    api, _ = apps
    with api.app_context():
        _, secret = create_api_key(db.session, actor=Actor.system("race"), name="race", scope="write")
        db.session.remove()
    headers = {"Authorization": f"Bearer {secret}"}
    for n in range(ROUNDS):
        invoice = make_invoice(issue=True, lines=2)  # total 200.00
        url = f"/api/v1/invoices/{invoice.id}/payments"

        def pay(key, url=url):
            body = {"amount": "200.00", "method": "bank_transfer"}
            return api.test_client().post(url, json=body, headers={**headers, "Idempotency-Key": key})

        first, second = race(lambda n=n: pay(f"a-{n}"), lambda n=n: pay(f"b-{n}"))
        count("requests sent", 2)
        assert sorted([first.status_code, second.status_code]) == [201, 409], (first.json, second.json)
        loser = first if first.status_code == 409 else second
        assert loser.mimetype == "application/problem+json"
        check_books(session, invoice.id)


def test_two_admin_forms_for_the_last_balance(apps, session, make_invoice):
    _, admin = apps
    with admin.app_context():
        for who in ("one", "two"):
            create_user(
                db.session,
                actor=Actor.system(),
                email=f"{who}@example.com",
                name=who,
                role="staff",
                password=ADMIN_PASSWORD,
            )
        db.session.remove()
    browsers = [sign_in(admin, "one@example.com"), sign_in(admin, "two@example.com")]
    for _ in range(ROUNDS):
        invoice = make_invoice(issue=True, lines=2)
        url = f"/admin/invoices/{invoice.id}/payments/new"
        tokens = [csrf_from(b.get(url).get_data(as_text=True)) for b in browsers]  # both forms open at once

        def submit(i, url=url, tokens=tokens):
            data = {"csrf_token": tokens[i], "amount": "200.00", "method": "bank_transfer", "paid_on": ""}
            return browsers[i].client.post(url, data=data)

        results = race(lambda: submit(0), lambda: submit(1))
        count("requests sent", 2)
        statuses = sorted(r.status_code for r in results)
        assert statuses == [200, 302], [r.get_data(as_text=True)[:500] for r in results]
        loser = next(r for r in results if r.status_code == 200)
        page = loser.get_data(as_text=True)
        assert "error" in page.lower() and "balance" in page.lower(), page[:2000]
        check_books(session, invoice.id)
