"""Input parsing shared by the doors: strict, never through float."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from shared.errors import ValidationFailed

LARGEST_NUMBER = Decimal(10) ** 15
# SPEC §5: dates are YYYY-MM-DD, strictly, in this range. Python's fromisoformat
# alone also takes 20260101 and 2026-W01-1, and 9999-12-31 plus payment terms
# overflows Python's dates.
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2999, 12, 31)
DATE_RANGE_MESSAGE = f"must be between {EARLIEST_DATE.isoformat()} and {LATEST_DATE.isoformat()}"
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# SPEC §5: numbers take ASCII digits only (Decimal() and int() also take "１０",
# "١٠", "1_000" and "1e3"); a sign, digits and at most one decimal point.
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_WHOLE = re.compile(r"[+-]?[0-9]{1,18}")
# PostgreSQL text cannot hold NUL: every door refuses it before a query sees it.
NUL_MESSAGE = "must not contain NUL characters"


def to_decimal(value: Any, field: str, *, places: int = 4) -> Decimal:
    """Parse a decimal string or int (or Decimal) with at most ``places`` decimals."""
    if isinstance(value, (bool, float)):
        raise ValidationFailed.one(field, 'must be a decimal string such as "12.50"')
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, str):
        if not _DECIMAL.fullmatch(value.strip()):
            raise ValidationFailed.one(field, f"{value!r} is not a number (digits 0-9, such as 12.50)")
        number = Decimal(value.strip())
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
    # -0 and -0.00 are zero: never stored or shown with a sign.
    return number.copy_abs() if number.is_zero() else number


def to_grouped_decimal(value: Any, field: str, *, group: str, point: str = ".", places: int = 4) -> Decimal:
    """An amount typed the way the app shows it (``1,200.00``), for the admin forms; the API keeps plain decimals.

    ``group`` and ``point`` are the display format's thousands separator and
    decimal mark. Groups must sit where the display puts them (``1,200`` and
    ``12,345,678.50``, not ``1,2,3`` or ``1,20.00``); the separator is then
    dropped and the rest goes through :func:`to_decimal`, so ASCII digits only.
    """
    if not isinstance(value, str):
        return to_decimal(value, field, places=places)
    text = value.strip()
    whole, _, fraction = text.partition(point)
    if group in text:
        digits = whole.lstrip("+-")
        chunks = digits.split(group)
        placed = 1 <= len(chunks[0]) <= 3 and all(len(chunk) == 3 for chunk in chunks[1:])
        if not placed or group in fraction or not all(chunk.isascii() and chunk.isdigit() for chunk in chunks):
            raise ValidationFailed.one(
                field,
                f"“{text}” has a thousands separator ({group}) in the wrong place: "
                f"type it like 1{group}200{point}00 or 1200{point}00",
            )
        text = text.replace(group, "")
    if point != ".":
        text = text.replace(point, ".")
    return to_decimal(text, field, places=places)


def to_whole(value: Any, field: str, low: int, high: int) -> int:
    """A whole number from ASCII digits (or an int), between ``low`` and ``high``."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValidationFailed.one(field, "must be a whole number")
    if isinstance(value, str):
        if not _WHOLE.fullmatch(value.strip()):
            raise ValidationFailed.one(field, "must be a whole number (digits 0-9)")
        value = int(value.strip())
    if not low <= value <= high:
        raise ValidationFailed.one(field, f"must be between {low} and {high}")
    return value


def to_date(value: Any, field: str) -> dt.date:
    """A date from ``YYYY-MM-DD`` (ASCII digits, nothing else) or a date object, within the range of SPEC §5."""
    date = None
    if isinstance(value, dt.datetime):
        date = value.date()
    elif isinstance(value, dt.date):
        date = value
    elif isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        with contextlib.suppress(ValueError):  # 2026-02-30
            date = dt.date.fromisoformat(value.strip())
    if date is None:
        raise ValidationFailed.one(field, "must be a date in the form YYYY-MM-DD")
    if not EARLIEST_DATE <= date <= LATEST_DATE:
        raise ValidationFailed.one(field, DATE_RANGE_MESSAGE)
    return date


def paths_with_nul(value: Any) -> list[str]:
    """Dotted paths (``items.0.description``) of the strings and keys in ``value`` that contain NUL.

    Walks nested dicts and lists without recursion; a key's own NUL is shown
    as ``\\u0000`` so the path can be reported without carrying the NUL on.
    """
    found: list[str] = []
    pending: list[tuple[str, Any]] = [("", value)]
    while pending:
        path, node = pending.pop()
        if isinstance(node, str):
            if "\x00" in node:
                found.append(path or "body")
        elif isinstance(node, dict):
            for key, child in node.items():
                name = str(key).replace("\x00", "\\u0000")
                child_path = f"{path}.{name}" if path else name
                if "\x00" in str(key):
                    found.append(child_path)
                else:
                    pending.append((child_path, child))
        elif isinstance(node, list):
            pending.extend((f"{path}.{index}" if path else str(index), child) for index, child in enumerate(node))
    return sorted(found)


def refuse_nul(value: Any) -> None:
    """Raise ``ValidationFailed`` naming every string or key in ``value`` that contains NUL."""
    paths = paths_with_nul(value)
    if paths:
        raise ValidationFailed({path: [NUL_MESSAGE] for path in paths})


def clean_text(value: Any, field: str, *, max_length: int, required: bool = False) -> str:
    """Strip a text field and enforce its length; None becomes ''."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationFailed.one(field, "must be text")
    value = value.strip()
    if "\x00" in value:
        raise ValidationFailed.one(field, NUL_MESSAGE)
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
