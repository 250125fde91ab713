"""Exact money arithmetic and the invoice totals calculation (SPEC §5, §5.1).

An invoice's numbers appear in the admin UI, the PDF, the e-mail, the API and
the reports, and they must agree to the last minor unit everywhere.  So the
totals formula exists exactly once, here, and every caller uses
``compute_totals`` instead of adding numbers up itself.

Money is ``decimal.Decimal`` end to end, never float: binary floats cannot hold
0.10 exactly and their errors surface as totals that are a cent off.  Each
currency's minor-unit exponent ``e`` comes from Babel's maintained ISO 4217
data rather than a hand-typed table.  Every amount returned here carries exactly
``e`` decimal places (``Decimal('500')`` for JPY, ``Decimal('0.00')`` for USD)
so that its string form is the same wherever it is shown or stored.

Input bounds (line count, quantity, price and rate ranges) are the services'
job; this module checks only what the formula itself needs: the currency, the
discount and the tax rounding mode.
"""

from __future__ import annotations

import decimal
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Literal

from babel.numbers import get_currency_precision, is_currency

# SPEC §5: commercial rounding, halves away from zero (not banker's rounding).
ROUND = ROUND_HALF_UP
TAX_ROUNDING_MODES = ("line", "document")

# q (<= 1e6, 4 dp) * p (<= 1e9, 4 dp) needs at most 23 digits; 50 leaves ample
# room so no product or sum below is ever rounded by the context itself.
_PRECISION = 50


class UnknownCurrency(ValueError):
    """Not an uppercase ISO 4217 code that Babel knows."""

    def __init__(self, currency: object) -> None:
        super().__init__(f"unknown currency code {currency!r}")
        self.currency = currency


@lru_cache(maxsize=512)  # ISO 4217 has about 300 codes
def currency_exponent(currency: str) -> int:
    """Number of minor-unit decimals of ``currency`` (USD 2, JPY 0, KWD 3)."""
    # Babel's lookup is case-sensitive today; the explicit check keeps 'usd'
    # rejected even if that changes, so stored codes stay canonical.
    if not isinstance(currency, str) or not currency.isupper() or not is_currency(currency):
        raise UnknownCurrency(currency)
    return get_currency_precision(currency)


# ISO 4217 codes that are not money (SPEC §5): no currency, the test code,
# precious metals, bond-market and settlement units, and fund codes. Refused
# on input by both doors; currency_exponent still knows them, so a document
# stored in one before this rule still shows.
NOT_MONEY = frozenset(
    {"XXX", "XTS"}  # ISO 4217 "no currency" (XXX) and the test code (XTS), named in SPEC §5
    | {"XAU", "XAG", "XPT", "XPD"}  # gold, silver, platinum, palladium
    | {"XBA", "XBB", "XBC", "XBD", "XDR", "XSU", "XUA"}  # bond-market units, SDR, SUCRE, ADB unit
    | {"BOV", "CHE", "CHW", "CLF", "COU", "MXV", "USN", "USS", "UYI", "UYW"}  # funds
)


def is_known_currency(currency: str) -> bool:
    """Whether ``currency`` is accepted as the money of an invoice, payment, expense or client."""
    if currency in NOT_MONEY:
        return False
    try:
        currency_exponent(currency)
    except UnknownCurrency:
        return False
    return True


def quantum(currency: str) -> Decimal:
    """The minor unit as a Decimal: USD -> 0.01, JPY -> 1, KWD -> 0.001."""
    return Decimal(1).scaleb(-currency_exponent(currency))


def to_minor_units(amount: Decimal, currency: str) -> int:
    """An exact amount as a whole number of minor units by the ISO exponent: USD 12.34 -> 1234, JPY 550 -> 550, KWD 1.230 -> 1230.

    Refuses an amount with more decimals than the currency has: a payment
    provider charging it would charge a different sum.
    """
    if isinstance(amount, float) or not isinstance(amount, (Decimal, int)):
        raise TypeError(f"money must be Decimal, not {type(amount).__name__}")
    e = currency_exponent(currency)
    units = Decimal(amount).scaleb(e)
    if units != units.to_integral_value():
        raise ValueError(f"{amount} has more than {e} decimals in {currency}")
    return int(units)


def stripe_can_charge(amount: Decimal, currency: str) -> bool:
    """Whether Stripe can charge ``amount``: more than 0, and in a 3-decimal currency a whole number of tens.

    Stripe charges KWD, BHD, JOD (exponent 3) only in amounts whose last minor
    unit is 0 (12.340, not 12.345); anything else is left to a bank transfer.
    """
    if amount <= 0:
        return False
    return currency_exponent(currency) != 3 or to_minor_units(amount, currency) % 10 == 0


def from_minor_units(units: int, currency: str) -> Decimal:
    """The inverse of :func:`to_minor_units`: 1234 USD cents -> Decimal('12.34'), with exactly e decimals."""
    if isinstance(units, bool) or not isinstance(units, int):
        raise TypeError(f"minor units must be an int, not {type(units).__name__}")
    return round_money(Decimal(units).scaleb(-currency_exponent(currency)), currency)


