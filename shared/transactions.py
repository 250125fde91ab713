"""One transaction per use case: ``unit_of_work`` and ``atomic``; writes sent with its commit: ``at_commit``."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import String, Table, Text, bindparam, cast, event, func, insert, literal, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.base import Executable

from shared.db import begin_write, plain_session

P = ParamSpec("P")
R = TypeVar("R")

_DEPTH = "unit_of_work_depth"


def unit_of_work(fn: Callable[P, R]) -> Callable[P, R]:
    """Run a use case as one transaction: commit on success, roll back on any error.

    Inside :func:`atomic` (the API wraps a use case and its idempotency record
    together) the outer block commits instead.
    """

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        session: Session = args[0]  # type: ignore[assignment]
        if session.info.get(_DEPTH):
            result = fn(*args, **kwargs)
            session.flush()
            return result
        with atomic(session):
            return fn(*args, **kwargs)

    return wrapper


@contextlib.contextmanager
def atomic(session: Session) -> Iterator[Session]:
    """One transaction around several use cases; nested use cases do not commit."""
    if session.info.get(_DEPTH):
        yield session
        return
    session.info[_DEPTH] = 1
    try:
        begin_write(session)
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info.pop(_DEPTH, None)


# ---------------------------------------------------------------- writes at commit

_TRAILING = "trailing_writes"
_TRAILING_ROWS = "trailing_rows"
_MEMO = "transaction_memo"
_NOTIFY = "notify_channels"
_BEFORE_TRAILING = "before_trailing_writes"
COMMITTING = "committing_trailing_writes"  # set while the before_trailing_writes hooks run


def at_commit(session: Session, statement: Executable) -> None:
    """Write ``statement`` with this transaction's last round trip, just before it commits.

    For writes nothing in the transaction reads back (timeline rows, running
    totals, a stored idempotent answer): on Postgres every such write of a
    transaction goes to the server as one statement (data-modifying ``WITH``
    clauses), instead of one round trip each. A rollback drops them with the
    rest. Inside a ``begin_nested`` savepoint the write runs at once, so a
    savepoint's rollback takes it away too.
    """
    session = plain_session(session)
    if session.in_nested_transaction():
        session.execute(statement)
        return
    session.info.setdefault(_TRAILING, []).append(statement)


def insert_at_commit(session: Session, table: Table, row: dict[str, Any]) -> None:
    """Insert ``row`` into ``table`` with this transaction's last round trip (see :func:`at_commit`).

    The rows of one table go out as one multi-row ``INSERT`` in the order they
    were added, so their ids keep that order. Every row of a table must name
    the same columns. A value may be a function of no arguments, called when
    the row is written, after the transaction's last flush and the
    :func:`before_trailing_writes` hooks (a summary that names a number taken
    at commit, ``shared.numbering.number_at_commit``).
    """
    session = plain_session(session)
    if session.in_nested_transaction():
        session.execute(insert(table).values(_settled(row)))
        return
    session.info.setdefault(_TRAILING_ROWS, {}).setdefault(table, []).append(row)


def notify_at_commit(session: Session, channel: str) -> None:
    """Send a Postgres ``NOTIFY`` on ``channel`` when this transaction commits (once, however often asked).

    NOTIFY is transactional anyway (delivered at COMMIT, dropped on rollback);
    asking here only saves the round trip. Other databases have no NOTIFY.
    """
    session = plain_session(session)
    if session.get_bind().dialect.name == "postgresql":
        session.info.setdefault(_NOTIFY, set()).add(channel)


def before_trailing_writes(session: Session, hook: Callable[[Session], None]) -> None:
    """Call ``hook(session)`` once before this transaction's trailing writes go out (after its last flush).

    A hook may add trailing writes of its own; the running totals use this to
    write their netted deltas once per transaction.
    """
    session = plain_session(session)
    hooks = session.info.setdefault(_BEFORE_TRAILING, [])
    if hook not in hooks:
        hooks.append(hook)


def transaction_memo(session: Session, name: str, load: Callable[[], R]) -> R:
    """``load()``, asked once per transaction: later calls in the same transaction get the same answer.

    For a read that several steps of one use case ask (which webhook
    endpoints are enabled) and that this transaction does not change; the
    code that does change it calls :func:`forget_memo`.
    """
    session = plain_session(session)
    memo = session.info.setdefault(_MEMO, {})
    if name not in memo:
        memo[name] = load()
    return memo[name]


def forget_memo(session: Session, name: str) -> None:
    session = plain_session(session)
    session.info.get(_MEMO, {}).pop(name, None)


@event.listens_for(Session, "before_commit")
def _write_trailing(session: Session) -> None:
    if session.in_nested_transaction():
        return
    session.flush()
    session.info[COMMITTING] = True
    try:
        while hooks := session.info.pop(_BEFORE_TRAILING, None):  # a hook may add another
            for hook in hooks:
                hook(session)
    finally:
        session.info.pop(COMMITTING, None)
    dialect = session.get_bind().dialect.name
    statements = session.info.pop(_TRAILING, [])
    statements += [
        _insert_rows(table, [_settled(row) for row in rows], dialect)
        for table, rows in session.info.pop(_TRAILING_ROWS, {}).items()
    ]
    channels = sorted(session.info.pop(_NOTIFY, ()))
    if not statements and not channels:
        return
    if dialect != "postgresql":
        for statement in statements:
            session.execute(statement)
        return
    final = select(*(func.pg_notify(channel, "") for channel in channels)) if channels else select(literal(1))
    if statements:
        final = final.add_cte(*(statement.cte(f"trailing_{n}") for n, statement in enumerate(statements)))
    session.execute(final)


def _settled(row: dict[str, Any]) -> dict[str, Any]:
    """A row with its late values (functions, see :func:`insert_at_commit`) called."""
    return {name: value() if callable(value) else value for name, value in row.items()}


def _insert_rows(table: Table, rows: list[dict[str, Any]], dialect: str) -> Executable:
    """One INSERT of ``rows`` in their order, as a statement SQLAlchemy can cache on Postgres.

    SQLAlchemy never caches a multi-row ``VALUES``, so each commit would
    compile it again; ``INSERT ... SELECT ... UNION ALL SELECT ...`` of typed
    parameters is cached by its shape (the number of rows) and inserts the
    rows in order. SQLite runs in process and takes the plain form.
    """
    if len(rows) == 1:
        return insert(table).values(rows[0])
    if dialect != "postgresql":
        return insert(table).values(rows)
    names = list(rows[0])
    columns = [table.c[name] for name in names]

    def typed(column, value):
        # Text, not VARCHAR(n): a cast to VARCHAR(n) would cut a long value silently; the INSERT refuses it.
        return cast(
            bindparam(None, value, type_=column.type), Text() if isinstance(column.type, String) else column.type
        )

    selects = [select(*(typed(column, row[column.name]) for column in columns)) for row in rows]
    return insert(table).from_select(names, union_all(*selects))


@event.listens_for(Session, "after_transaction_end")
def _forget_trailing(session: Session, transaction) -> None:
    if transaction.parent is None:  # the outermost transaction: committed or rolled back
        for name in (_TRAILING, _TRAILING_ROWS, _NOTIFY, _BEFORE_TRAILING, _MEMO):
            session.info.pop(name, None)
