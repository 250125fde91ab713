"""SPEC §14 settings: STRIPE_* checked at start-up like every SPEC §3 setting; amounts in minor units by the ISO exponent."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shared import money
from shared.config import ConfigError, load_config, online_payment_enabled
from support.stripe_stub import STRIPE_TEST_KEY, WEBHOOK_SECRET


def test_stripe_is_off_by_default(tmp_path):
    config = load_config({}, folder=tmp_path)
    assert (config["STRIPE_SECRET_KEY"], config["STRIPE_WEBHOOK_SECRET"], config["STRIPE_API_BASE"]) == ("", "", "")
    assert not online_payment_enabled(config)


def test_a_key_and_its_webhook_secret_turn_online_payment_on(tmp_path):
    config = load_config(
        {
            "STRIPE_SECRET_KEY": STRIPE_TEST_KEY,
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STRIPE_API_BASE": "http://127.0.0.1:12111/",
        },
        folder=tmp_path,
    )
    assert online_payment_enabled(config)
    assert config["STRIPE_API_BASE"] == "http://127.0.0.1:12111"


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"STRIPE_SECRET_KEY": "pk_test_123", "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET}, "STRIPE_SECRET_KEY"),
        ({"STRIPE_SECRET_KEY": "sk_test 123", "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET}, "STRIPE_SECRET_KEY"),
        ({"STRIPE_SECRET_KEY": STRIPE_TEST_KEY}, "STRIPE_WEBHOOK_SECRET"),
        ({"STRIPE_SECRET_KEY": STRIPE_TEST_KEY, "STRIPE_WEBHOOK_SECRET": "secret"}, "STRIPE_WEBHOOK_SECRET"),
        ({"STRIPE_API_BASE": "api.stripe.com"}, "STRIPE_API_BASE"),
        ({"STRIPE_API_BASE": "ftp://api.stripe.com"}, "STRIPE_API_BASE"),
    ],
)
def test_a_malformed_stripe_setting_stops_start_up_with_one_line_naming_it(tmp_path, settings, named):
    with pytest.raises(ConfigError) as refused:
        load_config(settings, folder=tmp_path)
    message = str(refused.value)
    assert message.startswith(named) and "\n" not in message


@pytest.mark.parametrize(
    ("amount", "currency", "units"),
    [("12.34", "USD", 1234), ("550", "JPY", 550), ("12.340", "KWD", 12340), ("0.005", "BHD", 5), ("7", "EUR", 700)],
)
def test_minor_units_follow_the_iso_exponent_both_ways(amount, currency, units):
    assert money.to_minor_units(Decimal(amount), currency) == units
    assert money.from_minor_units(units, currency) == Decimal(amount)
    assert str(money.from_minor_units(units, currency)) == money.format_amount(Decimal(amount), currency)


def test_an_amount_finer_than_the_currency_has_no_minor_units():
    with pytest.raises(ValueError):
        money.to_minor_units(Decimal("1.005"), "USD")
    with pytest.raises(ValueError):
        money.to_minor_units(Decimal("0.5"), "JPY")


@pytest.mark.parametrize(
    ("amount", "currency", "chargeable"),
    [
        ("12.340", "KWD", True),
        ("12.345", "KWD", False),
        ("0.010", "JOD", True),
        ("1.001", "BHD", False),
        ("12.35", "USD", True),
        ("1", "JPY", True),
        ("0.00", "USD", False),
    ],
)
def test_stripe_charges_three_decimal_currencies_only_in_tens(amount, currency, chargeable):
    assert money.stripe_can_charge(Decimal(amount), currency) is chargeable
