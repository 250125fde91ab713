"""Amounts typed in the admin as the pages show them, "1,200.00" (issue 13 item 4).

The forms take the display format's thousands separator where the display
puts it; the API keeps plain decimals.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from shared.db import db
from shared.errors import ValidationFailed
from shared.inputs import ClientInput, InvoiceDraft
from shared.models import Client, Expense, Invoice, Payment
from shared.parsing import to_grouped_decimal
from shared.services import Actor, Notify, create_client, create_draft, issue_invoice

# Pages, documents and messages read the same rows on either backend: SQLite only (the README's rule).
pytestmark = pytest.mark.backends("sqlite")


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("1,200.00", Decimal("1200.00")),
        ("12,345,678.5", Decimal("12345678.5")),
        ("999.99", Decimal("999.99")),
        ("1200", Decimal("1200")),
        (" 1,000 ", Decimal("1000")),
        ("8.625", Decimal("8.625")),
    ],
)
def test_grouped_amounts_read_as_the_display_writes_them(typed, number):
    assert to_grouped_decimal(typed, "amount", group=",") == number


@pytest.mark.parametrize("typed", ["1,2,3", "1,20.00", "1,2000", ",100", "1,,200", "1,200,", "1,200.0,0", "1234,567"])
def test_a_misplaced_thousands_separator_is_refused_with_a_clear_message(typed):
    with pytest.raises(ValidationFailed) as info:
        to_grouped_decimal(typed, "amount", group=",")
    assert info.value.errors["amount"] == [
        f"“{typed}” has a thousands separator (,) in the wrong place: type it like 1,200.00 or 1200.00"
    ]


@pytest.mark.parametrize("typed", ["١,٢٠٠", "１,200", "1_200", "1e3", "12.00001"])
def test_grouping_does_not_loosen_the_strict_number_rules(typed):
    with pytest.raises(ValidationFailed):
        to_grouped_decimal(typed, "amount", group=",")


def _client(admin_app) -> int:
    with admin_app.app_context():
        client = create_client(
            db.session, actor=Actor.system(), data=ClientInput.from_mapping({"name": "Ada", "email": "ada@example.com"})
        )
        db.session.commit()
        return client.id


def _line(client_id: int, unit_price: str, quantity: str = "1") -> dict:
    return {
        "client_id": str(client_id),
        "currency": "USD",
        "lines-0-description": "Consulting",
        "lines-0-quantity": quantity,
        "lines-0-unit_price": unit_price,
        "lines-0-tax_rate": "0",
        "discount_type": "fixed",
        "discount_value": "1,000.00",
    }


def test_the_invoice_editor_takes_grouped_prices_quantities_and_discounts(admin_app, admin):
    client_id = _client(admin_app)
    response = admin.post_form("/admin/invoices/new", _line(client_id, "1,200.00", quantity="1,000"))
    assert response.status_code == 302, response.get_data(as_text=True)
    with admin_app.app_context():
        invoice = db.session.scalars(select(Invoice)).one()
        assert (invoice.lines[0].quantity, invoice.lines[0].unit_price) == (Decimal("1000"), Decimal("1200"))
        assert invoice.discount_value == Decimal("1000")
        assert invoice.total == Decimal("1199000.00")


def test_a_misplaced_separator_in_the_editor_is_shown_on_the_field_and_nothing_is_saved(admin_app, admin):
    client_id = _client(admin_app)
    response = admin.post_form("/admin/invoices/new", _line(client_id, "1,20.00"))
    assert response.status_code == 200
    assert "“1,20.00” has a thousands separator (,) in the wrong place" in response.get_data(as_text=True)
    with admin_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Invoice)) == 0


def test_a_payment_typed_with_grouping_is_recorded(admin_app, admin):
    client_id = _client(admin_app)
    with admin_app.app_context():
        client = db.session.get(Client, client_id)
        draft = create_draft(
            db.session,
            actor=Actor.system(),
            data=InvoiceDraft.from_mapping(
                {
                    "client_id": client.id,
                    "currency": "USD",
                    "items": [{"description": "Work", "quantity": "1", "unit_price": "2500.00", "tax_rate": "0"}],
                }
            ),
        )
        issue_invoice(db.session, actor=Actor.system(), invoice_id=draft.id, notify=Notify(email=False))
        db.session.commit()
        invoice_id = draft.id
    page = f"/admin/invoices/{invoice_id}/payments/new"
    fields = {"paid_on": dt.date.today().isoformat(), "method": "bank_transfer", "notify_email": ""}
    refused = admin.post_form(page, {**fields, "amount": "1,2,00"})
    assert "“1,2,00” has a thousands separator (,) in the wrong place" in refused.get_data(as_text=True)
    response = admin.post_form(page, {**fields, "amount": "1,200.00"})
    assert response.status_code == 302, response.get_data(as_text=True)
    with admin_app.app_context():
        assert db.session.scalars(select(Payment.amount)).all() == [Decimal("1200.00")]


def test_an_expense_typed_with_grouping_is_requested(admin_app, admin):
    response = admin.post_form(
        "/admin/expenses/new",
        {"title": "Laptop", "category": "Equipment", "amount": "1,200.00", "currency": "USD", "expense_date": ""},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    with admin_app.app_context():
        assert db.session.scalars(select(Expense.amount)).all() == [Decimal("1200.00")]


def test_a_zero_payment_is_refused_by_the_rule_not_as_a_missing_field(admin_app, admin):
    client_id = _client(admin_app)
    with admin_app.app_context():
        draft = create_draft(
            db.session,
            actor=Actor.system(),
            data=InvoiceDraft.from_mapping(
                {
                    "client_id": client_id,
                    "currency": "USD",
                    "items": [{"description": "Work", "quantity": "1", "unit_price": "10", "tax_rate": "0"}],
                }
            ),
        )
        issue_invoice(db.session, actor=Actor.system(), invoice_id=draft.id, notify=Notify(email=False))
        db.session.commit()
        invoice_id = draft.id
    page = f"/admin/invoices/{invoice_id}/payments/new"
    response = admin.post_form(page, {"amount": "0.00", "paid_on": dt.date.today().isoformat(), "method": "cash"})
    assert response.status_code == 200
    assert "This field is required" not in response.get_data(as_text=True)


def test_the_api_keeps_plain_decimals(api_app, keys):
    client = api_app.test_client()
    headers = {"Authorization": f"Bearer {keys['write']}"}
    response = client.post(
        "/api/v1/expenses", json={"title": "Laptop", "category": "Equipment", "amount": "1,200.00"}, headers=headers
    )
    assert response.status_code == 422
    with api_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Expense)) == 0
