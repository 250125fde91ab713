"""The declarative base, column types and engine set-up shared by all services."""

from __future__ import annotations

import datetime as dt
import time
import weakref
from decimal import Decimal
from typing import Annotated, Any

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import BigInteger, DateTime, Insert, MetaData, Numeric, String, Table, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column, registry, scoped_session
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator

from shared import prepared

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SCALE = 4
_QUANT = Decimal(1).scaleb(-SCALE)
_FACTOR = 10**SCALE


class Fixed4(TypeDecorator):
    """An exact decimal with four places: money, quantities and tax rates.

    Postgres stores NUMERIC(20, 4). SQLite has no decimal type and would keep a
    float, losing cents on large sums, so there the value is stored as an
    integer count of ten-thousandths; SUM() and comparisons stay exact. Floats
    are refused outright so a stray float can never reach the books.
    Because of the scaling, CHECK constraints on these columns compare only
    with 0 or with other Fixed4 columns (both scale-invariant); upper bounds
    such as "tax rate at most 100" are enforced by ``shared.services``.
    """

    impl = Numeric(20, SCALE)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(20, SCALE, asdecimal=True))

    def process_bind_param(self, value: Any, dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("money and quantities must be Decimal, never float")
        value = Decimal(value).quantize(_QUANT)
        if dialect.name == "sqlite":
            return int(value * _FACTOR)
        return value

    def process_result_value(self, value: Any, dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return (Decimal(int(value)) / _FACTOR).quantize(_QUANT)
        return Decimal(value).quantize(_QUANT)

    @property
    def python_type(self) -> type:
        return Decimal


class UTCDateTime(TypeDecorator):
    """Timestamps stored as naive UTC, returned as aware UTC on every database."""

    impl = DateTime()
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC)


MAX_ID = 2**31 - 1  # every id column is an INTEGER


def parse_id(raw: object) -> int | None:
    """A row id from text (query string, form field, session): ASCII digits, 1 to MAX_ID; else None.

    ``str.isdigit`` alone is not enough: ``"²".isdigit()`` is true and
    ``int("²")`` raises, and an id past INTEGER's range overflows the database.
    """
    text = raw if isinstance(raw, str) else ""
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def python_default(column) -> Any:
    """The value ``column``'s Python-side ``default=`` gives a new row (called if it is a function)."""
    default = column.default
    if not default.is_scalar and not default.is_callable:
        raise ValueError(f"{column} has a default that is not a value or a function")
    return default.arg(None) if default.is_callable else default.arg


def bind_processor(type_, dialect) -> Any:
    """What SQLAlchemy does to a value of ``type_`` before the driver sees it on ``dialect`` (None: nothing).

    For a statement compiled once and bound by hand. The dialect's own
    implementation of the type: psycopg2's keeps a Decimal a Decimal, where the
    generic Numeric's processor makes it a float (and a sixteenth digit is lost).
    """
    return type_.dialect_impl(dialect).bind_processor(dialect)


Money = Annotated[Decimal, mapped_column(Fixed4())]
Timestamp = Annotated[dt.datetime, mapped_column(UTCDateTime())]
Str40 = Annotated[str, mapped_column(String(40))]
Str200 = Annotated[str, mapped_column(String(200))]


class Base(DeclarativeBase):
    # The map lives on an explicit registry: Flask-SQLAlchemy subclasses Base
    # and SQLAlchemy refuses a per-class type_annotation_map in that case.
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={
            Decimal: Fixed4(),
            dt.datetime: UTCDateTime(),
            str: String(255),
        },
    )


db = SQLAlchemy(model_class=Base)


_configured: weakref.WeakSet[Engine] = weakref.WeakSet()


def configure_engine(engine: Engine, *, prepared_statements: bool = True) -> Engine:
    """Give SQLite the behaviour the domain relies on.

    Foreign keys on, WAL so readers never wait for the writer, a 30 s busy
    timeout, and transactions we begin ourselves: plain reads start a
    deferred transaction, while a unit of work asks (through
    :func:`begin_write`) for BEGIN IMMEDIATE, so SQLite has exactly one writer
    at a time (our single-writer queue claim and numbering lock) instead of
    failing a read transaction that later tries to upgrade to a write.
    Postgres gets :func:`_ping_when_idle` instead, and sends the statements
    marked :func:`shared.prepared.prepared` prepared unless
    ``prepared_statements`` is off (``DATABASE_PREPARED_STATEMENTS``). Safe to
    call more than once.
    """
    if engine in _configured:
        return engine
    if engine.dialect.name == "postgresql":
        _configured.add(engine)
        _ping_when_idle(engine)
        if prepared_statements:
            prepared.install(engine)
        return engine
    if engine.dialect.name != "sqlite":
        return engine
    _configured.add(engine)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        mode = connection.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


_BEGIN_OPTION = "sqlite_begin"

