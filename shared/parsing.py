"""Input parsing shared by the doors: strict, never through float."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

from shared.errors import ValidationFailed

LARGEST_NUMBER = Decimal(10) ** 15


def to_decimal(value: Any, field: str, *, places: int = 4) -> Decimal:
    """Parse a decimal string or int (or Decimal) with at most ``places`` decimals."""
    if isinstance(value, (bool, float)):
        raise ValidationFailed.one(field, 'must be a decimal string such as "12.50"')
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip().replace("_", "x"))
        except InvalidOperation:
            raise ValidationFailed.one(field, f"{value!r} is not a number") from None
    else:
        raise ValidationFailed.one(field, "must be a number")
    if not number.is_finite():
        raise ValidationFailed.one(field, "must be a finite number")
    # No amount, quantity or rate the domain accepts comes near this; refusing
    # here keeps later rounding inside Decimal's default 28-digit precision.
    if number.copy_abs() >= LARGEST_NUMBER:
        raise ValidationFailed.one(field, "must be less than 1,000,000,000,000,000")
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -places:
        # Trailing zeros beyond the limit are harmless: "1.50000" is 1.5.
        normalized = number.normalize()
        if normalized.as_tuple().exponent < -places:
            noun = "decimal" if places == 1 else "decimals"
            raise ValidationFailed.one(field, f"must have at most {places} {noun}")
        number = normalized
    return number


def to_date(value: Any, field: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValidationFailed.one(field, "must be a date in the form YYYY-MM-DD")


def clean_text(value: Any, field: str, *, max_length: int, required: bool = False) -> str:
    """Strip a text field and enforce its length; None becomes ''."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationFailed.one(field, "must be text")
    value = value.strip()
    if "\x00" in value:
        raise ValidationFailed.one(field, "must not contain NUL characters")
    if required and not value:
        raise ValidationFailed.one(field, "is required")
    if len(value) > max_length:
        raise ValidationFailed.one(field, f"must be at most {max_length} characters")
    return value


class FieldErrors:
    """Collects several field errors so a form shows them all at once."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    @contextlib.contextmanager
    def collect(self) -> Iterator[None]:
        try:
            yield
        except ValidationFailed as exc:
            for field, messages in exc.errors.items():
                for message in messages:
                    self.add(field, message)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)
