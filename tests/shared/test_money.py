"""Tests for shared.money: SPEC §5.1 totals, rounding and currency exponents.

Expected values in the table below are worked by hand (see the comments), never
computed with the code under test.  Comparing ``str()`` of the results checks
both the value and that it carries exactly the currency's ``e`` decimals.
"""

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.money import (
    Discount,
    LineInput,
    LineTotals,
    Totals,
    UnknownCurrency,
    compute_totals,
    currency_exponent,
    format_amount,
    is_known_currency,
    quantum,
    round_money,
)

D = Decimal


def L(q: str, p: str, r: str = "0") -> LineInput:
    return LineInput(quantity=D(q), unit_price=D(p), tax_rate=D(r))


def pct(v: str) -> Discount:
    return Discount("percent", D(v))


def fixed(v: str) -> Discount:
    return Discount("fixed", D(v))


@dataclass
class Case:
    currency: str
    lines: list
    discount: Discount | None
    mode: str
    subtotal: str
    discount_total: str
    tax_total: str
    total: str
    line_discounts: tuple | None = None  # D_i
    line_taxes: tuple | None = None  # t_i


CASES = {
    # SPEC: a = 2*15000.00 = 30000.00; D = 10% = 3000.00; b = 27000.00;
    # t = 27000.00*7.5% = 2025.00; total = 30000.00 - 3000.00 + 2025.00 = 29025.00
    "spec_ngn_percent": Case(
        "NGN", [L("2", "15000.00", "7.5")], pct("10"), "line",
        "30000.00", "3000.00", "2025.00", "29025.00", ("3000.00",), ("2025.00",),
    ),
    # SPEC: S = 3.00, D = 10 minor units; 10*100/300 = 3 rem 100 on every line,
    # 1 unit missing, remainders tie -> line 0.  total = 3.00 - 0.10 = 2.90
    "spec_usd_fixed_allocation": Case(
        "USD", [L("1", "1.00")] * 3, fixed("0.10"), "line",
        "3.00", "0.10", "0.00", "2.90", ("0.04", "0.03", "0.03"), ("0.00", "0.00", "0.00"),
    ),
    # SPEC: each t = 0.10*5% = 0.005 -> 0.01, T = 0.03
    "spec_usd_tax_line": Case(
        "USD", [L("1", "0.10", "5")] * 3, None, "line",
        "0.30", "0.00", "0.03", "0.33", ("0.00", "0.00", "0.00"), ("0.01", "0.01", "0.01"),
    ),
    # SPEC: one rate, 0.30*5% = 0.015 -> 0.02; line taxes still shown as 0.01 each
    "spec_usd_tax_document": Case(
        "USD", [L("1", "0.10", "5")] * 3, None, "document",
        "0.30", "0.00", "0.02", "0.32", ("0.00", "0.00", "0.00"), ("0.01", "0.01", "0.01"),
    ),
    # SPEC: 1.5*333 = 499.5 -> 500 (half up); t = 50; total 550
    "spec_jpy": Case(
        "JPY", [L("1.5", "333", "10")], None, "line", "500", "0", "50", "550", ("0",), ("50",),
    ),
    # KWD e=3: 3*0.3335 = 1.0005 -> 1.001 (tie, up); t = 1.001*50% = 0.5005 -> 0.501;
    # total = 1.001 + 0.501 = 1.502
    "kwd_three_decimals_ties": Case(
        "KWD", [L("3", "0.3335", "50")], None, "line", "1.001", "0.000", "0.501", "1.502",
    ),
    # 0.005 -> 0.01 (half-even would give 0.00); 0.0049 -> 0.00
    "usd_half_up_tie": Case(
        "USD", [L("1", "0.005"), L("1", "0.0049")], None, "line", "0.01", "0.00", "0.00", "0.01",
    ),
    # 2.5 yen -> 3 (half-even would give 2)
    "jpy_half_up_tie": Case("JPY", [L("2.5", "1")], None, "line", "3", "0", "0", "3"),
    # a = 1.00, 2.00, 1.00; S = 400 units; D = 2 units: 200/400 = 0 r200, 400/400 = 1 r0,
    # 200/400 = 0 r200; 1 missing, lines 0 and 2 tie -> line 0 (lower position)
    "allocation_tie_lower_position_wins": Case(
        "USD", [L("1", "1.00"), L("1", "2.00"), L("1", "1.00")], fixed("0.02"), "line",
        "4.00", "0.02", "0.00", "3.98", ("0.01", "0.01", "0.00"),
    ),
    # a = 3.00, 1.00, 1.00; S = 500 units; D = 3 units: 900/500 = 1 r400, 300/500 = 0 r300 (x2);
    # 2 missing -> line 0 (r400), then lines 1 and 2 tie -> line 1.  b = 2.98, 0.99, 1.00;
    # t = 0.298 -> 0.30, 0.099 -> 0.10, 0.10; T = 0.50; total = 5.00 - 0.03 + 0.50 = 5.47
    "allocation_largest_remainder_then_position": Case(
        "USD", [L("1", "3.00", "10"), L("1", "1.00", "10"), L("1", "1.00", "10")], fixed("0.03"),
        "line", "5.00", "0.03", "0.50", "5.47", ("0.02", "0.01", "0.00"), ("0.30", "0.10", "0.10"),
    ),
    # a = 1.00, 2.00; D = 1 unit: 100/300 = 0 r100, 200/300 = 0 r200 -> line 1 (larger remainder)
    "allocation_larger_remainder_beats_position": Case(
        "USD", [L("1", "1.00"), L("1", "2.00")], fixed("0.01"), "line",
        "3.00", "0.01", "0.00", "2.99", ("0.00", "0.01"),
    ),
    # 0 %: D = 0.00; S = 20.00; t = 2.00; total 22.00
    "zero_percent_discount": Case(
        "USD", [L("2", "10.00", "10")], pct("0"), "line", "20.00", "0.00", "2.00", "22.00", ("0.00",),
    ),
    # 100 %: a = 19.99, 3*0.33 = 0.99; S = D = 20.98; every D_i = a_i exactly, b = 0, T = 0
    "hundred_percent_discount": Case(
        "USD", [L("1", "19.99", "20"), L("3", "0.33", "5")], pct("100"), "line",
        "20.98", "20.98", "0.00", "0.00", ("19.99", "0.99"), ("0.00", "0.00"),
    ),
    # a = 3000, 500; fixed 3500 = S -> D_i = a_i, nothing taxable, total 0
    "fixed_discount_equal_to_subtotal": Case(
        "JPY", [L("3", "1000", "10"), L("1", "500", "8")], fixed("3500"), "line",
        "3500", "3500", "0", "0", ("3000", "500"), ("0", "0"),
    ),
    # 500 lines of 0.01; D = 100 units; each 100*1/500 = 0 r100, all tie -> lines 0..99 get 0.01.
    # Line tax: b = 0.00 or 0.01, 0.01*10% = 0.001 -> 0.00 each, T = 0.00; total = 5.00 - 1.00
    "five_hundred_lines_line": Case(
        "USD", [L("1", "0.01", "10")] * 500, fixed("1.00"), "line",
        "5.00", "1.00", "0.00", "4.00", ("0.01",) * 100 + ("0.00",) * 400, ("0.00",) * 500,
    ),
    # Same in document mode: one rate, base 400*0.01 = 4.00 -> T = 0.40; total 4.40
    "five_hundred_lines_document": Case(
        "USD", [L("1", "0.01", "10")] * 500, fixed("1.00"), "document",
        "5.00", "1.00", "0.40", "4.40", ("0.01",) * 100 + ("0.00",) * 400,
    ),
    # a = 0.00, 1.00, 1.00; S = 200 units; D = 3 units: 0 r0, 300/200 = 1 r100 (x2);
    # 1 missing -> line 1 (tie with line 2); the zero-price line gets nothing.
    "zero_price_line_gets_no_discount": Case(
        "USD", [L("5", "0.00", "10"), L("1", "1.00"), L("1", "1.00")], fixed("0.03"), "line",
        "2.00", "0.03", "0.00", "1.97", ("0.00", "0.02", "0.01"),
    ),
    # S = 0: 50 % of 0 = 0.00, all D_i = 0.00
    "zero_subtotal_percent_discount": Case(
        "USD", [L("1", "0.00", "10")], pct("50"), "line", "0.00", "0.00", "0.00", "0.00", ("0.00",),
    ),
    # no lines at all: S = 0
    "no_lines": Case("KWD", [], pct("10"), "line", "0.000", "0.000", "0.000", "0.000", ()),
    # a = 10.01, 20.00, 29.90; S = 59.91; D = 7% = 4.1937 -> 4.19 = 419 units over 5991:
    #   419*1001 = 419419 = 70*5991 r49;  419*2000 = 838000 = 139*5991 r5251;
    #   419*2990 = 1252810 = 209*5991 r691;  418 given, 1 missing -> line 1 (r5251)
    # D_i = 0.70, 1.40, 2.09; b = 9.31, 18.60, 27.81
    # line: 9.31*5% = 0.4655 -> 0.47; 18.60*7.5% = 1.395 -> 1.40; 27.81*7.5% = 2.08575 -> 2.09;
    #       T = 3.96, total = 59.91 - 4.19 + 3.96 = 59.68
    "mixed_rates_line": Case(
        "USD", [L("1", "10.01", "5"), L("1", "20.00", "7.5"), L("1", "29.90", "7.5")], pct("7"),
        "line", "59.91", "4.19", "3.96", "59.68", ("0.70", "1.40", "2.09"), ("0.47", "1.40", "2.09"),
    ),
    # document: 5%: 9.31 -> 0.4655 -> 0.47; 7.5%: 46.41 -> 3.48075 -> 3.48; T = 3.95, total 59.67
    "mixed_rates_document": Case(
        "USD", [L("1", "10.01", "5"), L("1", "20.00", "7.5"), L("1", "29.90", "7.5")], pct("7"),
        "document", "59.91", "4.19", "3.95", "59.67", ("0.70", "1.40", "2.09"),
        ("0.47", "1.40", "2.09"),
    ),
    # 7.5 and 7.50 are the same rate: 0.30*7.5% = 0.0225 -> 0.02; plus 0.10*5% = 0.005 -> 0.01.
    # (Grouping by spelling would give 0.015 -> 0.02 and 0.0075 -> 0.01, T = 0.04.)
    "document_groups_rates_by_value": Case(
        "USD",
        [L("1", "0.10", "7.5"), L("1", "0.10", "7.5"), L("1", "0.10", "7.50"), L("1", "0.10", "5")],
        None, "document", "0.40", "0.00", "0.03", "0.43",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_hand_worked_totals(case: Case) -> None:
    t = compute_totals(case.lines, case.currency, case.discount, case.mode)
    assert t.currency == case.currency
    assert str(t.subtotal) == case.subtotal
    assert str(t.discount_total) == case.discount_total
    assert str(t.tax_total) == case.tax_total
    assert str(t.total) == case.total
    assert len(t.lines) == len(case.lines)
    if case.line_discounts is not None:
        assert tuple(str(li.discount) for li in t.lines) == case.line_discounts
    if case.line_taxes is not None:
        assert tuple(str(li.tax) for li in t.lines) == case.line_taxes


def test_spec_ngn_line_breakdown_and_balance() -> None:
    t = compute_totals([L("2", "15000.00", "7.5")], "NGN", pct("10"))
    assert t.lines == (LineTotals(D("30000.00"), D("3000.00"), D("27000.00"), D("2025.00")),)
    assert str(t.balance_due(D("10000"))) == "19025.00"
    assert str(t.balance_due(D("30000.00"))) == "-975.00"


def test_jpy_amounts_have_no_decimals() -> None:
    t = compute_totals([L("1.5", "333", "10")], "JPY")
    assert str(t.lines[0].amount) == "500"
    assert t.lines[0].amount.as_tuple().exponent == 0
    assert str(t.balance_due(D("0"))) == "550"


def test_totals_are_frozen() -> None:
    t = compute_totals([L("1", "1.00")], "USD")
    assert isinstance(t, Totals)
    with pytest.raises(AttributeError):
        t.total = D("0")  # type: ignore[misc]


# --- errors -----------------------------------------------------------------


@pytest.mark.parametrize(
    "currency, discount",
    [
        ("USD", fixed("1.01")),  # > S = 1.00
        ("USD", fixed("0.105")),  # 3 decimals for a 2-decimal currency
        ("JPY", fixed("0.5")),  # yen has no minor unit
        ("USD", fixed("-0.01")),
        ("USD", pct("100.01")),
        ("USD", pct("-1")),
        ("USD", Discount("amount", D("1"))),  # type: ignore[arg-type]
    ],
)
def test_bad_discount_raises(currency: str, discount: Discount) -> None:
    with pytest.raises(ValueError):
        compute_totals([L("1", "1")], currency, discount)


def test_fixed_discount_on_empty_invoice_raises() -> None:
    with pytest.raises(ValueError, match="exceeds"):
        compute_totals([], "USD", fixed("0.01"))


@pytest.mark.parametrize("code", ["XYZ", "usd", "Usd", "", "US", "USDX"])
def test_unknown_currency_raises(code: str) -> None:
    with pytest.raises(UnknownCurrency, match=f"unknown currency code '{code}'"):
        compute_totals([L("1", "1.00")], code)
    with pytest.raises(ValueError):  # UnknownCurrency is a ValueError
        currency_exponent(code)
    assert is_known_currency(code) is False


@pytest.mark.parametrize("mode", ["invoice", "LINE", ""])
def test_unknown_tax_rounding_mode_raises(mode: str) -> None:
    with pytest.raises(ValueError, match="tax rounding"):
        compute_totals([L("1", "1.00")], "USD", tax_rounding=mode)


def test_float_is_refused() -> None:
    with pytest.raises(TypeError):
        round_money(0.1, "USD")  # type: ignore[arg-type]


# --- helpers ----------------------------------------------------------------


@pytest.mark.parametrize("code, e", [("JPY", 0), ("KWD", 3), ("NGN", 2), ("USD", 2), ("EUR", 2), ("GHS", 2)])
def test_currency_exponent(code: str, e: int) -> None:
    assert currency_exponent(code) == e
    assert is_known_currency(code) is True


@pytest.mark.parametrize("code, q", [("USD", "0.01"), ("JPY", "1"), ("KWD", "0.001")])
def test_quantum(code: str, q: str) -> None:
    assert str(quantum(code)) == q


@pytest.mark.parametrize(
    "x, code, expected",
    [
        ("0.005", "USD", "0.01"),  # half up, not half even
        ("0.0049", "USD", "0.00"),
        ("0.0045", "USD", "0.00"),  # no double rounding via 0.005
        ("-0.005", "USD", "-0.01"),  # halves go away from zero
        ("-0.001", "USD", "0.00"),  # no negative zero
        ("2.5", "JPY", "3"),
        ("500.0", "JPY", "500"),
        ("0", "USD", "0.00"),
        ("1.0005", "KWD", "1.001"),
        ("7", "KWD", "7.000"),
    ],
)
def test_round_money(x: str, code: str, expected: str) -> None:
    assert str(round_money(D(x), code)) == expected


@pytest.mark.parametrize(
    "x, code, expected",
    [
        ("29025", "NGN", "29025.00"),
        ("549.5", "JPY", "550"),
        ("1.2345", "KWD", "1.235"),
        ("1E+3", "USD", "1000.00"),  # no exponent notation
        ("1234567.891", "USD", "1234567.89"),  # no grouping
        ("999999999999.995", "USD", "1000000000000.00"),
        ("-0.001", "EUR", "0.00"),
    ],
)
def test_format_amount(x: str, code: str, expected: str) -> None:
    assert format_amount(D(x), code) == expected


# --- properties -------------------------------------------------------------

CURRENCIES = ["NGN", "USD", "JPY", "KWD", "EUR"]


@st.composite
def fixed_point(draw, low: int, high: int, places: int = 4) -> Decimal:
    """A Decimal in [low, high] with 0..places decimals (low > 0 means strictly above 0)."""
    k = draw(st.integers(0, places))
    n = draw(st.integers(1 if low > 0 else 0, high * 10**k))
    return Decimal(n).scaleb(-k)


lines_st = st.lists(
    st.builds(
        LineInput,
        quantity=fixed_point(1, 10**6),
        unit_price=fixed_point(0, 10**9),
        tax_rate=fixed_point(0, 100),
    ),
    min_size=1,
    max_size=20,
)


@st.composite
def invoices(draw):
    currency = draw(st.sampled_from(CURRENCIES))
    lines = draw(lines_st)
    e = {"JPY": 0, "KWD": 3}.get(currency, 2)
    kind = draw(st.sampled_from(["none", "percent", "fixed"]))
    if kind == "none":
        discount = None
    elif kind == "percent":
        discount = Discount("percent", draw(fixed_point(0, 100)))
    else:
        # subtotal in minor units, worked independently of the module
        s_units = sum(
            int((li.quantity * li.unit_price * 10**e + D("0.5")).to_integral_value(rounding=ROUND_FLOOR))
            for li in lines
        )
        discount = Discount("fixed", Decimal(draw(st.integers(0, s_units))).scaleb(-e))
    return currency, e, lines, discount


@settings(max_examples=200, deadline=None)
@given(invoices())
def test_totals_properties(inv) -> None:
    currency, e, lines, discount = inv
    t = compute_totals(lines, currency, discount, "line")
    doc = compute_totals(lines, currency, discount, "document")
    unit = Decimal(1).scaleb(-e)

    assert sum(li.discount for li in t.lines) == t.discount_total
    assert t.total == t.subtotal - t.discount_total + t.tax_total
    assert doc.total == doc.subtotal - doc.discount_total + doc.tax_total
    assert t.subtotal == sum(li.amount for li in t.lines)
    assert t.tax_total == sum(li.tax for li in t.lines)
    assert abs(t.tax_total - doc.tax_total) <= len(lines) * unit
    assert doc.lines == t.lines and doc.subtotal == t.subtotal

    values = [
        t.subtotal,
        t.discount_total,
        t.tax_total,
        t.total,
        doc.tax_total,
        doc.total,
    ]
    for li, inp in zip(t.lines, lines, strict=False):
        values += [li.amount, li.discount, li.taxable, li.tax]
        assert li.discount <= li.amount
        assert li.taxable == li.amount - li.discount
        assert abs(li.amount - inp.quantity * inp.unit_price) <= unit / 2
        if t.subtotal:  # within one minor unit of the exact proportional share
            assert abs(t.discount_total * li.amount / t.subtotal - li.discount) < unit
    for v in values:
        assert v.as_tuple().exponent == -e, v
        assert v >= 0, v
