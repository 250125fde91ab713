"""Statements sent prepared on Postgres (shared.prepared, SPEC §17).

A statement marked ``prepared`` goes as text the first time a connection
meets it, is PREPAREd when the connection goes back to the pool (outside
any transaction) and is sent as ``EXECUTE`` from then on: the same rows and
results as text, one plan per connection, the statement's own SQL for every
event listener, and no lock taken earlier than the text would take it.
"""

from __future__ import annotations

import threading
import time
import uuid
from decimal import Decimal

import psycopg2.extensions
import pytest
import sqlalchemy as sa
from sqlalchemy import bindparam, event, select, text

from shared import prepared as prepared_module
from shared.db import configure_engine
from shared.models import Client
from shared.prepared import OPTION, prepared

pytestmark = pytest.mark.backends("postgresql")


@pytest.fixture
def wire(engine):
    """What psycopg2 is asked to send, statement by statement (after the do_execute hook)."""
    sent: list[str] = []

    class Spy(psycopg2.extensions.cursor):
        def execute(self, statement, parameters=None):
            sent.append(statement)
            return super().execute(statement, parameters)

    def on_connect(dbapi_connection, _record):
        dbapi_connection.cursor_factory = Spy

    engine.dispose()  # new connections, each watched from its first statement
    event.listen(engine, "connect", on_connect)
    yield sent
    event.remove(engine, "connect", on_connect)
    engine.dispose()


def held(connection) -> list[str]:
    """The statements prepared on this connection (their names)."""
    return connection.exec_driver_sql("SELECT name FROM pg_prepared_statements ORDER BY name").scalars().all()


def name_of(statement, engine) -> str:
    """The name ``statement`` is prepared under (the same on every connection of the process)."""
    return prepared_module._STATEMENTS[str(statement.compile(dialect=engine.dialect))].name


_BY_NAME = prepared(select(Client.id, Client.name).where(Client.name == bindparam("wanted")))
_PLAIN = select(Client.id, Client.name).where(Client.name == bindparam("wanted"))


def test_a_marked_statement_is_prepared_once_per_connection_and_executed_after(engine, make_client, session, wire):
    client = make_client(name="Prepared Ltd")
    session.commit()
    wire.clear()
    seen: list[str] = []

    def listener(_conn, _cursor, statement, _params, _context, _many):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        with engine.connect() as connection:  # met for the first time: text
            rows = [connection.execute(_BY_NAME, {"wanted": "Prepared Ltd"}).all()]
        with engine.connect() as connection:  # prepared when it went back to the pool
            rows += [connection.execute(_BY_NAME, {"wanted": "Prepared Ltd"}).all() for _ in range(3)]
            names = held(connection)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert rows == [[(client.id, "Prepared Ltd")]] * 4
    mine = [s for s in wire if "WHERE clients.name" in s or s.startswith("EXECUTE")]
    assert len(mine) == 5, wire
    text_form, prepare, *executes = mine
    assert text_form.startswith("SELECT clients.id") and text_form.endswith("WHERE clients.name = %(wanted)s")
    name = executes[0].split()[1].split("(")[0]
    # At checkin, in a short transaction of its own that waits for no lock long.
    assert prepare == (
        f"BEGIN; SET LOCAL lock_timeout = '50ms'; PREPARE {name} AS "
        + text_form.replace("%(wanted)s", "$1")
        + "; COMMIT"
    )
    assert name in names
    assert executes == [f"EXECUTE {name}(%(wanted)s)"] * 3
    # Listeners see the statement's own SQL, not the EXECUTE that carried it.
    assert [s for s in seen if s.startswith("SELECT clients.id")] == [text_form] * 4, seen