def _round(x: Decimal, unit: Decimal) -> Decimal:
    if isinstance(x, float) or not isinstance(x, (Decimal, int)):
        raise TypeError(f"money must be Decimal, not {type(x).__name__}")
    x = Decimal(x)
    if not x.is_finite():
        raise ValueError(f"money must be a finite number, not {x}")
    with decimal.localcontext(prec=_PRECISION):
        r = x.quantize(unit, rounding=ROUND)
    # A tiny negative rounds to -0.00; documents should never show that.
    return r.copy_abs() if r.is_zero() else r


def round_money(x: Decimal, currency: str) -> Decimal:
    """Round half-up to the currency's minor unit; the result has exactly e decimals."""
    return _round(x, quantum(currency))


def format_amount(x: Decimal, currency: str) -> str:
    """Plain machine-readable amount: '29025.00', '550', '1.235' (no grouping, no symbol)."""
    return format(round_money(x, currency), "f")


@dataclass(frozen=True)
class LineInput:
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal  # percent, e.g. Decimal('7.5')


@dataclass(frozen=True)
class Discount:
    kind: Literal["percent", "fixed"]
    value: Decimal


@dataclass(frozen=True)
class LineTotals:
    amount: Decimal  # a_i
    discount: Decimal  # D_i, this line's share of the invoice discount
    taxable: Decimal  # b_i = a_i - D_i
    tax: Decimal  # t_i = round(b_i * r_i / 100)


@dataclass(frozen=True)
class RateTax:
    """The tax at one rate: what an invoice shows as "Tax 7.5%: X" when it has several rates."""

    rate: Decimal  # percent, e.g. Decimal('7.5')
    taxable: Decimal  # the sum of b_i of the lines at this rate
    tax: Decimal  # this rate's share of T


@dataclass(frozen=True)
class Totals:
    currency: str
    lines: tuple[LineTotals, ...]
    subtotal: Decimal  # S
    discount_total: Decimal  # D
    tax_total: Decimal  # T, the sum of tax_by_rate
    total: Decimal  # S - D + T
    tax_by_rate: tuple[RateTax, ...] = ()  # one per distinct rate, lowest rate first

    def balance_due(self, amount_paid: Decimal) -> Decimal:
        """``total - amount_paid`` in the invoice currency (negative if overpaid)."""
        with decimal.localcontext(prec=_PRECISION):
            return round_money(self.total - amount_paid, self.currency)


def _discount_amount(discount: Discount | None, subtotal: Decimal, unit: Decimal) -> Decimal:
    if discount is None:
        return _round(Decimal(0), unit)
    value = discount.value
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValueError(f"discount value must be a finite Decimal, not {value!r}")
    if discount.kind == "percent":
        if not 0 <= value <= 100:
            raise ValueError(f"percent discount must be between 0 and 100, not {value}")
        return _round(subtotal * value / 100, unit)
    if discount.kind == "fixed":
        if value < 0:
            raise ValueError(f"fixed discount must not be negative, not {value}")
        if value != value.quantize(unit):
            raise ValueError(f"fixed discount {value} has more decimals than the currency ({unit})")
        if value > subtotal:
            raise ValueError(f"fixed discount {value} exceeds the subtotal {subtotal}")
        return _round(value, unit)
    raise ValueError(f"unknown discount kind {discount.kind!r}")


def _allocate(total: Decimal, amounts: list[Decimal], e: int) -> list[Decimal]:
    """Split ``total`` over ``amounts`` in proportion, by largest remainder (§5.1 step 3)."""
    # Worked in integer minor units so truncation and remainders are exact,
    # independent of any decimal context.
    units = [int(a.scaleb(e)) for a in amounts]
    whole, to_share = sum(units), int(total.scaleb(e))
    if whole == 0:
        return [Decimal(0).scaleb(-e) for _ in units]
    shares, remainders = [], []
    for u in units:
        share, remainder = divmod(to_share * u, whole)
        shares.append(share)
        remainders.append(remainder)
    # sorted() is stable, so equal remainders keep line order: lower position wins.
    by_remainder = sorted(range(len(units)), key=lambda i: -remainders[i])
    for i in by_remainder[: to_share - sum(shares)]:
        shares[i] += 1
    return [Decimal(s).scaleb(-e) for s in shares]


