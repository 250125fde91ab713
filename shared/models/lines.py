"""The columns and checks every priced line shares: invoice and quote lines, credit-note items (SPEC §5.1, §16).

One home for what a line is, so the three tables cannot drift apart: the
description, the §5.1 inputs and results, the EN 16931 unit, VAT category and
exemption reason, and the database checks on them. Each table adds its own
parent key and position (and invoice and quote lines their discount).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from shared import money
from shared.models.enums import DEFAULT_UNIT, TAX_CATEGORIES, TaxCategory, one_of


class PricedLine:
    """Mixin: a line's description, figures and EN 16931 fields."""

    description: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[Decimal]
    unit_price: Mapped[Decimal]
    tax_rate: Mapped[Decimal]
    amount: Mapped[Decimal]
    tax: Mapped[Decimal]
    # SPEC §16: UN/ECE Rec. 20 unit, EN 16931 VAT category and, for E/AE/K/G, why no VAT is charged.
    unit: Mapped[str] = mapped_column(String(3), default=DEFAULT_UNIT, server_default=DEFAULT_UNIT)
    tax_category: Mapped[str] = mapped_column(
        String(2), default=TaxCategory.STANDARD.value, server_default=TaxCategory.STANDARD.value
    )
    tax_exemption_reason: Mapped[str] = mapped_column(String(300), default="", server_default="")

    @property
    def taxable(self) -> Decimal:
        """The taxable base: the amount less the line's share of the discount (credit-note items have none)."""
        return self.amount - getattr(self, "discount", 0)

    @classmethod
    def made_from(cls, items: list[dict[str, Any]], totals: money.Totals) -> list[Any]:
        """Checked items and their §5.1 figures (``totals.lines``) as new lines of this table, numbered from 1."""
        discounted = "discount" in cls.__table__.c
        return [
            cls(
                position=position,
                description=item["description"],
                quantity=item["quantity"],
                unit_price=item["unit_price"],
                tax_rate=item["tax_rate"],
                unit=item["unit"],
                tax_category=item["tax_category"],
                tax_exemption_reason=item["tax_exemption_reason"],
                amount=line.amount,
                tax=line.tax,
                **({"discount": line.discount} if discounted else {}),
            )
            for position, (item, line) in enumerate(zip(items, totals.lines, strict=True), start=1)
        ]


def line_checks(*, discounted: bool) -> tuple[CheckConstraint, ...]:
    """The database's checks on a priced line (new objects for each table); ``discounted`` lines also have one."""
    amounts = "amount >= 0 AND discount >= 0 AND tax >= 0" if discounted else "amount >= 0 AND tax >= 0"
    return (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price >= 0", name="unit_price_not_negative"),
        CheckConstraint("tax_rate >= 0", name="tax_rate_not_negative"),
        CheckConstraint(amounts, name="amounts_not_negative"),
        *([CheckConstraint("discount <= amount", name="discount_within_amount")] if discounted else []),
        CheckConstraint(one_of("tax_category", TAX_CATEGORIES), name="tax_category"),
    )


class PricedFigures:
    """Mixin: the figures a document reads from its stored priced lines (invoices, quotes, credit notes)."""

    @property
    def priced_lines(self) -> list[PricedLine]:
        return self.lines

    @property
    def tax_by_rate(self) -> tuple[money.RateTax, ...]:
        """The tax per distinct rate, from the stored line figures by SPEC §5.1's one calculation."""
        lines = self.priced_lines
        return money.taxes_by_rate(
            [line.taxable for line in lines],
            [line.tax_rate for line in lines],
            [line.tax for line in lines],
            self.currency,
            self.tax_rounding,
        )

    @property
    def shows_tax_by_rate(self) -> bool:
        """Whether documents break the tax line down by rate: only when there are several rates."""
        return len(self.tax_by_rate) > 1

    def amount(self, name: str) -> Decimal:
        """A stored amount quantized to the currency's exponent (``total``, ``applied``, ...)."""
        return money.round_money(getattr(self, name), self.currency)


class PricedDocument(PricedFigures):
    """Mixin for invoices and quotes: their figures, and who they bill."""

    @property
    def billed_to(self) -> dict:
        """Client details as they stand on the document (frozen once issued or sent)."""
        return self.client_snapshot or self.client.snapshot()
