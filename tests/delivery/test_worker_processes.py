"""``python -m background_service`` as a process (SPEC §4, §8): --once, crashes, a clean stop."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from shared.models import Activity, QueuedMessage
from support import ROOT
from support.delivery import smtp_sink
from support.processes import WorkerProcess, wait_until, worker_env

pytestmark = pytest.mark.slow


def run_once(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "background_service", "--once"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def smtp_env(database_url: str, port: int, **extra: object) -> dict[str, str]:
    return worker_env(
        database_url,
        MAIL_BACKEND="smtp",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=port,
        SMS_BACKEND="disabled",
        WORKER_POLL_SECONDS=1,
        **extra,
    )


def test_once_sends_an_overdue_invoice_one_reminder_and_a_second_run_nothing(session, database_url, make_invoice):
    today = dt.date.today()
    invoice = make_invoice(
        issue=True,
        issue_date=(today - dt.timedelta(days=40)).isoformat(),
        due_date=(today - dt.timedelta(days=10)).isoformat(),
    )
    with smtp_sink() as sink:
        env = smtp_env(database_url, sink.port)
        first = run_once(env)
        assert first.returncode == 0, first.stderr
        assert "Traceback" not in first.stderr
        (message,) = sink.received()
        second = run_once(env)
        assert second.returncode == 0, second.stderr
        assert len(sink.received()) == 1, "the second run sent something"

    assert message["Subject"] == f"Overdue: invoice {invoice.number} was due on {invoice.due_date.day} " + (
        f"{invoice.due_date:%b %Y}"
    )
    assert message["To"].addresses[0].addr_spec == invoice.client.email
    row = session.scalars(select(QueuedMessage).where(QueuedMessage.invoice_id == invoice.id)).one()
    assert (row.kind, row.reminder_stage, row.state) == ("reminder", 4, "sent")  # 10 days after due: stage 4
    assert row.message_id == message["Message-ID"]
    verbs = session.scalars(select(Activity.verb).where(Activity.invoice_id == invoice.id)).all()
    assert verbs.count("reminder_sent") == 1


def test_once_with_an_unreachable_database_says_so_in_one_line():
    result = run_once(worker_env("postgresql://postgres@127.0.0.1:9/nowhere"))
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "database" in lines[0] and "Traceback" not in result.stderr


def test_a_killed_worker_loses_nothing(session, database_url, make_invoice):
    """SIGKILL in the middle of a batch: once its lease expires another worker sends the rest."""
    invoices = [make_invoice(issue=True) for _ in range(2)]
    session.add_all(
        QueuedMessage(
            kind="invoice", channel="email", recipient=f"client{i}@example.com", invoice_id=invoices[i % 2].id
        )
        for i in range(20)
    )
    session.commit()
    ids = session.scalars(select(QueuedMessage.id).order_by(QueuedMessage.id)).all()

    def sent() -> int:
        session.rollback()
        return session.scalar(select(func.count()).where(QueuedMessage.state == "sent"))

    def leased() -> dict[int, str]:
        session.rollback()
        found = session.execute(
            select(QueuedMessage.id, QueuedMessage.lease_owner).where(QueuedMessage.state == "sending")
        )
        return dict(found.all())

    with smtp_sink() as sink:
        sink.gate.clear()  # every DATA waits: the first worker will be caught mid-send
        env = smtp_env(database_url, sink.port, WORKER_LEASE_SECONDS=5)
        with WorkerProcess(env) as doomed:
            assert wait_until(lambda: sink.data_started.is_set() and len(leased()) == 10, 60), doomed.output()
            in_flight = leased()
            doomed.kill()
        sink.gate.set()
        (doomed_owner,) = set(in_flight.values())

        with WorkerProcess(env) as rescuer:
            assert rescuer.wait_for("worker ready", 60), rescuer.output()
            assert wait_until(lambda: sent() == len(ids), 60), rescuer.output()
            rescuer.signal(signal.SIGTERM)
            assert rescuer.wait(30) == 0, rescuer.output()
            assert "Traceback" not in rescuer.output()
        received = sink.message_ids()

    rows = {row.id: row for row in session.scalars(select(QueuedMessage))}
    for row_id in ids:
        assert sum(mid == rows[row_id].message_id for mid in received) >= 1, f"row {row_id} was lost"
    # At most the one message in flight at the kill went out twice, with the same Message-ID.
    assert len(received) - len(set(received)) <= 1
    for row_id in in_flight:
        assert rows[row_id].lease_owner != doomed_owner and rows[row_id].attempts == 2
