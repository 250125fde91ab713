"""Workers making recurring invoices on Postgres (SPEC §12): each run once, whatever happens to the workers.

Processes only where the point is processes (three started together, one
killed); the rest calls the worker's job in this process.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re

import pytest
from sqlalchemy import func, select, text

from shared.models import Invoice, RecurringInvoice
from shared.services import Actor
from shared.services.recurring import make_due_runs
from support.processes import WorkerProcess, wait_until, worker_env

TODAY = dt.date.today()


@pytest.fixture(params=["postgresql"])
def backend(request) -> str:
    """Several processes taking row locks with SKIP LOCKED: a Postgres matter."""
    return request.param


def env(database_url: str) -> dict[str, str]:
    return worker_env(database_url, MAIL_BACKEND="console", SMS_BACKEND="disabled")


def waiting_on_a_lock(session) -> set[int]:
    """The server processes of this database waiting for a row lock (the workers, held up by the test)."""
    session.rollback()
    return set(
        session.scalars(
            text(
                "SELECT DISTINCT l.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                " WHERE NOT l.granted AND a.datname = current_database()"
            )
        )
    )


class NumberingHeld:
    """Hold the year's invoice counter locked from another connection: every issuer waits inside its run."""

    def __init__(self, engine, year: int) -> None:
        self.connection = engine.connect()
        self.connection.execute(
            text("UPDATE number_counters SET last_value = last_value WHERE series = 'invoice' AND year = :year"),
            {"year": year},
        )

    def release(self) -> None:
        if not self.connection.closed:
            self.connection.rollback()
            self.connection.close()


def sequence(number: str) -> int:
    return int(re.search(r"(\d+)$", number).group(1))


def made(session) -> list[Invoice]:
    session.rollback()
    return list(session.scalars(select(Invoice).where(Invoice.recurring_invoice_id.is_not(None)).order_by(Invoice.id)))


@pytest.mark.slow
def test_three_workers_over_200_due_runs_make_200_invoices_with_consecutive_numbers(
    session, engine, database_url, make_invoice, make_recurring
):
    make_invoice(issue=True)  # the year's counter exists: the test can hold it
    template = make_recurring(start_date=TODAY.isoformat(), mode="issue")
    columns = {c.key: getattr(template, c.key) for c in RecurringInvoice.__table__.columns if c.key != "id"}
    session.add_all(RecurringInvoice(**columns) for _ in range(199))
    session.commit()

    held = NumberingHeld(engine, TODAY.year)
    try:
        with contextlib.ExitStack() as stack:
            workers = [stack.enter_context(WorkerProcess(env(database_url), "--once")) for _ in range(3)]
            # All three are inside a run at once, each holding a different template.
            assert wait_until(lambda: len(waiting_on_a_lock(session)) == 3, 60), [w.output() for w in workers]
            held.release()
            for worker in workers:
                assert worker.wait(120) == 0, worker.output()
    finally:
        held.release()

    invoices = made(session)
    assert len(invoices) == 200
    assert len({i.recurring_invoice_id for i in invoices}) == 200
    assert sorted(sequence(i.number) for i in invoices) == list(range(2, 202))
    assert len({i.created_by for i in invoices}) == 3  # the work was shared


@pytest.mark.slow
def test_a_worker_killed_during_a_run_and_restarted_makes_no_run_twice(
    session, engine, database_url, make_invoice, make_recurring
):
    make_invoice(issue=True)
    template = make_recurring(start_date=TODAY.isoformat(), interval="day", mode="issue")
    held = NumberingHeld(engine, TODAY.year)
    try:
        with WorkerProcess(env(database_url), "--once") as worker:
            pids = wait_until(lambda: waiting_on_a_lock(session), 60)
            assert pids, worker.output()
            worker.kill()  # SIGKILL inside the run: it has locked the template and is taking a number
        # The server ends the dead worker's session (as it does once it notices the closed connection).
        session.execute(
            text("SELECT pg_terminate_backend(pid) FROM unnest(CAST(:pids AS INTEGER[])) AS pid"), {"pids": list(pids)}
        )
        session.commit()

        # pg_terminate_backend only signals: the session still holds the template's lock until it has rolled back.
        def gone() -> bool:
            left = session.scalar(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(CAST(:pids AS INTEGER[]))"),
                {"pids": list(pids)},
            )
            session.commit()
            return left == 0

        assert wait_until(gone, 30)
    finally:
        held.release()
    assert made(session) == []

    # Restarted (the job itself, in this process), then asked again: the run is made, once.
    assert make_due_runs(session, actor=Actor.worker("restarted")) == 1
    assert make_due_runs(session, actor=Actor.worker("restarted")) == 0
    invoices = made(session)
    assert [(i.recurring_invoice_id, i.recurring_run_on) for i in invoices] == [(template.id, TODAY)]
    session.refresh(template)
    assert (template.runs, template.next_run_on) == (1, TODAY + dt.timedelta(days=1))


def test_a_worker_stopped_for_3_periods_makes_the_3_missed_invoices_each_dated_its_period_in_order(
    session, make_recurring
):
    started = TODAY - dt.timedelta(weeks=3)
    template = make_recurring(start_date=started.isoformat(), interval="week", mode="issue", today=started)
    assert make_due_runs(session, actor=Actor.worker("before the stop"), today=started) == 1
    # The worker was stopped for three weeks; it comes back today (the job in this process, as the worker runs it).
    assert make_due_runs(session, actor=Actor.worker("back after three weeks")) == 3
    invoices = made(session)
    expected = [started + dt.timedelta(weeks=n) for n in range(4)]
    assert [i.issue_date for i in invoices] == expected  # in order of id: made oldest first
    assert [i.recurring_run_on for i in invoices] == expected
    assert all(i.recurring_invoice_id == template.id and i.number for i in invoices)
    session.refresh(template)
    assert template.runs == 4 and template.next_run_on == TODAY + dt.timedelta(weeks=1)
    assert session.scalar(select(func.count()).select_from(Invoice)) == 4
