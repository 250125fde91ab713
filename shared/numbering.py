"""Gapless document numbers per series and year (SPEC §5.2).

The counter row is created or incremented with one upsert
(``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``) inside the caller's
transaction. On Postgres the upsert takes a row lock that other
issuers wait on until we commit or roll back; on SQLite the transaction
already holds the single write lock (BEGIN IMMEDIATE). Either way a rollback
returns the number, so the sequence never skips and never repeats.
"""

from __future__ import annotations

import string

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shared.errors import ValidationFailed
from shared.models import NumberCounter

SERIES = ("invoice", "receipt")
_ALLOWED_FIELDS = {"year", "seq"}


def check_number_format(fmt: str, field: str = "number_format") -> str:
    """Refuse a format that could not produce unique, readable numbers."""
    fmt = (fmt or "").strip()
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(fmt) if name is not None]
    except ValueError as exc:
        raise ValidationFailed.one(field, f"is not a valid format: {exc}") from None
    unknown = set(fields) - _ALLOWED_FIELDS
    if unknown:
        raise ValidationFailed.one(field, f"may only use {{year}} and {{seq}}, not {{{sorted(unknown)[0]}}}")
    if "seq" not in fields:
        raise ValidationFailed.one(field, "must contain {seq} so every number is unique")
    if "year" not in fields:
        raise ValidationFailed.one(field, "must contain {year}: numbering restarts every year")
    try:
        sample = fmt.format(year=2026, seq=1)
    except (ValueError, KeyError, IndexError) as exc:
        raise ValidationFailed.one(field, f"is not a valid format: {exc}") from None
    if not 1 <= len(sample) <= 40:
        raise ValidationFailed.one(field, "must give numbers of 1 to 40 characters")
    return fmt


def next_number(session: Session, series: str, year: int, fmt: str) -> str:
    """Take the next number of ``series`` for ``year`` in the current transaction."""
    return take_numbers(session, series, year, fmt, 1)[0]


def take_numbers(session: Session, series: str, year: int, fmt: str, count: int) -> list[str]:
    """Take the next ``count`` numbers of ``series`` for ``year`` at once (bulk loading).

    One upsert (``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``) creates the
    year's counter or moves it by ``count``, holding the counter's row lock
    until the caller's transaction ends, so the block is gapless and no other
    issuer can take a number inside it.
    """
    if series not in SERIES:
        raise ValueError(f"unknown number series {series!r}")
    if count <= 0:
        return []
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(NumberCounter).values(series=series, year=year, last_value=count)
    last = session.execute(
        statement.on_conflict_do_update(
            index_elements=["series", "year"], set_={"last_value": NumberCounter.last_value + count}
        ).returning(NumberCounter.last_value)
    ).scalar_one()
    return [fmt.format(year=year, seq=seq) for seq in range(last - count + 1, last + 1)]


def peek_number(session: Session, series: str, year: int, fmt: str) -> str:
    """The number the next issue would take now, without taking it (for previews only).

    Another issuer may take it first; the number is only final once issued.
    """
    from sqlalchemy import select

    last = session.execute(
        select(NumberCounter.last_value).where(NumberCounter.series == series, NumberCounter.year == year)
    ).scalar()
    return fmt.format(year=year, seq=(last or 0) + 1)