def test_the_first_use_takes_its_locks_in_the_statements_order_not_earlier(engine):
    """A statement met inside a transaction is not prepared there: analysing it would lock its table first.

    The bulk loader takes the running totals' table lock while holding the
    counter; a request that locked that table (by preparing the trailing
    statement) before its counter deadlocked against it. Here: another
    session holds a table lock; the marked message first updates a row of one
    table, then writes the locked table. The row must be locked (the first
    statement ran) while the message waits for the table.
    """
    with engine.begin() as setup:
        setup.exec_driver_sql("CREATE TABLE IF NOT EXISTS prepared_first (id int PRIMARY KEY, n int)")
        setup.exec_driver_sql("CREATE TABLE IF NOT EXISTS prepared_second (n int)")
        setup.exec_driver_sql("INSERT INTO prepared_first VALUES (1, 0) ON CONFLICT DO NOTHING")
    first = "UPDATE prepared_first SET n = n + %(step)s WHERE id = 1"
    second = "INSERT INTO prepared_second (n) VALUES (%(step)s)"
    engine.dispose()  # a connection that has prepared nothing
    holder = engine.connect()
    failures: list[BaseException] = []
    try:
        holder.exec_driver_sql("LOCK TABLE prepared_second IN EXCLUSIVE MODE")

        def message() -> None:
            try:
                with engine.begin() as connection:
                    parts = (first, second)
                    connection.exec_driver_sql(";\n".join(parts), {"step": 1}, execution_options={OPTION: parts})
            except BaseException as exc:  # noqa: BLE001 (reported below)
                failures.append(exc)

        writer = threading.Thread(target=message)
        writer.start()
        deadline = time.monotonic() + 10
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as watcher:
            while time.monotonic() < deadline:  # each query its own snapshot of pg_stat_activity
                waiting = watcher.exec_driver_sql(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock' AND position('prepared_second' in query) > 0"
                ).scalar()
                if waiting:
                    break
                time.sleep(0.02)
        assert waiting, "the message never waited for the locked table"
        with pytest.raises(sa.exc.OperationalError, match="could not obtain lock"):
            holder.exec_driver_sql("SELECT id FROM prepared_first WHERE id = 1 FOR UPDATE NOWAIT")
    finally:
        holder.rollback()
        holder.close()
        writer.join(10)
        with engine.begin() as cleanup:
            cleanup.exec_driver_sql("DROP TABLE IF EXISTS prepared_first, prepared_second")
    assert failures == []


def test_the_result_equals_the_statement_sent_as_text(engine, make_client, session):
    make_client(name="Same Answer")
    make_client(name="Other")
    session.commit()
    with engine.connect() as connection:
        assert (
            connection.execute(_BY_NAME, {"wanted": "Same Answer"}).all()
            == connection.execute(_PLAIN, {"wanted": "Same Answer"}).all()
        )
        assert connection.execute(_BY_NAME, {"wanted": "nobody"}).all() == []


def test_values_keep_their_meaning_numbers_nulls_and_percent_signs(engine):
    statement = prepared(
        text(
            "SELECT CAST(:amount AS NUMERIC(20, 4)) * 2, COALESCE(CAST(:maybe AS TEXT), 'none'),"
            " 'a%b' LIKE 'a%', CAST(:amount AS NUMERIC(20, 4)) + 1"
        )
    )
    with engine.connect() as connection:
        for _ in range(2):
            row = connection.execute(statement, {"amount": Decimal("1.2345"), "maybe": None}).one()
            assert row == (Decimal("2.4690"), "none", True, Decimal("2.2345"))
        row = connection.execute(statement, {"amount": Decimal("0.0001"), "maybe": "x"}).one()
        assert row == (Decimal("0.0002"), "x", True, Decimal("1.0001"))


def test_a_statement_postgres_cannot_prepare_is_sent_as_text(engine, wire):
    # The type of :value cannot be inferred (IS NULL takes any type): its PREPARE fails once, at checkin.
    sql = f"SELECT :value IS NULL AS unpreparable_{uuid.uuid4().hex}"  # new to this process whenever it runs
    statement = prepared(text(sql))
    wire.clear()
    for _ in range(3):
        with engine.begin() as connection:
            assert connection.execute(statement, {"value": None}).scalar() is True
            assert connection.execute(statement, {"value": "x"}).scalar() is False
    assert sum("PREPARE" in s for s in wire) == 1  # tried once, then always text
    as_text = sql.replace(":value", "%(value)s")
    assert [s for s in wire if s == as_text] == [as_text] * 6
    with engine.connect() as connection:
        assert held(connection) == []


def test_a_prepared_statement_outlives_a_rollback(engine, make_client, session, wire):
    make_client(name="After Rollback")
    session.commit()
    with engine.connect() as connection:
        assert connection.execute(_BY_NAME, {"wanted": "After Rollback"}).one()
    wire.clear()
    with engine.connect() as connection:
        assert connection.execute(_BY_NAME, {"wanted": "After Rollback"}).one()
        connection.rollback()
        assert connection.execute(_BY_NAME, {"wanted": "After Rollback"}).one()
        with pytest.raises(sa.exc.ProgrammingError):
            connection.exec_driver_sql("SELECT no_such_column FROM clients")
        connection.rollback()  # the failed transaction ends; the prepared statement stays
        assert connection.execute(_BY_NAME, {"wanted": "After Rollback"}).one()
    assert sum(s.startswith("EXECUTE") for s in wire) == 3, wire


