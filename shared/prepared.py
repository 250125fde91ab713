"""Server-side prepared statements for the hot path's statements on Postgres (SPEC §17).

psycopg2 sends every statement as text, and Postgres parses, analyses and
plans it each time. For the statements of ``POST /invoices`` that is about
two fifths of the database's CPU per request: more than the writes. A
statement built once in the code (a module-level query, one of
:func:`shared.models.persist.insert_new`'s INSERTs, the commit's trailing
statement of one shape) and marked with :func:`prepared` is instead
``PREPARE``d once per connection and sent as ``EXECUTE name(values)``.

What changes on the wire only: the values are the same literals psycopg2
would have put in the text, each taking the type Postgres infers for its
place in the statement (a column's type, an operator's other side). Event
listeners (``before_cursor_execute``, statement counts in tests, logging)
still see the statement's own SQL.

- The first time a connection meets a statement it is sent as text, and it
  is prepared when the connection goes back to the pool, outside any
  transaction. Preparing inside the caller's transaction would lock the
  tables the statement names at that moment (Postgres locks them to analyse
  it, until the transaction ends): earlier than the statement itself would,
  and in another order than the rest of the transaction, which can deadlock
  (the counter's row, then the running totals' tables, against the bulk
  loader's table lock). A statement Postgres cannot prepare (a parameter
  whose type it cannot infer) is remembered and always sent as text.
- Prepared statements outlive a rollback and die with their connection; the
  set a connection holds is kept in its pool record, which a reconnect
  replaces.
- A connection pooler that hands one client several server sessions
  (PgBouncer in transaction mode) loses them: set
  ``DATABASE_PREPARED_STATEMENTS=false`` there (README, configuration).
- At most :data:`MOST_STATEMENTS` distinct statements are prepared per
  process; later ones are sent as text.
"""

from __future__ import annotations

import itertools
import re
import threading

from sqlalchemy import event
from sqlalchemy.engine import Engine

OPTION = "prepared"
PREPARED = {OPTION: True}  # the execution options that mark one execution (``session.get(..., execution_options=)``)
MOST_STATEMENTS = 500
_PENDING = "prepare_at_checkin"
_IDLE = 0  # psycopg2.extensions.TRANSACTION_STATUS_IDLE: connected, no transaction open
LOCK_WAIT = "50ms"  # how long a PREPARE at checkin waits for a lock before it is left for later
# Postgres cannot give a parameter a type: indeterminate or ambiguous parameter, datatype mismatch,
# no such function or an ambiguous one for the types it inferred.
_CANNOT_TYPE = {"42P18", "42P08", "42804", "42883", "42725"}
_PARAMETER = re.compile(r"%%|%\((\w+)\)s")


class _Statement:
    """One statement's name, the ``PREPARE`` that defines it and the ``EXECUTE`` that runs it (pyformat)."""

    __slots__ = ("sql", "name", "prepare", "execute", "failures")

    def __init__(self, number: int, sql: str) -> None:
        self.sql = sql
        self.failures = 0
        self.name = f"shared_p{number}"
        places: dict[str, int] = {}

        def positional(match: re.Match) -> str:
            key = match.group(1)
            if key is None:
                return "%"  # a literal percent sign, escaped for pyformat
            return f"${places.setdefault(key, len(places) + 1)}"

        self.prepare = f"PREPARE {self.name} AS {_PARAMETER.sub(positional, sql)}"
        arguments = ", ".join(f"%({key})s" for key in places)
        self.execute = f"EXECUTE {self.name}({arguments})" if places else f"EXECUTE {self.name}"


_STATEMENTS: dict[str, _Statement | None] = {}  # SQL -> its prepared form, None if Postgres cannot prepare it
_NUMBERS = itertools.count(1)
_LOCK = threading.Lock()  # one name per statement, whichever thread meets it first


def prepared(statement):
    """``statement`` marked to be sent prepared on Postgres (an execution option; elsewhere it changes nothing).

    Mark only a statement whose every parameter has its type fixed by where
    it stands (a column it is compared with or written to, a ``CAST``):
    Postgres types a prepared statement's parameters once, and converts
    later values to those types, where text would have read each literal
    afresh (``int_column = 1.5`` is false as text, and true for a row of 2
    when prepared).
    """
    return statement.execution_options(**{OPTION: True})


