"""Gapless document numbers per series and year (SPEC §5.2).

The counter row is created or incremented with one upsert
(``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``) inside the caller's
transaction. On Postgres the upsert takes a row lock that other
issuers wait on until we commit or roll back; on SQLite the transaction
already holds the single write lock (BEGIN IMMEDIATE). Either way a rollback
returns the number, so the sequence never skips and never repeats.

A counter row is a queue every issuer of its series waits in, from the moment
it takes a number until it commits. :func:`number_at_commit` takes the number
as late as a transaction allows: in its commit, just before the last
statement, so the lock is held for two round trips instead of the whole use
case (SPEC §17). Until then the row carries a provisional number that only its
own transaction can see.
"""

from __future__ import annotations

import re
import secrets
import string
from typing import Any

from sqlalchemy import Integer, String, Text, bindparam, cast, event, func, inspect, literal, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from shared import limits
from shared.db import insert_adding, plain_session
from shared.errors import ValidationFailed
from shared.models import NumberCounter
from shared.transactions import COMMITTING, LateTexts, at_commit, before_trailing_writes, texts_at_commit

SERIES = ("invoice", "receipt", "credit_note", "quote")
_ALLOWED_FIELDS = {"year", "seq"}
MAX_FORMAT_LENGTH = limits.NUMBER_FORMAT  # the settings columns' width
MAX_NUMBER_LENGTH = 40
_SEQ_SPEC = re.compile(r"0[1-9][0-9]?d")  # {seq:0Nd}: zero-padded to N digits (1 to 99)


def check_number_format(fmt: str, field: str = "number_format") -> str:
    """Refuse a format that could not produce unique, readable, sendable numbers (SPEC §5.2).

    Only ``{year}`` and ``{seq}`` or ``{seq:0Nd}``, no conversions (``{seq:c}``
    turns the sequence into a character, ``{seq!r}`` quotes it), and printable
    text around them: a control character or line break in a number ends up in
    an e-mail subject that no mail server accepts.
    """
    fmt = (fmt or "").strip()
    if len(fmt) > MAX_FORMAT_LENGTH:
        raise ValidationFailed.one(field, f"must be at most {MAX_FORMAT_LENGTH} characters")
    try:
        parts = list(string.Formatter().parse(fmt))
    except ValueError as exc:
        raise ValidationFailed.one(field, f"is not a valid format: {exc}") from None
    fields = []
    for text_part, name, spec, conversion in parts:
        if not text_part.isprintable():
            raise ValidationFailed.one(
                field, "may only contain printable characters (no line breaks, tabs or other control characters)"
            )
        if name is None:
            continue
        if name not in _ALLOWED_FIELDS:
            raise ValidationFailed.one(field, f"may only use {{year}} and {{seq}}, not {{{name}}}")
        if conversion is not None or (spec and not (name == "seq" and _SEQ_SPEC.fullmatch(spec))):
            shown = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            raise ValidationFailed.one(
                field, f"may only use {{year}}, {{seq}} or {{seq:0Nd}} (such as {{seq:05d}}), not {shown}"
            )
        fields.append(name)
    if "seq" not in fields:
        raise ValidationFailed.one(field, "must contain {seq} so every number is unique")
    if "year" not in fields:
        raise ValidationFailed.one(field, "must contain {year}: numbering restarts every year")
    sample = fmt.format(year=2026, seq=1)
    if not 1 <= len(sample) <= MAX_NUMBER_LENGTH:
        raise ValidationFailed.one(field, f"must give numbers of 1 to {MAX_NUMBER_LENGTH} characters")
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
    last = session.execute(_TAKE, {"take_series": series, "take_year": year, "take_count": count}).scalar_one()
    return [fmt.format(year=year, seq=seq) for seq in range(last - count + 1, last + 1)]


# Built once: the counter is taken by every issue, so only its values change (SPEC §17).
_TAKE = insert_adding(
    NumberCounter.__table__,
    [{"series": bindparam("take_series"), "year": bindparam("take_year"), "last_value": bindparam("take_count")}],
    keys=("series", "year"),
    figures=("last_value",),
).returning(NumberCounter.last_value)


PROVISIONAL_PREFIX = "(number at commit "
_PENDING = "numbers_at_commit"