def test_a_new_connection_prepares_again(engine, make_client, session):
    make_client(name="Reconnected")
    session.commit()
    with engine.connect() as connection:
        assert connection.execute(_BY_NAME, {"wanted": "Reconnected"}).one()
    name = name_of(_BY_NAME, engine)
    with engine.connect() as connection:
        assert name in held(connection)
        connection.invalidate()  # the server session (and what it prepared) is gone
    with engine.connect() as connection:
        assert held(connection) == []
        assert connection.execute(_BY_NAME, {"wanted": "Reconnected"}).one()  # text again
    with engine.connect() as connection:
        assert name in held(connection)
        assert connection.execute(_BY_NAME, {"wanted": "Reconnected"}).one()


def test_the_setting_off_sends_everything_as_text(database_url, make_client, session):
    make_client(name="Plain Text")
    session.commit()
    engine = configure_engine(sa.create_engine(database_url), prepared_statements=False)
    try:
        with engine.connect() as connection:
            assert connection.execute(_BY_NAME, {"wanted": "Plain Text"}).one()
            assert held(connection) == []
    finally:
        engine.dispose()


def test_threads_meeting_new_statements_at_once_get_their_own_answers_and_one_name_per_statement(engine):
    statements = [prepared(text(f"SELECT CAST(:n AS INTEGER) + {k}")) for k in range(20)]
    answers: list[tuple[int, int]] = []
    failures: list[BaseException] = []
    start = threading.Barrier(4)

    def work() -> None:
        try:
            start.wait()
            with engine.connect() as connection:
                for k, statement in enumerate(statements):
                    answers.append((k, connection.execute(statement, {"n": 100}).scalar()))
        except BaseException as exc:  # noqa: BLE001 (reported below)
            failures.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sorted(answers) == sorted((k, 100 + k) for k in range(20) for _ in range(4))
    names = {name_of(statement, engine) for statement in statements}
    assert len(names) == 20


def test_a_migration_that_changes_a_result_replaces_the_connections_once(engine):
    """Postgres refuses a prepared statement whose result type a migration changed, on every connection.

    The request that meets it fails; its connection, and the pool's others,
    are replaced, and the next requests prepare afresh against the new table.
    """
    with engine.begin() as setup:
        setup.exec_driver_sql("DROP TABLE IF EXISTS prepared_migrated")
        setup.exec_driver_sql("CREATE TABLE prepared_migrated (id int PRIMARY KEY, label varchar(10))")
        setup.exec_driver_sql("INSERT INTO prepared_migrated VALUES (1, 'before')")
    statement = prepared(text("SELECT label FROM prepared_migrated WHERE id = :id"))
    engine.dispose()  # one pooled connection, used in turn
    try:
        for _ in range(2):  # text, then prepared at checkin
            with engine.connect() as connection:
                assert connection.execute(statement, {"id": 1}).scalar() == "before"
        with engine.connect() as connection:
            assert name_of(statement, engine) in held(connection)
        with engine.begin() as migration:
            migration.exec_driver_sql("ALTER TABLE prepared_migrated ALTER COLUMN label TYPE varchar(20)")
        with pytest.raises(sa.exc.DBAPIError) as failed, engine.connect() as connection:
            connection.execute(statement, {"id": 1})
        assert failed.value.connection_invalidated
        for _ in range(3):  # a new connection: text, then prepared again, against the new table
            with engine.connect() as connection:
                assert connection.execute(statement, {"id": 1}).scalar() == "before"
    finally:
        with engine.begin() as cleanup:
            cleanup.exec_driver_sql("DROP TABLE IF EXISTS prepared_migrated")


def test_a_prepare_waits_for_no_lock_long_at_checkin(engine):
    """A table locked by someone else (a bulk load, a migration): the statement stays text for now."""
    with engine.begin() as setup:
        setup.exec_driver_sql("CREATE TABLE IF NOT EXISTS prepared_locked (n int)")
    statement = prepared(text("INSERT INTO prepared_locked (n) VALUES (:n)"))
    engine.dispose()
    holder = engine.connect()
    try:
        with engine.connect() as connection:
            connection.execute(statement, {"n": 1})  # as text: the PREPARE waits for the checkin
            connection.commit()
            holder.exec_driver_sql("LOCK TABLE prepared_locked IN ACCESS EXCLUSIVE MODE")
            started = time.monotonic()
        assert time.monotonic() - started < 5  # the checkin gave up on the lock
        holder.rollback()
        with engine.connect() as connection:
            assert name_of(statement, engine) not in held(connection)  # left for a later checkin
            connection.execute(statement, {"n": 2})
            connection.commit()
        with engine.connect() as connection:
            assert name_of(statement, engine) in held(connection)
    finally:
        holder.rollback()
        holder.close()
        with engine.begin() as cleanup:
            cleanup.exec_driver_sql("DROP TABLE IF EXISTS prepared_locked")
