"""New rows written past the unit of work: ``insert_new``, for the write-once hot paths (SPEC §17).

The unit of work earns its keep on objects that change: it tracks history,
orders dependent writes and nets the running totals. A new invoice, its lines
and its queue rows are written once and never changed in the transaction
that makes them, and for them its bookkeeping (cascades, a dependency sort,
a statement built per object) cost several times the INSERTs themselves.
:func:`insert_new` writes them with one INSERT per table, a statement built
once per table, and puts the objects in the session as if they had been
loaded: the same rows, the same objects, the same running totals.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Insert, Table, bindparam, insert, inspect
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.relationships import RelationshipDirection

from shared.db import bind_processor, plain_session, python_default
from shared.models.rollups import count_new_objects
from shared.prepared import OPTION, prepared

_STATEMENTS: dict[Table, Insert] = {}


def insert_new(session: Session, objects: Sequence[Any]) -> None:
    """INSERT the new (transient) ``objects``, one statement per table, and make them persistent in ``session``.

    Give parents before their children (an invoice, then its lines): a
    child's foreign key is filled from a parent given earlier, through the
    relationship that joins them, as a flush would. A column left unset takes
    its Python default; one without a default is written NULL. Each object's
    collections that were never touched are empty (nothing else can point at a
    row that did not exist), so reading them needs no query. Invoices and
    payments are counted in the running totals like flushed ones
    (``shared.models.rollups``). A constraint the database refuses raises
    ``IntegrityError`` as a flush would, and nothing of the call is kept in
    the session.
    """
    session = plain_session(session)
    connection = session.connection()
    groups: dict[Any, list[Any]] = {}
    for obj in objects:
        state = inspect(obj)
        if not state.transient:
            raise ValueError(f"{obj!r} is not new: insert_new writes only objects no session has seen")
        groups.setdefault(state.mapper, []).append(obj)
    for mapper, group in groups.items():
        table = mapper.local_table
        (key,) = mapper.primary_key
        for obj in group:
            _fill_foreign_keys(obj)
        columns = _columns(mapper)
        rows = [_row(columns, obj) for obj in group]
        statement = _STATEMENTS.get(table)
        if statement is None:
            statement = _STATEMENTS[table] = prepared(insert(table).returning(key, sort_by_parameter_order=True))
        if len(rows) == 1:
            ids = [connection.execute(statement, rows[0]).scalar_one()]
        elif connection.dialect.name == "postgresql" and len(rows) <= _PREPARED_ROWS:
            ids = _insert_rows(connection, table, key, rows)
        else:
            ids = connection.execute(statement, rows).scalars().all()
        key_name = mapper.get_property_by_column(key).key
        for obj, row, new_id in zip(group, rows, ids, strict=True):
            values = inspect(obj).dict
            for column, name in columns:  # defaults included: the object holds what the row holds
                values[name] = row[column.key]
            values[key_name] = new_id
    for obj in objects:
        state = inspect(obj)
        for name in _collections(state.mapper):
            if name not in state.dict:
                set_committed_value(obj, name, [])
        make_transient_to_detached(obj)
    for obj in objects:
        if inspect(obj).session_id is None:  # not yet brought in by an earlier one's cascade (an invoice's lines)
            session.add(obj)
    count_new_objects(session, objects)


_PREPARED_ROWS = 20  # more rows (a long invoice) take SQLAlchemy's own multi-row INSERT
_ROWS_STATEMENTS: dict[tuple[Table, int], tuple[str, list[tuple[str, int, str, Any]]]] = {}


def _insert_rows(connection, table: Table, key, rows: list[dict[str, Any]]) -> list[int]:
    """Postgres: ``rows`` in one ``INSERT ... VALUES (...), (...) RETURNING`` key, the keys in the rows' order.

    One statement per table and row count, compiled once and sent prepared,
    where SQLAlchemy's own multi-row INSERT (its "insertmanyvalues", which
    keeps the order with a counter column it sorts by) builds its SQL again
    for every execution: three times the CPU for an invoice's three lines.
    Postgres writes the rows of a ``VALUES`` list in order, each drawing its
    key from the table's sequence as it goes, so the keys in ascending order
    are the rows' (the same property SQLAlchemy's ordering relies on). This
    needs the key to come from an ascending sequence that does not cycle, as
    every table's here does.
    """
    found = _ROWS_STATEMENTS.get((table, len(rows)))
    if found is None:
        names = list(rows[0])
        statement = insert(table).values(
            [{name: bindparam(f"r{n}_{name}", type_=table.c[name].type) for name in names} for n in range(len(rows))]
        )
        compiled = statement.returning(key).compile(dialect=connection.dialect)
        binds = [
            (f"r{n}_{name}", n, name, bind_processor(table.c[name].type, connection.dialect))
            for n in range(len(rows))
            for name in names
        ]
        found = _ROWS_STATEMENTS[(table, len(rows))] = (compiled.string, binds)
    sql, binds = found
    values = {}
    for parameter, n, name, process in binds:
        value = rows[n][name]
        values[parameter] = process(value) if process is not None else value
    result = connection.exec_driver_sql(sql, values, execution_options={OPTION: True})
    return sorted(result.scalars().all())


_COLUMNS: dict[Any, list[tuple[Any, str]]] = {}


def _columns(mapper) -> list[tuple[Any, str]]:
    """The columns an INSERT writes (all but a generated key), each with its attribute's name."""
    columns = _COLUMNS.get(mapper)
    if columns is None:
        columns = _COLUMNS[mapper] = [
            (column, mapper.get_property_by_column(column).key)
            for column in mapper.local_table.c
            if not (column.primary_key and column.autoincrement in (True, "auto"))
        ]
    return columns


