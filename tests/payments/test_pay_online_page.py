"""SPEC §14 paying: the Pay button, POST /i/<token>/pay making a Stripe Checkout Session at a local stand-in."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

import main_service
from shared.db import db
from shared.inputs import CreditNoteInput, PaymentInput
from shared.services import record_payment, void_invoice
from shared.services.credit_notes import issue_credit_note
from support import app_config
from support.stripe_stub import STRIPE_TEST_KEY, StripeStub, stripe_settings

pytestmark = pytest.mark.backends("sqlite")


@pytest.fixture
def stub():
    with StripeStub() as stub:
        yield stub


def _app(database_url, **settings):
    app = main_service.create_app(app_config(database_url, **settings))
    return app


@pytest.fixture
def shop(database_url, stub):
    """The main service with Stripe configured against the stand-in."""
    app = _app(database_url, **stripe_settings(stub))
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def no_stripe(database_url):
    app = _app(database_url)
    yield app
    with app.app_context():
        db.engine.dispose()


def _text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).replace("\xa0", " ").split())


def _opened(app, token, *, via: str | None = None):
    """A client that has the invoice page (or the page of invoice ``via``) open, with its Pay form's CSRF token."""
    client = app.test_client()
    page = client.get(f"/i/{via or token}").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    return lambda: client.post(f"/i/{token}/pay", data={"csrf_token": found.group(1) if found else ""})


def _pay(app, token, *, via: str | None = None):
    return _opened(app, token, via=via)()


def test_with_a_key_the_page_offers_to_pay_the_balance_online(shop, make_invoice):
    invoice = make_invoice(issue=True)
    page = shop.test_client().get(f"/i/{invoice.public_token}")
    assert "Pay $100.00 online" in _text(page)
    assert f'action="/i/{invoice.public_token}/pay"' in page.get_data(as_text=True)
    # The browser follows the 303 to Stripe's checkout host: form-action must allow it.
    assert "form-action 'self' https:" in page.headers["Content-Security-Policy"]


def test_without_a_key_no_pay_button_and_no_promise_of_online_payment(no_stripe, make_invoice):
    invoice = make_invoice(issue=True)
    page = _text(no_stripe.test_client().get(f"/i/{invoice.public_token}"))
    assert "online" not in page.replace("View the invoice online", "").lower()
    assert "/pay" not in no_stripe.test_client().get(f"/i/{invoice.public_token}").get_data(as_text=True)


def test_pay_makes_a_checkout_session_for_the_balance_and_answers_303(shop, stub, session, actor, make_invoice):
    invoice = make_invoice(issue=True)
    record_payment(session, actor=actor, invoice_id=invoice.id, data=PaymentInput(amount="30.55"))
    response = _pay(shop, invoice.public_token)
    assert response.status_code == 303
    assert response.headers["Location"] == stub.sessions[0]["url"]
    [request] = stub.requests
    form = request["form"]
    assert request["path"] == "/v1/checkout/sessions"
    assert request["authorization"] == f"Bearer {STRIPE_TEST_KEY}"
    assert form["mode"] == "payment"
    assert form["line_items[0][quantity]"] == "1"
    assert form["line_items[0][price_data][unit_amount]"] == "6945"
    assert form["line_items[0][price_data][currency]"] == "usd"
    assert form["line_items[0][price_data][product_data][name]"] == f"Invoice {invoice.number}"
    assert form["metadata[invoice_id]"] == str(invoice.id)
    assert form["client_reference_id"] == str(invoice.id)
    page_url = f"http://127.0.0.1:5000/i/{invoice.public_token}"
    assert form["cancel_url"] == page_url
    assert form["success_url"].startswith(page_url)


@pytest.mark.parametrize(("currency", "price", "minor"), [("JPY", "550", "550"), ("KWD", "12.340", "12340")])
def test_unit_amount_is_in_minor_units_by_the_iso_exponent(shop, stub, make_invoice, currency, price, minor):
    invoice = make_invoice(
        issue=True,
        currency=currency,
        items=[{"description": "Work", "quantity": "1", "unit_price": price, "tax_rate": "0"}],
    )
    assert _pay(shop, invoice.public_token).status_code == 303
    form = stub.requests[0]["form"]
    assert form["line_items[0][price_data][unit_amount]"] == minor
    assert form["line_items[0][price_data][currency]"] == currency.lower()


def test_a_paid_or_void_invoice_has_no_button_and_pay_answers_the_page(shop, stub, session, actor, make_invoice):
    paid, void, credited = make_invoice(issue=True), make_invoice(issue=True), make_invoice(issue=True)
    # The client opened the page while it could still be paid, and presses Pay after it no longer can.
    pay_stale = {invoice.id: _opened(shop, invoice.public_token) for invoice in (paid, void, credited)}
    record_payment(session, actor=actor, invoice_id=paid.id, data=PaymentInput(amount="100.00"))
    void_invoice(session, actor=actor, invoice_id=void.id, reason="sent twice")
    issue_credit_note(session, actor=actor, invoice_id=credited.id, data=CreditNoteInput(reason="cancelled", full=True))
    for invoice in (paid, void, credited):
        assert "Pay " not in _text(shop.test_client().get(f"/i/{invoice.public_token}"))
        response = pay_stale[invoice.id]()
        assert response.status_code == 200
        assert f"Invoice {invoice.number}" in _text(response)
    assert stub.requests == []


def test_a_three_decimal_balance_not_ending_in_zero_is_left_to_a_bank_transfer(shop, stub, make_invoice):
    invoice = make_invoice(
        issue=True,
        currency="KWD",
        items=[{"description": "Work", "quantity": "1", "unit_price": "12.345", "tax_rate": "0"}],
    )
    assert invoice.balance_due == Decimal("12.345")
    page = _text(shop.test_client().get(f"/i/{invoice.public_token}"))
    assert "online" not in page.replace("cannot be paid by card online", "")
    assert "pay it by bank transfer" in page
    # A forged or stale Pay form (with a token from a payable invoice's page) gets the page, not a session.
    payable = make_invoice(issue=True)
    assert _pay(shop, invoice.public_token, via=payable.public_token).status_code == 200
    assert stub.requests == []


def test_stripe_refusing_gives_a_friendly_502_page(shop, stub, make_invoice):
    invoice = make_invoice(issue=True)
    stub.fail = 500
    response = _pay(shop, invoice.public_token)
    assert response.status_code == 502
    text = _text(response)
    assert "Online payment is unavailable right now" in text and "Nothing was charged" in text
    assert "Traceback" not in text


def test_stripe_unreachable_gives_the_friendly_page_too(database_url, make_invoice):
    with StripeStub() as gone:
        url = gone.url  # a port nobody listens on once the stand-in has stopped
    app = _app(database_url, **{**stripe_settings(), "STRIPE_API_BASE": url})
    invoice = make_invoice(issue=True)
    response = _pay(app, invoice.public_token)
    assert response.status_code == 502 and "Back to the invoice" in _text(response)
    with app.app_context():
        db.engine.dispose()


def test_pay_needs_the_pages_csrf_token(shop, stub, make_invoice):
    invoice = make_invoice(issue=True)
    assert shop.test_client().post(f"/i/{invoice.public_token}/pay").status_code == 400
    assert stub.requests == []
