"""``python -m background_service [--once]``: the worker process (SPEC §4, §8).

This build starts, checks the database, reports the queue and idles until
SIGTERM or SIGINT, then exits 0. Delivery of the queued messages and
reminders arrive with the documents-and-delivery issue; until then queued
rows wait untouched in ``email_queue`` (nothing is lost or marked sent).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger("background_service")


def queue_depth() -> int:
    from shared.db import db
    from shared.models import QueuedMessage

    return db.session.scalar(select(func.count()).where(QueuedMessage.state == "queued")) or 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m background_service", description=__doc__.splitlines()[0])
    parser.add_argument("--once", action="store_true", help="do the work due now and exit")
    args = parser.parse_args(argv)

    from background_service import create_app

    app = create_app()
    stop = threading.Event()

    def request_stop(signum, _frame):
        log.info("received %s; stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    poll = app.config["WORKER_POLL_SECONDS"]
    with app.app_context():
        from shared.db import db

        try:
            waiting = queue_depth()
        except SQLAlchemyError as exc:
            log.error("cannot read the database: %s", exc.__class__.__name__)
            print("error: the database is not reachable or not migrated; run: flask --app main_service db upgrade",
                  file=sys.stderr)
            return 1
        finally:
            db.session.remove()
        log.info("worker ready; %d message(s) queued; delivery is not implemented in this build", waiting)
        if args.once:
            return 0
        while not stop.wait(poll):
            pass
    log.info("worker stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