def _row(columns: list[tuple[Any, str]], obj: Any) -> dict[str, Any]:
    """The INSERT's values by column key, a column not set taking its Python default."""
    values = inspect(obj).dict
    row = {}
    for column, name in columns:
        value = values.get(name)
        if value is None and column.default is not None:
            value = python_default(column)
        row[column.key] = value
    return row


def _fill_foreign_keys(obj: Any) -> None:
    """Set ``obj``'s foreign keys from the related objects it holds (inserted before it), as a flush would."""
    state = inspect(obj)
    for relationship, pairs in _many_to_one(state.mapper):
        related = state.dict.get(relationship)
        if related is None:
            continue
        related_state = inspect(related)
        for local, remote, index in pairs:
            value = related_state.dict.get(remote)
            if value is None and index is not None and related_state.has_identity:
                value = related_state.identity[index]  # a persistent object whose attributes expired
            if value is None:
                raise ValueError(f"{obj!r} refers to {related!r}, which has no {remote} yet: insert it first")
            state.dict[local] = value


_MANY_TO_ONE: dict[Any, list] = {}
_COLLECTIONS: dict[Any, list[str]] = {}


def _many_to_one(mapper) -> list[tuple[str, list[tuple[str, str, int | None]]]]:
    """Per many-to-one relationship: its name and (local key, remote key, remote's place in the identity)."""
    found = _MANY_TO_ONE.get(mapper)
    if found is None:
        found = []
        for relationship in mapper.relationships:
            if relationship.direction is not RelationshipDirection.MANYTOONE or relationship.viewonly:
                continue
            remote_mapper = relationship.mapper
            keys = list(remote_mapper.primary_key)
            pairs = [
                (
                    mapper.get_property_by_column(local).key,
                    remote_mapper.get_property_by_column(remote).key,
                    keys.index(remote) if remote in keys else None,
                )
                for local, remote in relationship.local_remote_pairs
            ]
            found.append((relationship.key, pairs))
        _MANY_TO_ONE[mapper] = found
    return found


def _collections(mapper) -> list[str]:
    """The mapper's writable collections (one-to-many, many-to-many)."""
    found = _COLLECTIONS.get(mapper)
    if found is None:
        found = _COLLECTIONS[mapper] = [r.key for r in mapper.relationships if r.uselist and not r.viewonly]
    return found
