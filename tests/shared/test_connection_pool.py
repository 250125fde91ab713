"""Pooled Postgres connections are checked only after a rest (shared.db._ping_when_idle; SPEC §10, §17).

Under load a connection used a moment ago goes straight back to work (no
``SELECT 1`` round trip per request); one that rested is checked first, so a
connection Postgres dropped meanwhile (a restart, an idle timeout) is replaced
before any request sees it.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

import shared.db
from shared.config import engine_options
from shared.db import configure_engine

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def pooled(database_url):
    engine = configure_engine(sa.create_engine(database_url, **engine_options(database_url)))
    yield engine
    engine.dispose()


def drop_the_pooled_connection(pooled, engine) -> None:
    with pooled.connect() as connection:
        pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    with engine.connect() as admin:
        assert admin.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()


def test_a_connection_that_rested_is_checked_and_replaced_if_dead(pooled, engine, monkeypatch, backend):
    monkeypatch.setattr(shared.db, "IDLE_PING_AFTER", 0.0)
    drop_the_pooled_connection(pooled, engine)
    with pooled.connect() as connection:
        assert connection.exec_driver_sql("SELECT 41 + 1").scalar() == 42


def test_a_connection_used_a_moment_ago_is_not_pinged(pooled, engine, monkeypatch, backend):
    monkeypatch.setattr(shared.db, "IDLE_PING_AFTER", 3600.0)
    # Not checked: a connection dropped in that moment fails its one request, and the pool is renewed.
    drop_the_pooled_connection(pooled, engine)
    with pytest.raises(sa.exc.OperationalError), pooled.connect() as connection:
        connection.exec_driver_sql("SELECT 3")
    with pooled.connect() as connection:
        assert connection.exec_driver_sql("SELECT 4").scalar() == 4
