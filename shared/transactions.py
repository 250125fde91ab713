"""One transaction per use case: ``unit_of_work`` and ``atomic``; writes sent with its commit: ``at_commit``."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import String, Table, Text, bindparam, cast, event, func, insert, literal_column, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql import visitors
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import BindParameter

from shared.db import begin_write, bind_processor, plain_session
from shared.prepared import OPTION

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
_LATE = "late_texts"
COMMITTING = "committing_trailing_writes"  # set while the before_trailing_writes hooks run


def at_commit(session: Session, statement: Executable, params: dict[str, Any] | None = None) -> None:
    """Write ``statement`` with this transaction's last round trip, just before it commits.

    For writes nothing in the transaction reads back (timeline rows, running
    totals, a stored idempotent answer): on Postgres every such write of a
    transaction goes to the server as one statement (data-modifying ``WITH``
    clauses), instead of one round trip each. A rollback drops them with the
    rest. Inside a ``begin_nested`` savepoint the write runs at once, so a
    savepoint's rollback takes it away too.

    A hot path gives a statement built once, with named bind parameters, and
    their values in ``params``: the commit's statement is then built once per
    shape of the transaction's writes and only its values change (SPEC §17).
    Python-side column defaults (``default=``, ``onupdate=``) are not worked
    out inside that statement: give every such column its value (an
    unchanged ``updated_at`` as ``updated_at=Model.updated_at``). Postgres
    makes only one of two such writes to the same row: give each row once.
    """
    session = plain_session(session)
    if session.in_nested_transaction():
        session.execute(statement, params)
        return
    session.info.setdefault(_TRAILING, []).append((statement, params))


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


@dataclass(frozen=True)
class LateTexts:
    """Texts the commit's last statement works out in SQL, standing in for ``markers`` until then (Postgres).

    Every text parameter of that statement (the values of :func:`at_commit`
    statements and :func:`insert_at_commit` rows) that holds a marker gets it
    replaced by its text there: a number taken by a counter in the same
    statement reaches the row it numbers, the timeline summary and the stored
    answer that name it. ``first(prefix)`` is a statement sent just before
    the last one, in the same round trip (a counter's upsert: its row is then
    locked before the last statement locks anything else, as when a number is
    taken on its own); ``expressions(prefix)`` gives one SQL expression per
    marker, which may read what ``first`` wrote; ``read_back(prefix)`` one
    per marker that reads the text back once it is committed, in the same
    round trip, and ``settle(texts)`` is given what it read. Bind parameters are named
    ``{prefix}<name>`` for each ``<name>`` in ``params``; ``shape`` is what the
    SQL depends on beyond ``params`` (part of the statement's cache key). A
    marker inside a statement given with its values inside (no parameters) is
    not replaced.
    """

    markers: tuple[str, ...]
    shape: Hashable
    first: Callable[[str], Executable]
    expressions: Callable[[str], list[Any]]
    read_back: Callable[[str], list[Any]]
    settle: Callable[[list[str]], None]
    params: dict[str, Any]


def texts_at_commit(session: Session, late: LateTexts) -> bool:
    """Have the commit's last statement work out ``late`` (see :class:`LateTexts`); False where it cannot.

    Only Postgres sends the writes of a commit as one statement, and only
    outside a savepoint; elsewhere the caller works the texts out itself.
    """
    session = plain_session(session)
    if session.in_nested_transaction() or session.get_bind().dialect.name != "postgresql":
        return False
    session.info.setdefault(_LATE, []).append(late)
    return True


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
    statements: list[tuple[Executable, dict[str, Any] | None]] = session.info.pop(_TRAILING, [])
    tables = [(table, [_settled(row) for row in rows]) for table, rows in session.info.pop(_TRAILING_ROWS, {}).items()]
    channels = tuple(sorted(session.info.pop(_NOTIFY, ())))
    if not statements and not tables and not channels:
        return
    if session.get_bind().dialect.name != "postgresql":
        for statement, params in statements:
            session.execute(statement, params)
        for table, rows in tables:
            session.execute(_plain_insert(table), rows)
        return
    lates = session.info.pop(_LATE, [])
    firsts, final, after, params = _trailing_statement(statements, tables, channels, lates)
    if session.new or session.dirty or session.deleted:  # a hook changed an object: flushed with the commit
        for statement in (*firsts, final):
            session.execute(statement, params)
        texts = session.execute(after, params).one() if after is not None else ()
    else:
        texts = _execute_and_commit(session.connection(), (*firsts, final), after, params)
    for late in lates:
        late.settle(list(texts[: len(late.markers)]))
        texts = texts[len(late.markers) :]


def _settled(row: dict[str, Any]) -> dict[str, Any]:
    """A row with its late values (functions, see :func:`insert_at_commit`) called."""
    return {name: value() if callable(value) else value for name, value in row.items()}


_PLAIN_INSERTS: dict[Table, Executable] = {}


def _plain_insert(table: Table) -> Executable:
    statement = _PLAIN_INSERTS.get(table)
    if statement is None:
        statement = _PLAIN_INSERTS[table] = insert(table)
    return statement


# Postgres: the commit's last statement, by the shape of the writes it carries (at most a few dozen shapes).
_SHAPES: dict[tuple, tuple[tuple[Executable, ...], Executable]] = {}
_KEPT: set[Executable] = set()
_MAX_SHAPES = 500


def _trailing_statement(
    statements: list[tuple[Executable, dict[str, Any] | None]],
    tables: list[tuple[Table, list[dict[str, Any]]]],
    channels: tuple[str, ...],
    lates: list[LateTexts] = (),
) -> tuple[tuple[Executable, ...], Executable, Executable | None, dict[str, Any]]:
    """One ``SELECT pg_notify(...)`` (or ``SELECT 1``) carrying every write as a data-modifying ``WITH`` clause.

    Piece ``n``'s bind parameters are renamed ``t{n}_...``, so the values of
    all pieces travel in one dictionary; late text ``k`` (:class:`LateTexts`)
    has its parameters named ``l{i}_...`` and its marker ``m{k}``. The
    statement is built once per shape (which statements, which tables with
    how many rows of which columns, which channels, which late texts and
    which parameters hold their markers) and kept, so SQLAlchemy finds it
    compiled; a statement given without ``params`` (values inside it) is built
    each time.
    """
    markers = [marker for late in lates for marker in late.markers]
    params: dict[str, Any] = {}
    for n, (_statement, values) in enumerate(statements):
        for name, value in (values or {}).items():
            params[f"t{n}_{name}"] = value
    offset = len(statements)
    for n, (_table, rows) in enumerate(tables):
        for r, row in enumerate(rows):
            for name, value in row.items():
                params[f"t{offset + n}_r{r}_{name}"] = value
    marked = {}
    if markers:
        for name, value in params.items():
            if isinstance(value, str):
                found = tuple(k for k, marker in enumerate(markers) if marker in value)
                if found:
                    marked[name] = found
    shape = (
        tuple(statement if params is not None else None for statement, params in statements),
        tuple((table, tuple(rows[0]), len(rows)) for table, rows in tables),
        channels,
        tuple(late.shape for late in lates),
        tuple(sorted(marked.items())),
    )
    keep = None not in shape[0]
    built = _SHAPES.get(shape) if keep else None
    if built is None:
        firsts = tuple(late.first(f"l{i}_") for i, late in enumerate(lates))
        expressions = [expression for i, late in enumerate(lates) for expression in late.expressions(f"l{i}_")]

        def with_texts(name: str, parameter):
            """``parameter`` with the late texts it holds put in (SQL ``replace``), or as it is."""
            for k in marked.get(name, ()):
                parameter = func.replace(parameter, bindparam(f"m{k}", type_=Text()), expressions[k], type_=Text())
            return parameter

        pieces = [
            _renamed(statement, f"t{n}_", with_texts) if params is not None else statement
            for n, (statement, params) in enumerate(statements)
        ]
        pieces += [
            _insert_rows(table, list(rows[0]), len(rows), f"t{offset + n}_", with_texts)
            for n, (table, rows) in enumerate(tables)
        ]
        final = (
            select(*(func.pg_notify(channel, "") for channel in channels)) if channels else select(literal_column("1"))
        )
        if pieces:
            final = final.add_cte(*(piece.cte(f"trailing_{n}") for n, piece in enumerate(pieces)))
        backs = [expression for i, late in enumerate(lates) for expression in late.read_back(f"l{i}_")]
        after = select(*backs) if backs else None
        built = (firsts, final, after)
        if keep and len(_SHAPES) < _MAX_SHAPES:
            _SHAPES[shape] = built
            _KEPT.update(statement for statement in (*firsts, final, after) if statement is not None)
    firsts, final, after = built
    for k, marker in enumerate(markers):
        params[f"m{k}"] = marker
    for i, late in enumerate(lates):
        for name, value in late.params.items():
            params[f"l{i}_{name}"] = value
    return firsts, final, after, params


def _execute_and_commit(
    connection, statements: tuple[Executable, ...], after: Executable | None, params: dict[str, Any]
) -> tuple:
    """Send ``statements``, ``COMMIT``, ``BEGIN`` and ``after`` in one round trip (Postgres, simple query protocol).

    Whatever the transaction locked (the year's number counter first: every
    issuer waits on it) is let go when the server reaches the ``COMMIT``, not
    a round trip later, after the client has read the answer and, under load,
    waited for its turn to run Python again. SQLAlchemy then commits the empty
    transaction the ``BEGIN`` opened, and its commit events fire as usual;
    ``after`` (a read of what was just committed) runs in that transaction and
    its one row is returned (empty without it). A failing statement stops the
    rest of the round trip; the error is raised and the transaction rolls back
    as before. The statements share ``params`` (each names its own).
    """
    texts, values = [], {}
    for statement in (*statements, after) if after is not None else statements:
        compiled, processors = _compiled(statement, connection.dialect)
        own = compiled.construct_params(params)
        for name, process in processors.items():
            own[name] = process(own[name])
        clash = {name for name in own.keys() & values.keys() if own[name] != values[name]}
        if clash:
            raise ValueError(f"statements sent together give different values to {sorted(clash)}")
        values.update(own)
        texts.append(compiled.string)
    parts = (*texts, "COMMIT", "BEGIN") if after is None else (*texts[:-1], "COMMIT", "BEGIN", texts[-1])
    # Each statement built once (kept by shape) goes out prepared (shared.prepared): Postgres plans it once per connection.
    kept = parts if all(statement in _KEPT for statement in (*statements, after) if statement is not None) else None
    result = connection.exec_driver_sql(";\n".join(parts), values, execution_options={OPTION: kept} if kept else None)
    return tuple(result.one()) if after is not None else ()


_COMPILED: dict[Executable, tuple[Any, dict[str, Callable[[Any], Any]]]] = {}


def _compiled(statement: Executable, dialect) -> tuple[Any, dict[str, Callable[[Any], Any]]]:
    """``statement`` compiled for ``dialect`` with its parameters' bind processors; kept for the statements kept by shape."""
    found = _COMPILED.get(statement)
    if found is None:
        compiled = statement.compile(dialect=dialect)
        processors = {}
        for name, parameter in compiled.binds.items():
            process = bind_processor(parameter.type, dialect)
            if process is not None:
                processors[name] = process
        found = (compiled, processors)
        if statement in _KEPT:
            _COMPILED[statement] = found
    return found


def _renamed(statement: Executable, prefix: str, wrap: Callable[[str, Any], Any]) -> Executable:
    """``statement`` with each named bind parameter ``x`` renamed ``{prefix}x`` (same type), passed through ``wrap``."""

    def rename(element):
        if isinstance(element, BindParameter) and not element.unique:
            name = prefix + element.key
            return wrap(name, bindparam(name, type_=element.type))
        return None

    return visitors.replacement_traverse(statement, {}, rename)


def _insert_rows(
    table: Table, names: list[str], count: int, prefix: str, wrap: Callable[[str, Any], Any] = lambda _name, p: p
) -> Executable:
    """An INSERT of ``count`` rows of ``names`` in their order, from parameters ``{prefix}r{row}_{name}``.

    One row is a plain ``INSERT ... VALUES``. Several are ``INSERT ... SELECT
    ... UNION ALL SELECT ...`` of typed parameters, which inserts them in
    order and, unlike a multi-row ``VALUES``, SQLAlchemy compiles once.
    """
    columns = [table.c[name] for name in names]
    if count == 1:
        return insert(table).values(
            {
                column.name: wrap(name, bindparam(name, type_=column.type))
                for column in columns
                if (name := f"{prefix}r0_{column.name}")
            }
        )

    def typed(row: int, column):
        # Text, not VARCHAR(n): a cast to VARCHAR(n) would cut a long value silently; the INSERT refuses it.
        name = f"{prefix}r{row}_{column.name}"
        parameter = wrap(name, bindparam(name, type_=column.type))
        return cast(parameter, Text() if isinstance(column.type, String) else column.type)

    selects = [select(*(typed(row, column) for column in columns)) for row in range(count)]
    return insert(table).from_select(names, union_all(*selects))


@event.listens_for(Session, "after_transaction_end")
def _forget_trailing(session: Session, transaction) -> None:
    if transaction.parent is None:  # the outermost transaction: committed or rolled back
        for name in (_TRAILING, _TRAILING_ROWS, _NOTIFY, _BEFORE_TRAILING, _MEMO, _LATE):
            session.info.pop(name, None)
