"""Worker processes side by side on Postgres (SPEC §8): SKIP LOCKED claims, LISTEN/NOTIFY, a clean stop."""

from __future__ import annotations

import signal

import pytest
from sqlalchemy import func, select

from shared.models import QueuedMessage
from shared.services import Actor, Notify, send_invoice
from support.delivery import smtp_sink
from support.processes import WorkerProcess, wait_until, worker_env

pytestmark = pytest.mark.slow


@pytest.fixture(params=["postgresql"])
def backend(request) -> str:
    """Concurrent claiming with SKIP LOCKED and NOTIFY wake-ups are Postgres features."""
    return request.param


def smtp_env(database_url: str, port: int, **extra: object) -> dict[str, str]:
    return worker_env(
        database_url, MAIL_BACKEND="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMS_BACKEND="disabled", **extra
    )


def count(session, state: str) -> int:
    session.rollback()
    return session.scalar(select(func.count()).where(QueuedMessage.state == state))


def test_two_workers_send_200_messages_exactly_once(session, database_url, make_invoice):
    invoices = [make_invoice(issue=True) for _ in range(4)]
    session.add_all(
        QueuedMessage(
            kind="invoice", channel="email", recipient=f"client{i}@example.com", invoice_id=invoices[i % 4].id
        )
        for i in range(200)
    )
    session.commit()

    def owners_sending() -> set[str]:
        session.rollback()
        return set(session.scalars(select(QueuedMessage.lease_owner).where(QueuedMessage.state == "sending")))

    with smtp_sink() as sink:
        sink.gate.clear()  # hold every message until both workers hold claims
        env = smtp_env(database_url, sink.port)
        with WorkerProcess(env, "--once") as first, WorkerProcess(env, "--once") as second:
            assert wait_until(lambda: len(owners_sending()) == 2, 60), first.output() + second.output()
            sink.gate.set()
            assert first.wait(120) == 0, first.output()
            assert second.wait(120) == 0, second.output()
        received = sink.message_ids()

    assert count(session, "sent") == 200
    rows = list(session.scalars(select(QueuedMessage)))
    assert len(received) == 200
    assert sorted(received) == sorted(row.message_id for row in rows)  # each row once, none twice
    assert len({row.lease_owner for row in rows}) == 2


def test_a_new_message_wakes_the_worker_and_sigterm_finishes_the_one_in_flight(
    session, database_url, actor, make_invoice
):
    first = make_invoice(issue=True, notify=Notify(email=True))
    with smtp_sink() as sink:
        # An hour between polls: only a NOTIFY can make the second message leave quickly.
        env = smtp_env(database_url, sink.port, WORKER_POLL_SECONDS=3600)
        with WorkerProcess(env) as worker:
            assert worker.wait_for("worker ready", 60), worker.output()
            assert wait_until(lambda: count(session, "sent") == 1, 30), worker.output()

            send_invoice(session, actor=actor, invoice_id=first.id, notify=Notify(email=True))
            assert wait_until(lambda: len(sink.received()) == 2, 30), worker.output()

            sink.gate.clear()
            sink.data_started.clear()
            send_invoice(session, actor=Actor.system("tests"), invoice_id=first.id, notify=Notify(email=True))
            assert wait_until(sink.data_started.is_set, 30), worker.output()
            worker.signal(signal.SIGTERM)
            assert worker.wait_for("received SIGTERM", 30), worker.output()
            sink.gate.set()
            assert worker.wait(60) == 0, worker.output()
            assert "Traceback" not in worker.output()

    assert count(session, "sent") == 3  # the message in flight at SIGTERM was finished and recorded
    assert count(session, "sending") == 0