def number_at_commit(session: Session, target: Any, series: str, year: int, fmt: str) -> None:
    """Give ``target.number`` the next number of ``series`` for ``year`` when this transaction commits.

    Until then ``target.number`` is provisional (unique, and never seen outside
    the transaction); the number is taken, written and set on ``target`` with
    the commit, or earlier by :func:`settle_numbers` when something must show
    it before. Inside a savepoint the number is taken at once: the savepoint's
    rollback would otherwise leave a taken number unused.
    """
    session = plain_session(session)
    if session.in_nested_transaction():
        target.number = next_number(session, series, year, fmt)
        return
    target.number = PROVISIONAL_PREFIX + secrets.token_hex(8) + ")"
    if _PENDING not in session.info:  # the first of a transaction: the last one's numbers are read by now
        session.info.pop(_SETTLED, None)
    session.info.setdefault(_PENDING, []).append((target, series, year, fmt))
    before_trailing_writes(session, settle_numbers)


def is_provisional(number: str | None) -> bool:
    return bool(number) and number.startswith(PROVISIONAL_PREFIX)


def settle_numbers(session: Session) -> None:
    """Take now the numbers :func:`number_at_commit` left for the commit (in the order they were asked).

    Called at commit, after the last flush: the number goes out with the
    commit's last statement. Called earlier (a snapshot that leaves the
    transaction, such as a webhook event, must show the real number), it is
    set on the object like any change and flushed with the rest.

    Only objects still waiting get a number: one deleted, expunged or undone
    by a savepoint's rollback takes none (no gap). The list is kept until the
    transaction ends, so a number settled early inside a savepoint that then
    rolls back (taking the counter's step with it) is settled again here.
    """
    session = plain_session(session)
    committing = session.info.get(COMMITTING, False)
    groups: dict[tuple[str, int, str], list[Any]] = {}
    for target, series, year, fmt in session.info.get(_PENDING, ()):
        state = inspect(target)
        if state.session_id != session.hash_key or state.deleted or state.was_deleted:
            continue
        if (committing and not state.persistent) or not is_provisional(target.number):
            continue
        if target.number in session.info.get(_IN_LAST_STATEMENT, ()):
            continue  # the commit's last statement takes it
        groups.setdefault((series, year, fmt), []).append(target)
    settled = session.info.setdefault(_SETTLED, {})
    for (series, year, fmt), targets in groups.items():
        if committing and _take_in_last_statement(session, series, year, fmt, targets):
            continue
        for target, number in zip(targets, take_numbers(session, series, year, fmt, len(targets)), strict=True):
            settled[target.number] = number
            state = inspect(target)
            if committing:
                at_commit(session, _write_number(state.mapper), {"target_id": state.identity[0], "new_number": number})
                set_committed_value(target, "number", number)
            else:
                target.number = number


_IN_LAST_STATEMENT = "numbers_in_last_statement"  # the provisional numbers the commit's last statement takes
_SETTLED = "numbers_settled"  # provisional number -> real one, kept past the commit (settled_text) until the next


def _take_in_last_statement(session: Session, series: str, year: int, fmt: str, targets: list[Any]) -> bool:
    """Have the commit's last statement take these numbers (Postgres): the counter is locked only for it and COMMIT.

    The counter's upsert goes in the same round trip, just before that
    statement, and each number is a SQL expression of the counter
    (:func:`_number_expressions`); every text that holds a provisional number
    (the row's ``number``, a timeline summary, a stored answer) gets the real
    one there. The same round trip reads the numbers back after the COMMIT;
    :func:`settled_text` puts them into a text made before.
    """
    markers = tuple(target.number for target in targets)
    states = [inspect(target) for target in targets]
    tables = tuple(state.mapper.local_table for state in states)

    def read_back(prefix: str) -> list[Any]:
        return [
            select(table.c.number).where(table.c.id == bindparam(f"{prefix}id{n}", type_=Integer())).scalar_subquery()
            for n, table in enumerate(tables)
        ]

    def settle(numbers: list[str]) -> None:
        settled = session.info.setdefault(_SETTLED, {})
        for target, marker, number in zip(targets, markers, numbers, strict=True):
            set_committed_value(target, "number", number)
            settled[marker] = number

    late = LateTexts(
        markers=markers,
        shape=("number", fmt, tables),
        first=_counter_upsert,
        expressions=lambda prefix: _number_expressions(prefix, fmt, len(targets)),
        read_back=read_back,
        settle=settle,
        params={
            "series": series,
            "year": year,
            "count": len(targets),
            "year_text": str(year),
            **{f"id{n}": state.identity[0] for n, state in enumerate(states)},
        },
    )
    if not texts_at_commit(session, late):
        return False
    handed = session.info.setdefault(_IN_LAST_STATEMENT, set())
    for target, state in zip(targets, states, strict=True):
        handed.add(target.number)
        at_commit(session, _write_number(state.mapper), {"target_id": state.identity[0], "new_number": target.number})
    return True