def taxes_by_rate(
    taxable: Sequence[Decimal],
    rates: Sequence[Decimal],
    line_taxes: Sequence[Decimal],
    currency: str,
    tax_rounding: str = "line",
) -> tuple[RateTax, ...]:
    """SPEC §5.1's tax, per distinct rate (rates compare by value: 7.5 and 7.50 are one rate).

    ``taxable`` are the lines' b_i, ``line_taxes`` their rounded t_i. With
    ``'line'`` rounding a rate's tax is the sum of its lines' t_i; with
    ``'document'`` it is rounded once over the rate's summed b_i. Either way the
    figures add up to T: ``compute_totals`` takes T from here, and a stored
    invoice's breakdown (``Invoice.tax_by_rate``) comes from here too, from its
    stored line figures, so no door ever adds taxes up itself.
    """
    if tax_rounding not in TAX_ROUNDING_MODES:
        raise ValueError(f"unknown tax rounding mode {tax_rounding!r}; expected one of {TAX_ROUNDING_MODES}")
    unit = quantum(currency)
    bases: dict[Decimal, Decimal] = {}
    taxes: dict[Decimal, Decimal] = {}
    with decimal.localcontext(prec=_PRECISION):
        for b, r, t in zip(taxable, rates, line_taxes, strict=True):
            bases[r] = bases.get(r, Decimal(0)) + b
            taxes[r] = taxes.get(r, Decimal(0)) + t
        return tuple(
            RateTax(
                rate=r,
                taxable=_round(bases[r], unit),
                tax=_round(taxes[r] if tax_rounding == "line" else r / 100 * bases[r], unit),
            )
            for r in sorted(bases)
        )


@dataclass(frozen=True)
class CategoryTax:
    """The tax of one VAT category at one rate: a line of an e-invoice's VAT breakdown (SPEC §16, EN 16931 BG-23)."""

    category: str  # S, Z, E, AE, K, G
    rate: Decimal
    taxable: Decimal
    tax: Decimal


def taxes_by_category(
    taxable: Sequence[Decimal],
    rates: Sequence[Decimal],
    categories: Sequence[str],
    line_taxes: Sequence[Decimal],
    currency: str,
    tax_rounding: str = "line",
) -> tuple[CategoryTax, ...]:
    """:func:`taxes_by_rate` split by VAT category as well (categories first, then rates).

    Each category's figures come from ``taxes_by_rate`` over its own lines; a
    rate above 0 belongs to category ``S`` only, so a rate's tax is the same as
    in ``taxes_by_rate`` and the figures still add up to T in either rounding mode.
    """
    groups: dict[str, list[int]] = {}
    for index, category in enumerate(categories):
        groups.setdefault(category, []).append(index)
    out: list[CategoryTax] = []
    for category in sorted(groups):
        rows = groups[category]
        for rate_tax in taxes_by_rate(
            [taxable[i] for i in rows],
            [rates[i] for i in rows],
            [line_taxes[i] for i in rows],
            currency,
            tax_rounding,
        ):
            out.append(CategoryTax(category, rate_tax.rate, rate_tax.taxable, rate_tax.tax))
    return tuple(out)


def compute_totals(
    lines: Sequence[LineInput],
    currency: str,
    discount: Discount | None = None,
    tax_rounding: str = "line",
) -> Totals:
    """Apply SPEC §5.1 to ``lines`` and return every figure an invoice shows.

    ``tax_rounding='line'`` (the default) rounds each line's tax and sums them.
    ``'document'`` rounds once per distinct tax rate, over the summed taxable
    bases of the lines at that rate (rates compare by value, so 7.5 and 7.50
    are one rate).  In document mode each ``LineTotals.tax`` is still that
    line's own rounded tax, for display only; ``tax_total`` is the per-rate sum
    and may differ from the sum of the line figures by a few minor units.

    Raises ``UnknownCurrency`` (a ``ValueError``) for a bad currency code and
    ``ValueError`` for an invalid discount or tax rounding mode.
    """
    e = currency_exponent(currency)
    unit = quantum(currency)
    if tax_rounding not in TAX_ROUNDING_MODES:
        raise ValueError(f"unknown tax rounding mode {tax_rounding!r}; expected one of {TAX_ROUNDING_MODES}")
    lines = tuple(lines)
    with decimal.localcontext(prec=_PRECISION):
        amounts = [_round(li.quantity * li.unit_price, unit) for li in lines]
        subtotal = _round(sum(amounts, Decimal(0)), unit)
        discount_total = _discount_amount(discount, subtotal, unit)
        shares = _allocate(discount_total, amounts, e)
        bases = [a - d for a, d in zip(amounts, shares, strict=False)]
        taxes = [_round(b * li.tax_rate / 100, unit) for b, li in zip(bases, lines, strict=False)]
        by_rate = taxes_by_rate(bases, [li.tax_rate for li in lines], taxes, currency, tax_rounding)
        tax_total = sum((r.tax for r in by_rate), Decimal(0))
        total = subtotal - discount_total + tax_total
    return Totals(
        currency=currency,
        lines=tuple(
            LineTotals(*(_round(v, unit) for v in row)) for row in zip(amounts, shares, bases, taxes, strict=False)
        ),
        subtotal=subtotal,
        discount_total=discount_total,
        tax_total=_round(tax_total, unit),
        total=_round(total, unit),
        tax_by_rate=by_rate,
    )
