"""Emptying a test database between tests: the one way, for the conftest and the fault suite.

On Postgres, ``TRUNCATE`` of fifteen tables costs about half a second (it makes
new files for every table and syncs them); ``DELETE`` of the few rows a test
leaves costs milliseconds. The rows go children first, in one round trip, and
every sequence starts again at 1, as ``TRUNCATE ... RESTART IDENTITY`` did.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from shared.db import db


def all_tables(keep: Iterable[str] = ()) -> list[str]:
    """Every table, children before parents, without the ``keep`` ones."""
    kept = set(keep)
    return [t.name for t in reversed(db.metadata.sorted_tables) if t.name not in kept]


def empty_tables(conn: sa.Connection, tables: list[str]) -> None:
    """Delete every row of ``tables`` (children first) and restart their id sequences."""
    if conn.dialect.name == "postgresql":
        deletes = "; ".join(f"DELETE FROM {name}" for name in tables)
        restart = (
            "SELECT setval(pg_get_serial_sequence(c.relname, a.attname), 1, false)"
            " FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid"
            " WHERE c.relkind = 'r' AND c.relname = ANY(%(tables)s) AND a.attnum > 0 AND NOT a.attisdropped"
            " AND pg_get_serial_sequence(c.relname, a.attname) IS NOT NULL"
        )
        conn.exec_driver_sql(deletes)
        conn.exec_driver_sql(restart, {"tables": list(tables)})
    else:
        for name in tables:
            conn.exec_driver_sql(f"DELETE FROM {name}")
