"""``python -m background_service [--once]``: the worker process (SPEC §4, §8).

Delivers the ``email_queue`` (PDF, e-mail, SMS) and queues payment reminders
until SIGTERM or SIGINT, then finishes the message in flight and exits 0.
``--once`` does the work due now and exits: 0 when it did its part (even if
some messages had to be retried or failed), 1 when it could not work at all.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from shared.models.enums import MessageState

log = logging.getLogger("background_service")

NOT_READY = "error: the database is not reachable or not migrated; run: flask --app main_service db upgrade"


def queue_depth(session: Session) -> int:
    from shared.models import QueuedMessage

    return session.scalar(select(func.count()).where(QueuedMessage.state == MessageState.QUEUED)) or 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m background_service", description=__doc__.splitlines()[0])
    parser.add_argument("--once", action="store_true", help="do the work due now and exit")
    args = parser.parse_args(argv)

    from background_service import create_app
    from background_service.worker import Worker, run_once, worker_name

    app = create_app()
    stop = threading.Event()

    def request_stop(signum, _frame):
        log.info("received %s; finishing the message in flight, then stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    with app.app_context():
        from shared.db import db

        engine = db.engine
    config = dict(app.config)
    owner = worker_name()
    try:
        with Session(engine) as session:
            waiting = queue_depth(session)
    except SQLAlchemyError:
        print(NOT_READY, file=sys.stderr)
        return 1

    if args.once:
        log.info("worker ready (%s, once); %d message(s) queued", owner, waiting)
        try:
            run_once(engine, config, owner=owner, should_stop=stop.is_set)
        except SQLAlchemyError as exc:
            print(
                f"error: the database failed during the run ({type(exc).__name__}); queued work waits for the next run",
                file=sys.stderr,
            )
            return 1
        finally:
            engine.dispose()
        return 0

    worker = Worker(engine, config, owner=owner)
    worker.start()
    log.info(
        "worker ready (%s); %d message(s) queued; mail via %s, SMS via %s",
        owner,
        waiting,
        config["MAIL_BACKEND"],
        config["SMS_BACKEND"],
    )
    while not stop.wait(1):
        pass
    worker.stop()
    engine.dispose()
    log.info("worker stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
