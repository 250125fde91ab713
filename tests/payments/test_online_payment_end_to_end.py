"""SPEC §14 end to end on Postgres: Pay button -> Checkout Session at the stand-in -> signed event -> one payment.

Redeliveries and two events for one invoice arriving at the same moment never
record more than the balance; the rest is kept as the client's credit.
"""

from __future__ import annotations

import re
import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select

import main_service
from shared.db import db
from shared.models import Invoice, Payment, QueuedMessage, StripeEvent
from shared.services.credit_notes import client_credit_in
from support import app_config
from support.stripe_stub import StripeStub, checkout_event, signed, stripe_settings

pytestmark = pytest.mark.backends("postgresql")

CASES = [
    # currency, item (quantity, unit price, tax rate), balance, minor units
    ("USD", ("1", "100.00", "0"), Decimal("100.00"), 10000),
    ("JPY", ("1.5", "333", "10"), Decimal("550"), 550),  # SPEC §5.1's worked example
    ("KWD", ("2", "6.170", "0"), Decimal("12.340"), 12340),
]


@pytest.fixture
def stub():
    with StripeStub() as stub:
        yield stub


@pytest.fixture
def shop(database_url, stub):
    app = main_service.create_app(app_config(database_url, **stripe_settings(stub)))
    yield app
    with app.app_context():
        db.engine.dispose()


def at_once(app, bodies: list[bytes]) -> list[int]:
    """POST each body to the webhook from its own thread, all released at the same moment."""
    barrier = threading.Barrier(len(bodies))
    statuses: list[int] = [0] * len(bodies)

    def deliver(i: int, body: bytes) -> None:
        client = app.test_client()
        barrier.wait()
        statuses[i] = client.post("/webhooks/stripe", data=body, headers={"Stripe-Signature": signed(body)}).status_code

    threads = [threading.Thread(target=deliver, args=(i, body)) for i, body in enumerate(bodies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses


def pay_button(app, token: str, balance_text: str) -> dict:
    """Open the client's page, press Pay; returns the Checkout Session the stand-in made."""
    client = app.test_client()
    page = client.get(f"/i/{token}").get_data(as_text=True)
    assert f"Pay {balance_text} online" in " ".join(re.sub(r"<[^>]+>", " ", page).replace("\xa0", " ").split())
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(f"/i/{token}/pay", data={"csrf_token": csrf})
    assert response.status_code == 303
    return response


def figures(session, invoice_id: int) -> dict:
    session.rollback()
    invoice = session.get(Invoice, invoice_id)
    session.refresh(invoice)
    payments = session.scalars(select(Payment).where(Payment.invoice_id == invoice_id)).all()
    return {
        "amount_paid": invoice.amount_paid,
        "status": invoice.status,
        "payments": [(p.amount, p.method) for p in payments],
        "receipt_emails": session.scalar(
            select(func.count())
            .select_from(QueuedMessage)
            .where(QueuedMessage.invoice_id == invoice_id, QueuedMessage.kind == "receipt")
        ),
        "events": session.scalar(
            select(func.count()).select_from(StripeEvent).where(StripeEvent.invoice_id == invoice_id)
        ),
        "to_credit": session.scalar(
            select(func.coalesce(func.sum(StripeEvent.to_credit), 0)).where(StripeEvent.invoice_id == invoice_id)
        ),
    }


@pytest.mark.parametrize(("currency", "item", "balance", "minor"), CASES, ids=[c[0] for c in CASES])
def test_pay_online_end_to_end_records_the_balance_once(
    shop, stub, session, make_invoice, currency, item, balance, minor
):
    quantity, price, rate = item
    items = [{"description": "Consulting", "quantity": quantity, "unit_price": price, "tax_rate": rate}]
    first, second = (make_invoice(issue=True, currency=currency, items=items) for _ in range(2))
    assert first.balance_due == balance
    balance_text = {"USD": "$100.00", "JPY": "¥550", "KWD": "KWD 12.340"}[currency]

    # The Pay button makes a session at the stand-in for the balance in minor units.
    response = pay_button(shop, first.public_token, balance_text)
    checkout = stub.sessions[-1]
    assert response.headers["Location"] == checkout["url"]
    form = stub.requests[-1]["form"]
    assert form["line_items[0][price_data][unit_amount]"] == str(minor)
    assert form["line_items[0][price_data][currency]"] == currency.lower()
    assert checkout["metadata"] == {"invoice_id": str(first.id)}

    # Stripe delivers the signed event three times, at the same moment: one payment, one receipt e-mail.
    body = checkout_event(checkout)
    assert at_once(shop, [body, body, body]) == [200, 200, 200]
    after = figures(session, first.id)
    assert after["payments"] == [(balance, "online")]
    assert (after["amount_paid"], after["status"], after["receipt_emails"], after["events"]) == (balance, "paid", 1, 1)

    # Two different events (the client paid twice, in two tabs) at the same moment: the balance once, the rest credit.
    pay_button(shop, second.public_token, balance_text)
    pay_button(shop, second.public_token, balance_text)
    one, other = stub.sessions[-2:]
    assert at_once(shop, [checkout_event(one), checkout_event(other)]) == [200, 200]
    after = figures(session, second.id)
    assert after["payments"] == [(balance, "online")]
    assert (after["amount_paid"], after["status"], after["receipt_emails"], after["events"]) == (balance, "paid", 1, 2)
    assert after["to_credit"] == balance  # the rest is the client's credit
    assert client_credit_in(session, second.client_id, currency) == balance
