"""How amounts, quantities, rates and dates read on documents, e-mails and texts.

Amounts arrive already rounded by ``shared.money`` (``Invoice.amount(name)``);
Babel only adds the symbol and digit grouping, so a document can never show a
figure the books do not hold.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import phonenumbers
from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.numbers import (
    NumberPattern,
    format_decimal,
    get_currency_symbol,
    get_decimal_symbol,
    get_group_symbol,
    parse_pattern,
)

from shared import money

# Explicit directional formatting characters: embeddings, overrides and
# isolates (U+202A-U+202E, U+2066-U+2069). In user text they can turn the
# figures printed after them around ("‮00.005" shows as 500.00); the marks
# LRM, RLM and ALM only steer neutral characters and stay.
BIDI_CONTROLS = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def strip_bidi_controls(value):
    """``value`` without directional formatting characters (``Markup`` stays ``Markup``); other values as they are.

    Documents, e-mails, texts and pages print user text through this (as the
    templates' ``finalize``), so no name, description or note can reorder
    what follows it. Right-to-left letters themselves are untouched.
    """
    if isinstance(value, str) and not value.isascii():
        stripped = str.translate(value, BIDI_CONTROLS)
        return stripped if type(value) is str else type(value)(stripped)  # Markup stays Markup
    return value


LOCALE = "en"
DATE_PATTERN = "d MMM y"  # 9 Dec 2026: no day/month order to misread
NBSP = "\xa0"
# The display format's marks: what people copy from a page and type back into a form.
GROUP_SYMBOL = get_group_symbol(LOCALE)  # "," in 1,200.00
DECIMAL_SYMBOL = get_decimal_symbol(LOCALE)  # "."
_LOCALE = Locale.parse(LOCALE)
_NUMBER_PATTERN = parse_pattern("#,##0.00")  # the currency's own decimals still win (currency_digits)


def format_money(amount: Decimal, currency: str) -> str:
    """``$29,025.00``, ``€1,000.00``, ``NGN 29,025.00`` (letter codes get a no-break space).

    Babel's English pattern glues the symbol to the digits; that reads well for
    ``$`` but not for a three-letter code such as ``NGN``, so letter symbols get
    the space CLDR's currency-spacing rule asks for.
    """
    return _money_pattern(currency).apply(money.round_money(amount, currency), _LOCALE, currency=currency)


def _money_pattern(currency: str) -> NumberPattern:
    """Babel's pattern for ``currency``, parsed once (``format_currency`` parses it on every call)."""
    pattern = _MONEY_PATTERNS.get(currency)
    if pattern is None:
        symbol = get_currency_symbol(currency, locale=LOCALE)
        pattern = parse_pattern(f"¤{NBSP}#,##0.00") if symbol.isalpha() else _LOCALE.currency_formats["standard"]
        _MONEY_PATTERNS[currency] = pattern
    return pattern


_MONEY_PATTERNS: dict[str, NumberPattern] = {}


def format_money_code(amount: Decimal, currency: str) -> str:
    """``NGN 29,025.00`` with a plain space: ASCII only, for SMS (one GSM-7 segment)."""
    return f"{currency} {format_number(amount, currency)}"


def format_number(amount: Decimal, currency: str) -> str:
    """``350,000.00``: a line amount in a column whose currency the document states once."""
    return _NUMBER_PATTERN.apply(money.round_money(amount, currency), _LOCALE, currency=currency)


def format_unit_price(price: Decimal, currency: str) -> str:
    """A unit price: the currency's decimals at least, up to the four a price may carry."""
    places = money.currency_exponent(currency)
    pattern = "#,##0" + ("." + "0" * places + "#" * (4 - places) if places < 4 else ".0000")
    return format_decimal(price, format=pattern, locale=LOCALE, decimal_quantization=False)


def format_quantity(quantity: Decimal) -> str:
    """``2``, ``1.5``, ``1,000``: no trailing zeros from the four stored places."""
    return format_decimal(quantity, format="#,##0.####", locale=LOCALE)


def format_rate(rate: Decimal) -> str:
    """A tax rate in percent: ``7.5%``, ``0%``."""
    return format_decimal(rate, format="#,##0.####", locale=LOCALE) + "%"


def format_phone(value: str | None) -> str:
    """``+14155550199`` -> ``+1 415-555-0199``: a stored E.164 number as people read it.

    The international form, so the number works from any country; text that is
    not a number in E.164 (an old row, the company's free-text phone) is shown as it is.
    """
    text = value or ""
    if not text.startswith("+"):
        return text
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return text
    if phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) != text:
        return text
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def format_date(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.date()
    return babel_format_date(value, DATE_PATTERN, locale=LOCALE)


def format_iban(iban: str) -> str:
    """A stored (compact) IBAN as people read it: ``DE89 3704 0044 0532 0130 00``."""
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def method_label(method: str) -> str:
    """``bank_transfer`` -> ``Bank transfer``."""
    return method.replace("_", " ").capitalize()
