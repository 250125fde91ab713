"""One worker process draining the queue, with timing hooks (``python -m bench.drain_worker``).

It runs the worker's own ``shared.messages.delivery.drain_queue`` (claim, build,
send, record) with the settings from the environment, and wraps the two
calls that do the real work: ``build_email`` (the e-mail and its PDF; the PDF
render is timed separately inside it) and the SMTP backend's ``send``.
Prints one JSON line: messages, wall seconds, build, render and send seconds.
"""

from __future__ import annotations

import json
import sys
import time

from sqlalchemy.orm import Session


def main() -> int:
    from background_service import create_app
    from background_service.worker import worker_name
    from shared.messages import compose as messages
    from shared.messages import delivery
    from shared.messages.email_backends.smtp import SmtpEmailBackend

    spent = {"build": 0.0, "render": 0.0, "send": 0.0}

    def timed(name, function):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - started

        return wrapper

    delivery.build_email = timed("build", delivery.build_email)
    messages.render_invoice_pdf = timed("render", messages.render_invoice_pdf)
    SmtpEmailBackend.send = timed("send", SmtpEmailBackend.send)

    app = create_app()
    with app.app_context():
        from shared.db import db

        engine = db.engine
    config = dict(app.config)
    # Warm up the process (imports, fonts, templates) the way a long-lived worker is.
    with app.app_context(), Session(engine) as session:
        from shared.documents.pdf import _write_pdf
        from shared.lookups import get_settings

        _write_pdf("<p>warm-up</p>", get_settings(session), "warm-up")
    print("ready", flush=True)
    sys.stdin.readline()  # the parent starts every worker at once
    started = time.time()
    with Session(engine) as session:
        outcomes = delivery.drain_queue(session, owner=worker_name(), config=config)
    finished = time.time()
    print(json.dumps({"outcomes": dict(outcomes), "start": started, "end": finished, **spent}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
