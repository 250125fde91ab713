"""The long-running worker: timers, wake-ups and a clean stop around ``shared.messages.delivery``.

APScheduler is the clock: a drain of the message queue and the webhooks every ``WORKER_POLL_SECONDS``
and a sweep every five minutes (both also once at start) that makes the recurring
invoices' due runs and queues the reminders. On Postgres a
``LISTEN email_queue`` connection wakes the drain as soon as a service commits
a new row, so a message leaves within a second or two instead of waiting for
the next tick. The work itself is in ``shared.messages.delivery`` and ``shared.messages.reminders``.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import select
import socket
import threading
import uuid
from collections.abc import Mapping
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from shared.actors import Actor
from shared.messages.delivery import drain_queue
from shared.messages.queue import NOTIFY_CHANNEL
from shared.messages.reminders import sweep_reminders
from shared.services.recurring import make_due_runs
from shared.webhooks.delivery import drain_webhooks

log = logging.getLogger("background_service")

SWEEP_INTERVAL_SECONDS = 300
LISTEN_RETRY_SECONDS = 5
# APScheduler logs two INFO lines per run of every job; at a 2 s tick that
# drowns the one line per delivery attempt that operators actually read.
logging.getLogger("apscheduler").setLevel(logging.WARNING)


def worker_name() -> str:
    """``worker host:pid:abcd``: who holds a lease, in the queue and the activity log."""
    return f"worker {socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:4]}"


def drain_everything(session: Session, config: Mapping[str, Any], *, owner: str, should_stop=lambda: False):
    """The message queue, then the webhooks (SPEC §15), each until no due row is left; outcomes counted together."""
    outcomes = drain_queue(session, owner=owner, config=config, should_stop=should_stop)
    outcomes.update(
        {
            f"webhook {outcome}": n
            for outcome, n in drain_webhooks(session, owner=owner, config=config, should_stop=should_stop).items()
        }
    )
    return outcomes


def run_once(engine: Engine, config: Mapping[str, Any], *, owner: str, should_stop=lambda: False) -> None:
    """All work due now: the recurring invoices' due runs, the reminder sweep, then the queue and the webhooks until no due row is left."""
    with Session(engine) as session:
        make_due_runs(session, actor=Actor.worker(owner), should_stop=should_stop)
        sweep_reminders(session, sms=config.get("SMS_BACKEND") != "disabled")
        outcomes = drain_everything(session, config, owner=owner, should_stop=should_stop)
    if outcomes:
        log.info("queue drained: %s", ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items())))


class Worker:
    """Runs the drain and sweep on timers until :meth:`stop`; see module docstring."""

    def __init__(self, engine: Engine, config: Mapping[str, Any], *, owner: str | None = None) -> None:
        self.engine = engine
        self.config = config
        self.owner = owner or worker_name()
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._draining = False
        self._wake_pending = False
        self._listener: threading.Thread | None = None
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(2)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=dt.UTC,
        )

    # -- jobs -----------------------------------------------------------------

    def drain(self) -> None:
        with self._lock:
            if self._draining:
                self._wake_pending = True
                return
            self._draining = True
        try:
            while not self.stopping.is_set():
                try:
                    with Session(self.engine) as session:
                        outcomes = drain_everything(
                            session, self.config, owner=self.owner, should_stop=self.stopping.is_set
                        )
                except SQLAlchemyError as exc:
                    log.warning("queue drain stopped by a database error (%s); retrying on the next tick", _brief(exc))
                    return
                if outcomes:
                    log.info("queue drained: %s", ", ".join(f"{n} {o}" for o, n in sorted(outcomes.items())))
                with self._lock:
                    if not self._wake_pending:
                        return
                    self._wake_pending = False
        finally:
            with self._lock:
                self._draining = False

    def sweep(self) -> None:
        """The scheduled work: the recurring invoices' due runs (SPEC §12), then the reminders (SPEC §8)."""
        made = 0
        try:
            with Session(self.engine) as session:
                made = make_due_runs(session, actor=Actor.worker(self.owner), should_stop=self.stopping.is_set)
        except SQLAlchemyError as exc:
            log.warning("recurring invoices stopped by a database error (%s); retrying later", _brief(exc))
        try:
            with Session(self.engine) as session:
                queued = sweep_reminders(session, sms=self.config.get("SMS_BACKEND") != "disabled")
        except SQLAlchemyError as exc:
            log.warning("reminder sweep stopped by a database error (%s); retrying later", _brief(exc))
            return
        if queued or made:
            self.wake()

    def wake(self) -> None:
        """Run the drain now (or right after the one in progress)."""
        with self._lock:
            if self._draining:
                self._wake_pending = True
                return
        if not self.stopping.is_set():
            try:
                self.scheduler.modify_job("drain", next_run_time=dt.datetime.now(dt.UTC))
            except Exception:  # the scheduler is shutting down
                log.debug("could not wake the drain", exc_info=True)

    # -- LISTEN/NOTIFY on Postgres ---------------------------------------------

    def _listen(self, ready: threading.Event) -> None:
        while not self.stopping.is_set():
            connection = None
            try:
                connection = self.engine.raw_connection()
                driver = connection.driver_connection
                driver.autocommit = True
                with driver.cursor() as cursor:
                    cursor.execute(f"LISTEN {NOTIFY_CHANNEL}")
                ready.set()
                while not self.stopping.is_set():
                    if select.select([driver], [], [], 1.0) == ([], [], []):
                        continue
                    driver.poll()
                    if driver.notifies:
                        driver.notifies.clear()
                        self.wake()
            except Exception as exc:
                ready.set()
                log.warning("LISTEN %s failed (%s); polling meanwhile", NOTIFY_CHANNEL, _brief(exc))
                self.stopping.wait(LISTEN_RETRY_SECONDS)
            finally:
                if connection is not None:
                    connection.invalidate()  # a listening connection never goes back to the pool

    # -- life cycle -------------------------------------------------------------

    def start(self) -> None:
        if self.engine.dialect.name == "postgresql":
            ready = threading.Event()
            self._listener = threading.Thread(target=self._listen, args=(ready,), name="listen", daemon=True)
            self._listener.start()
            ready.wait(10)
        now = dt.datetime.now(dt.UTC)
        poll = int(self.config.get("WORKER_POLL_SECONDS") or 2)
        self.scheduler.add_job(self.drain, "interval", seconds=poll, id="drain", next_run_time=now)
        self.scheduler.add_job(self.sweep, "interval", seconds=SWEEP_INTERVAL_SECONDS, id="sweep", next_run_time=now)
        self.scheduler.start()

    def stop(self) -> None:
        """Finish the message in flight, hand back unstarted claims, stop the timers."""
        self.stopping.set()
        self.scheduler.shutdown(wait=True)
        if self._listener is not None:
            self._listener.join(timeout=5)


def _brief(exc: BaseException) -> str:
    """One line about a database error, without the SQL or connection string."""
    origin = getattr(exc, "orig", None) or exc
    text = " ".join(str(origin).split())[:200]
    return f"{type(origin).__name__}: {text}" if text else type(origin).__name__