def _counter_upsert(prefix: str) -> Any:
    """The counter's upsert by ``count``, from parameters ``{prefix}series``, ``{prefix}year``, ``{prefix}count``."""
    return insert_adding(
        NumberCounter.__table__,
        [
            {
                "series": bindparam(f"{prefix}series", type_=String()),
                "year": bindparam(f"{prefix}year", type_=Integer()),
                "last_value": bindparam(f"{prefix}count", type_=Integer()),
            }
        ],
        keys=("series", "year"),
        figures=("last_value",),
    )


def _number_expressions(prefix: str, fmt: str, count: int) -> list[Any]:
    """SQL for the ``count`` numbers :func:`_counter_upsert` just took, each formatted as ``fmt``.

    ``fmt`` is a checked format (:func:`check_number_format`): ``{year}``,
    ``{seq}`` or ``{seq:0Nd}`` and printable text. ``{seq:0Nd}`` pads to N
    digits and never cuts a longer sequence, as Python's ``format`` does. The
    counter is read in the transaction that moved it and still holds its lock.
    """
    last = (
        select(NumberCounter.last_value)
        .where(
            NumberCounter.series == bindparam(f"{prefix}series", type_=String()),
            NumberCounter.year == bindparam(f"{prefix}year", type_=Integer()),
        )
        .scalar_subquery()
    )
    numbers = []
    for position in range(1, count + 1):
        seq = cast(last - bindparam(f"{prefix}count", type_=Integer()) + position, Text())
        parts: list[Any] = []
        for text_before, name, spec, _conversion in string.Formatter().parse(fmt):
            # Cast: concat() takes any type, and a statement sent prepared (shared.prepared) needs each one known.
            if text_before:
                parts.append(cast(literal(text_before, Text()), Text()))
            if name == "year":
                parts.append(cast(bindparam(f"{prefix}year_text", type_=Text()), Text()))
            elif name == "seq" and spec:
                width = int(spec[1:-1])  # 0Nd
                parts.append(func.lpad(seq, func.greatest(width, func.length(seq)), "0"))
            elif name == "seq":
                parts.append(seq)
        numbers.append(func.concat(*parts, type_=Text()))
    return numbers


def settled_text(session: Session, text: str) -> str:
    """``text`` with the provisional numbers of this (or the last committed) transaction replaced by the real ones.

    For a text made before its numbers were taken (an answer made in the
    commit, before the last statement took the invoice's number; Postgres
    wrote the real one everywhere else there).
    """
    session = plain_session(session)
    for marker, number in session.info.get(_SETTLED, {}).items():
        if marker in text:
            text = text.replace(marker, number)
    return text


_WRITE_NUMBER: dict[Any, Any] = {}


def _write_number(mapper):
    """``UPDATE <table> SET number = :new_number WHERE id = :target_id``, built once per numbered table."""
    statement = _WRITE_NUMBER.get(mapper)
    if statement is None:
        table = mapper.local_table
        (key,) = mapper.primary_key
        # Columns with an ``onupdate`` keep their value: this completes the insert, it changes nothing.
        unchanged = {column.name: column for column in table.c if column.onupdate is not None}
        statement = _WRITE_NUMBER[mapper] = (
            update(table).where(key == bindparam("target_id")).values(number=bindparam("new_number"), **unchanged)
        )
    return statement


@event.listens_for(Session, "after_transaction_end")
def _forget_pending(session: Session, transaction) -> None:
    if transaction.parent is None:  # committed (numbers taken) or rolled back (none taken)
        session.info.pop(_PENDING, None)
        session.info.pop(_IN_LAST_STATEMENT, None)


def peek_number(session: Session, series: str, year: int, fmt: str) -> str:
    """The number the next issue would take now, without taking it (for previews only).

    Another issuer may take it first; the number is only final once issued.
    """
    from sqlalchemy import select

    last = session.execute(
        select(NumberCounter.last_value).where(NumberCounter.series == series, NumberCounter.year == year)
    ).scalar()
    return fmt.format(year=year, seq=(last or 0) + 1)
