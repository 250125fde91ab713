"""The worker against faults (SPEC §8, §10): the SMTP server goes away, workers are SIGKILLed mid-drain.

Both run real worker processes against a throwaway Postgres database and an
aiosmtpd sink on 127.0.0.1; Message-IDs are counted at the sink.
"""

from __future__ import annotations

import asyncio
import collections
import random
import time

import pytest
from sqlalchemy import func, select

from shared.models import QueuedMessage
from support.delivery import SmtpSink
from support.figures import count
from support.processes import WorkerProcess, wait_until, worker_env

pytestmark = pytest.mark.slow


@pytest.fixture(params=["postgresql"])
def backend(request) -> str:
    """Several workers side by side need Postgres's SKIP LOCKED claims."""
    return request.param


class SlowSink(SmtpSink):
    """A sink that takes ``delay`` seconds per message, so a drain lasts long enough to be hurt."""

    delay = 0.0

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)


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


def queue_messages(session, invoices, n: int) -> None:
    rows = [
        QueuedMessage(
            kind="invoice", channel="email", recipient=f"client{i}@example.com", invoice_id=invoices[i % 4].id
        )
        for i in range(n)
    ]
    session.add_all(rows)
    session.commit()
    count("messages queued", n)


def message_ids_by_row(session) -> dict[int, str]:
    """Each row's Message-ID (set when it is first built for sending)."""
    session.rollback()
    return dict(session.execute(select(QueuedMessage.id, QueuedMessage.message_id)).all())


def states(session) -> dict[str, int]:
    session.rollback()
    return dict(session.execute(select(QueuedMessage.state, func.count()).group_by(QueuedMessage.state)).all())


def sending_rows(session) -> set[int]:
    session.rollback()
    return set(session.scalars(select(QueuedMessage.id).where(QueuedMessage.state == "sending")))


def test_smtp_server_stops_mid_drain_and_comes_back(session, database_url, make_invoice):
    invoices = [make_invoice(issue=True) for _ in range(4)]
    queue_messages(session, invoices, 60)

    first = SlowSink()
    first.delay = 0.02
    first.start()
    port = first.port
    env = smtp_env(database_url, port)
    with WorkerProcess(env) as worker:
        assert wait_until(lambda: len(first.received()) >= 15, 60), worker.output()
        first.stop()  # mid-drain: connections refused from now on
        count("faults injected")
        assert wait_until(lambda: states(session).get("queued", 0) > 0 and sending_rows(session) == set(), 20)
        time.sleep(2)
        second = SmtpSink(port).start()
        try:
            # Rows that met the outage retry after the first backoff (about 30 s, less jitter).
            assert wait_until(lambda: states(session) == {"sent": 60}, 75, interval=0.5), (
                states(session),
                worker.output(),
            )
        finally:
            second.stop()
        assert "Traceback" not in worker.output()

    expected = list(message_ids_by_row(session).values())
    assert None not in expected
    received = first.message_ids() + second.message_ids()
    counts = collections.Counter(received)
    count("messages delivered", len(counts))
    count("duplicates", sum(n - 1 for n in counts.values()))
    count("messages lost", len(set(expected) - set(counts)))
    assert sorted(counts) == sorted(expected)  # every message arrived ...
    assert max(counts.values()) == 1  # ... exactly once
    assert second.received(), "nothing was left for the second server: the outage hit no message"


def test_ten_sigkills_during_a_1000_message_drain_with_two_workers(session, database_url, make_invoice):
    invoices = [make_invoice(issue=True) for _ in range(4)]
    queue_messages(session, invoices, 1000)
    rng = random.Random(8)
    in_flight_at_kill: set[int] = set()  # row ids
    kills = 0

    sink = SlowSink()
    sink.delay = 0.015
    with _started(sink):
        env = smtp_env(database_url, sink.port, WORKER_LEASE_SECONDS=5, WORKER_MAX_ATTEMPTS=20)
        workers = [WorkerProcess(env), WorkerProcess(env)]
        try:
            assert wait_until(lambda: len(sink.received()) >= 20, 60), workers[0].output()
            while kills < 10:
                time.sleep(rng.uniform(0.4, 1.0))
                victim = rng.randrange(2)
                workers[victim].__exit__(None, None, None)  # SIGKILL to its process group, pipe closed
                kills += 1
                count("faults injected")
                in_flight_at_kill |= sending_rows(session)
                assert states(session).get("queued", 0) > 0 or kills == 10, "the drain ended before ten kills"
                workers[victim] = WorkerProcess(env)
            # Lost rows would stay behind; rows of dead workers come back when their 5 s lease ends.
            assert wait_until(lambda: states(session) == {"sent": 1000}, 120, interval=0.5), states(session)
        finally:
            for worker in workers:
                worker.__exit__(None, None, None)

    by_row = message_ids_by_row(session)
    expected = set(by_row.values())
    counts = collections.Counter(sink.message_ids())
    duplicates = {mid for mid, n in counts.items() if n > 1}
    in_flight_ids = {by_row[row_id] for row_id in in_flight_at_kill}
    count("messages delivered", len(counts))
    count("duplicates", sum(n - 1 for n in counts.values()))
    count("duplicates in flight at a kill", len(duplicates & in_flight_ids))
    count("messages lost", len(set(expected) - set(counts)))
    assert kills == 10
    assert set(counts) == set(expected), "a message was lost (or an unknown one sent)"
    assert duplicates <= in_flight_ids, (
        duplicates - in_flight_ids
    )  # each duplicate: same Message-ID, in flight at a kill


class _started:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    def __enter__(self):
        self.sink.start()
        return self.sink

    def __exit__(self, *exc):
        self.sink.stop()