def install(engine: Engine) -> None:
    """Send the statements marked :func:`prepared` on ``engine`` (Postgres) as ``EXECUTE``."""
    event.listen(engine, "do_execute", _execute)
    event.listen(engine, "checkin", _prepare_pending)
    event.listen(engine, "handle_error", _on_error)


def _execute(cursor, statement: str, parameters, context) -> bool:
    """The ``do_execute`` hook: True when the statement went out here, prepared or as text."""
    parts = context.execution_options.get(OPTION)
    if not parts or not isinstance(parameters, dict):
        return False
    if parts is True:
        parts = (statement,)
    elif ";\n".join(parts) != statement:
        return False  # not the message the parts describe: sent as it is
    info = context.root_connection.connection.info
    held = info.get(OPTION, ())
    wire = []
    for part in parts:
        form = _form(part)
        if form is None:
            wire.append(part)
        elif form.name in held:
            wire.append(form.execute)
        else:
            wire.append(part)  # as text this time; prepared when the connection is checked in
            info.setdefault(_PENDING, set()).add(form)
    cursor.execute(";\n".join(wire), parameters)
    return True


def _form(sql: str) -> _Statement | None:
    if sql in ("COMMIT", "BEGIN"):
        return None
    form = _STATEMENTS.get(sql, False)
    if form is False:
        with _LOCK:
            form = _STATEMENTS.get(sql, False)
            if form is False:
                if len(_STATEMENTS) >= MOST_STATEMENTS:
                    return None
                form = _STATEMENTS[sql] = _Statement(next(_NUMBERS), sql)
    return form


def _prepare_pending(dbapi_connection, record) -> None:
    """The pool's ``checkin`` hook: ``PREPARE`` what the connection met as text, each in a short transaction.

    The connection has been reset (rolled back). Each ``PREPARE`` goes in a
    transaction of its own that waits at most :data:`LOCK_WAIT` for the locks
    Postgres takes to analyse it (a table locked by a bulk load or a
    migration leaves the statement for a later checkin). One Postgres cannot
    type is sent as text from then on; one that fails otherwise three times,
    too. Whatever else goes wrong invalidates the connection, so the pool
    replaces it: the pool never loses it.
    """
    pending = record.info.pop(_PENDING, None)
    if not pending or dbapi_connection is None:
        return
    try:
        if dbapi_connection.info.transaction_status != _IDLE:  # not reset: another checkin will come
            record.info[_PENDING] = pending
            return
        held = record.info.setdefault(OPTION, set())
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        try:
            with dbapi_connection.cursor() as cursor:
                for form in pending:
                    if _STATEMENTS.get(form.sql) is not form or form.name in held:
                        continue
                    try:
                        cursor.execute(f"BEGIN; SET LOCAL lock_timeout = '{LOCK_WAIT}'; {form.prepare}; COMMIT")
                    except dbapi_connection.Error as exc:
                        cursor.execute("ROLLBACK")
                        form.failures += 1
                        if getattr(exc, "pgcode", None) in _CANNOT_TYPE or form.failures >= 3:
                            _STATEMENTS[form.sql] = None  # a plain store; the GIL keeps the dict whole
                    else:
                        held.add(form.name)
        finally:
            dbapi_connection.autocommit = autocommit
    except Exception as exc:  # noqa: BLE001 (the connection is replaced; a checkin must not fail)
        record.invalidate(exc)


def _on_error(context) -> None:
    """``handle_error``: a prepared statement the server no longer has, or whose result type a migration changed.

    ``cached plan must not change result type`` (a column of its result
    altered) or ``prepared statement ... does not exist`` (the server session
    was swapped under the socket, or ``DEALLOCATE`` ran): the request fails,
    and the connection is replaced instead of failing every later request;
    after a migration every pooled connection is (their statements were
    prepared against the old tables).
    """
    code = getattr(context.original_exception, "pgcode", None)
    execution = context.execution_context
    if execution is None or not execution.execution_options.get(OPTION):
        return
    if code == "26000" or (code == "0A000" and "cached plan" in str(context.original_exception)):
        context.is_disconnect = True
        context.invalidate_pool_on_disconnect = code == "0A000"
