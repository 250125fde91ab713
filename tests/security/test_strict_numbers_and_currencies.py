"""Issue 12 item 14: inputs that were silently normalised.

Full-width (``１０``) and Arabic-Indic (``١٠``) digits were accepted as
numbers, ``-0`` was kept as ``-0.00``, and the API took the currency codes
``XXX``/``XTS`` (and metals and funds) that the admin never offers. SPEC §5:
numbers take ASCII digits only; codes that are not money are refused by both
doors alike. The rules live in ``shared.parsing.to_decimal``,
``shared.services.settings`` and ``shared.money.is_known_currency``.
"""

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from shared.db import db
from shared.errors import ValidationFailed
from shared.inputs import SettingsChanges
from shared.models import Client, Expense
from shared.money import NOT_MONEY, is_known_currency
from shared.parsing import to_decimal, to_whole
from shared.services import Actor
from shared.services.settings import update_settings

# SQLite only: numbers and currency codes are parsed and refused in Python, before any SQL.
pytestmark = pytest.mark.backends("sqlite")

ODD_NUMBERS = ["１０", "١٠", "۱۰", "१०", "10²", "1_000", "1e3", "1E+2", "0x10", " ", "+", "-", ".", "1.2.3", "∞", "NaN"]


@pytest.mark.parametrize("raw", ODD_NUMBERS)
def test_numbers_take_ascii_digits_only(raw):
    with pytest.raises(ValidationFailed) as refused:
        to_decimal(raw, "quantity")
    assert list(refused.value.errors) == ["quantity"]


@pytest.mark.parametrize("raw", ["10", "10.50", "-3", "+3", ".5", "5.", " 7.25 ", "0.0001"])
def test_plain_ascii_decimals_are_numbers(raw):
    assert to_decimal(raw, "quantity") == Decimal(raw.strip())


@pytest.mark.parametrize("raw", ["-0", "-0.00", "-.0", "+0", Decimal("-0.00"), Decimal("-0")])
def test_minus_zero_is_zero(raw):
    number = to_decimal(raw, "tax_rate")
    assert number == 0
    assert not number.is_signed()
    assert "-" not in str(number)


@pytest.mark.parametrize("raw", ["١٢", "１２", "1_2", "12.0", " ", "²"])
def test_whole_numbers_take_ascii_digits_only(raw):
    with pytest.raises(ValidationFailed):
        to_whole(raw, "payment_terms_days", 0, 365)


def test_whole_numbers_in_range_are_accepted():
    assert to_whole(" 30 ", "payment_terms_days", 0, 365) == 30
    assert to_whole("-3", "reminder_offsets", -365, 365) == -3
    assert to_whole(7, "reminder_max", 0, 20) == 7


@pytest.mark.parametrize("code", ["XXX", "XTS", "XAU", "XAG", "XPT", "XPD", "XDR", "XBA", "XSU", "XUA", "CHE", "BOV"])
def test_codes_that_are_not_money_are_refused(code):
    assert code in NOT_MONEY
    assert is_known_currency(code) is False


@pytest.mark.parametrize("code", ["XOF", "XAF", "XCD", "XPF", "USD", "NGN", "JPY", "CHF"])
def test_money_codes_starting_with_x_or_like_funds_are_still_money(code):
    assert is_known_currency(code) is True


def test_api_and_admin_refuse_the_same_non_money_currencies(api_app, keys, admin, admin_app):
    client = api_app.test_client()
    auth = {"Authorization": f"Bearer {keys['write']}"}
    for code in ("XXX", "XTS", "XAU", "XDR"):
        response = client.post("/api/v1/clients", json={"name": "Ada", "default_currency": code}, headers=auth)
        assert response.status_code == 422, code
        assert "default_currency" in response.get_json()["errors"]
        expense = {"title": "Gold", "category": "Metal", "amount": "1.00", "currency": code}
        response = client.post("/api/v1/expenses", json=expense, headers=auth)
        assert response.status_code == 422, code
        assert "currency" in response.get_json()["errors"]
        response = admin.post_form("/admin/clients/new", {"name": "Ada", "default_currency": code})
        assert response.status_code == 200, code
    assert admin.post_form("/admin/settings", {"default_currency": "XXX"}).status_code == 200
    with api_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Client)) == 0
        assert db.session.scalar(select(func.count()).select_from(Expense)) == 0


def test_odd_digits_and_minus_zero_through_the_doors(api_app, keys, admin, admin_app):
    client = api_app.test_client()
    auth = {"Authorization": f"Bearer {keys['write']}"}
    for amount in ("１０.00", "١٠.00"):
        expense = {"title": "Toner", "category": "Supplies", "amount": amount}
        response = client.post("/api/v1/expenses", json=expense, headers=auth)
        assert response.status_code == 422, amount
        assert "amount" in response.get_json()["errors"]
    body = {
        "client": {"name": "Ada", "email": "ada@example.com"},
        "currency": "USD",
        "issue": False,
        "items": [{"description": "Work", "quantity": "1", "unit_price": "-0", "tax_rate": "-0.00"}],
    }
    response = client.post("/api/v1/invoices", json=body, headers=auth)
    assert response.status_code == 201, response.get_data(as_text=True)
    item = response.get_json()["items"][0]
    assert not item["unit_price"].startswith("-") and not item["tax_rate"].startswith("-"), item
    with admin_app.app_context():
        for name, raw in [("payment_terms_days", "٣٠"), ("reminder_max", "３"), ("reminder_offsets", "-3, ٠, 3")]:
            with pytest.raises(ValidationFailed) as refused:
                update_settings(db.session, actor=Actor.system("tests"), data=SettingsChanges.from_mapping({name: raw}))
            assert list(refused.value.errors) == [name]
