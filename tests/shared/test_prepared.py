"""Statements sent prepared on Postgres (shared.prepared, SPEC §17).

A statement marked ``prepared`` is PREPAREd once per connection and sent as
``EXECUTE``: the same rows and results as text, one plan per connection, and
the statement's own SQL for every event listener.
"""

from __future__ import annotations

import threading
from decimal import Decimal

import psycopg2.extensions
import pytest
import sqlalchemy as sa
from sqlalchemy import bindparam, event, select, text

from shared import prepared as prepared_module
from shared.db import configure_engine
from shared.models import Client
from shared.prepared import prepared

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
        with engine.connect() as connection:
            rows = [connection.execute(_BY_NAME, {"wanted": "Prepared Ltd"}).all() for _ in range(3)]
            names = held(connection)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert rows == [[(client.id, "Prepared Ltd")]] * 3
    prepares = [s for s in wire if "PREPARE" in s]
    executes = [s for s in wire if s.startswith("EXECUTE")]
    assert len(prepares) == 1 and len(executes) == 3, wire
    name = executes[0].split()[1].split("(")[0]
    assert name in names
    assert executes == [f"EXECUTE {name}(%(wanted)s)"] * 3
    # Listeners see the statement's own SQL, not the EXECUTE that carried it.
    assert all(s.startswith("SELECT clients.id") for s in seen[:3]), seen


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


def test_a_statement_postgres_cannot_prepare_is_sent_as_text_and_the_transaction_goes_on(engine, wire):
    # The type of :value cannot be inferred (IS NULL takes any type): PREPARE fails inside its savepoint.
    statement = prepared(text("SELECT :value IS NULL"))
    wire.clear()
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TEMPORARY TABLE kept (x int) ON COMMIT DROP")
        connection.exec_driver_sql("INSERT INTO kept VALUES (1)")
        assert connection.execute(statement, {"value": None}).scalar() is True
        assert connection.execute(statement, {"value": "x"}).scalar() is False
        assert connection.exec_driver_sql("SELECT count(*) FROM kept").scalar() == 1  # nothing rolled back
    assert sum("PREPARE" in s for s in wire) == 1  # tried once, then always text
    assert [s for s in wire if s.startswith("SELECT %(value)s IS NULL")] == ["SELECT %(value)s IS NULL"] * 2


def test_a_prepared_statement_outlives_a_rollback(engine, make_client, session):
    make_client(name="After Rollback")
    session.commit()
    with engine.connect() as connection:
        assert connection.execute(_BY_NAME, {"wanted": "After Rollback"}).one()
        connection.rollback()
        assert connection.execute(_BY_NAME, {"wanted": "After Rollback"}).one()
        with pytest.raises(sa.exc.ProgrammingError):
            connection.exec_driver_sql("SELECT no_such_column FROM clients")
        connection.rollback()  # the failed transaction ends; the prepared statement stays
        assert connection.execute(_BY_NAME, {"wanted": "After Rollback"}).one()


def test_a_new_connection_prepares_again(engine, make_client, session):
    make_client(name="Reconnected")
    session.commit()
    with engine.connect() as connection:
        assert connection.execute(_BY_NAME, {"wanted": "Reconnected"}).one()
        connection.invalidate()  # the server session (and what it prepared) is gone
    with engine.connect() as connection:
        assert held(connection) == []
        assert connection.execute(_BY_NAME, {"wanted": "Reconnected"}).one()
        assert len(held(connection)) == 1


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


def test_threads_meeting_new_statements_at_once_get_one_name_each(engine):
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
    names = {prepared_module._STATEMENTS[str(s.compile(dialect=engine.dialect))].name for s in statements}
    assert len(names) == 20