IDLE_PING_AFTER = 1.0  # seconds a pooled connection may rest before it is checked again


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled Postgres connection before use only when it has rested (SPEC §10 and §17).

    ``pool_pre_ping`` sends ``SELECT 1`` on every checkout: a round trip per
    request under load, on connections used a millisecond ago. A connection
    that rested longer than :data:`IDLE_PING_AFTER` (across a Postgres restart,
    a dropped socket, a night) is still checked, and a dead one is replaced
    before the request sees it. A connection that dies while busy fails its
    request (503), and SQLAlchemy then drops every connection of the pool
    that is older, so the next requests reconnect.
    """

    @event.listens_for(engine, "checkin")
    def _rested_from(_dbapi_connection, record) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_rested(dbapi_connection, record, _proxy) -> None:
        rested_since = record.info.get("checked_in_at")
        if rested_since is None or time.monotonic() - rested_since < IDLE_PING_AFTER:
            return  # new (just connected) or in use a moment ago
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(f"the pooled connection is gone: {exc}") from exc


def plain_session(session: Session | scoped_session) -> Session:
    """The request's own session behind Flask-SQLAlchemy's ``db.session`` proxy (``session.info`` is per session)."""
    return session() if isinstance(session, scoped_session) else session


def begin_write(session: Session) -> None:
    """Start the session's transaction as a write transaction.

    On SQLite this takes the database's single write lock up front (waiting up
    to the busy timeout); a read transaction already open with nothing pending
    is ended first, because upgrading it to a write could fail outright.
    Postgres needs no such step: row locks are taken where the data is.
    """
    session = plain_session(session)
    if session.get_bind().dialect.name != "sqlite":
        return
    if session.in_transaction():
        connection = session.connection()
        if connection.get_execution_options().get(_BEGIN_OPTION) == "IMMEDIATE":
            return
        if session.new or session.dirty or session.deleted:
            return  # the caller's pending changes must not be thrown away
        session.rollback()
    session.connection(execution_options={_BEGIN_OPTION: "IMMEDIATE"})


def alembic_compare_type(context, inspected_column, metadata_column, inspected_type, metadata_type):
    """Alembic type comparison that knows what our decorated types store.

    Fixed4 is BIGINT on SQLite and NUMERIC(20, 4) elsewhere; UTCDateTime is a
    plain DATETIME. Other types get Alembic's own comparison (None).
    """
    if isinstance(metadata_type, Fixed4):
        stored = metadata_type.load_dialect_impl(context.dialect)
    elif isinstance(metadata_type, UTCDateTime):
        stored = metadata_type.impl
    else:
        return None
    column = metadata_column._copy()
    column.type = stored
    return context.impl.compare_type(inspected_column, column)


def alembic_render_item(type_, obj, autogen_context):
    """Write our column types into migrations as ``shared.db.X()``."""
    if type_ == "type" and isinstance(obj, (Fixed4, UTCDateTime)):
        autogen_context.imports.add("import shared.db")
        return f"shared.db.{type(obj).__name__}()"
    return False


# ---------------------------------------------------------------- adding upserts


class _AddOnConflict(ClauseElement):
    """``ON CONFLICT (keys) DO UPDATE SET f = table.f + excluded.f, ...``: Postgres and SQLite alike.

    SQLAlchemy's dialect ``insert().on_conflict_do_update()`` is never cached,
    so every use compiles the statement again; this clause names only
    strings, has a cache key, and lets the statement be compiled once per process.
    """

    __visit_name__ = "add_on_conflict"
    inherit_cache = True
    _traverse_internals = [
        ("table_name", InternalTraversal.dp_string),
        ("keys", InternalTraversal.dp_string_list),
        ("figures", InternalTraversal.dp_string_list),
    ]

    def __init__(self, table_name: str, keys: tuple[str, ...], figures: tuple[str, ...]) -> None:
        self.table_name = table_name
        self.keys = list(keys)
        self.figures = list(figures)


@compiles(_AddOnConflict)
def _render_add_on_conflict(element: _AddOnConflict, compiler, **kw) -> str:
    quote = compiler.preparer.quote
    table = quote(element.table_name)
    sets = ", ".join(f"{quote(f)} = {table}.{quote(f)} + excluded.{quote(f)}" for f in element.figures)
    return f"ON CONFLICT ({', '.join(quote(k) for k in element.keys)}) DO UPDATE SET {sets}"


class _AddingInsert(Insert):
    inherit_cache = True


def insert_adding(table: Table, rows: list[dict[str, Any]], *, keys: tuple[str, ...], figures: tuple[str, ...]):
    """Insert ``rows``; where a row with the same ``keys`` exists, add the ``figures`` to it instead.

    The running counters' statement (rollups, the gapless number counters):
    one ``INSERT ... ON CONFLICT DO UPDATE`` that Postgres and SQLite both run
    and that SQLAlchemy compiles once. Every figure must be 0 or more: both
    databases check CHECK constraints on the proposed row before the conflict.
    """
    # One row as a dict keeps the statement cacheable; SQLAlchemy never caches a multi-row VALUES.
    statement = _AddingInsert(table).values(rows[0] if len(rows) == 1 else rows)
    statement._post_values_clause = _AddOnConflict(table.name, keys, figures)
    return statement
