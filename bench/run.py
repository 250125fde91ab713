"""``make bench`` / ``python -m bench``: every measurement of SPEC §9 in one run, as ratios.

Creates a throwaway Postgres database (``BENCH_PG_URL``, default the local
server's ``postgres`` database, is used only to create and drop it), migrates
it, and measures:

1. create-invoice through the API under gunicorn, beside ``bench/bare_app.py``
   doing the same inserts with raw SQL under the same gunicorn settings, both
   driven by wrk on this machine in alternating rounds;
2. the worker draining queued e-mails to a local SMTP sink, one process and
   two, with build/render/send times taken inside the run;
3. PDF render time (warm process, PDF cache cleared) of a 1-page and a
   100-line invoice beside WeasyPrint rendering a one-line page, and the
   1-page invoice beside its own HTML rendered without the stylesheet;
4. the admin invoice list (first and last page), the dashboard and the
   reminder sweep at 1,000 and at 100,000 invoices.

Prints one markdown table. Settings: ``BENCH_SECONDS`` (wrk time per app, 15, in 5 rounds of 3 s),
``BENCH_EMAILS`` (1000; see docs/benchmarks.md), ``BENCH_SMALL`` (1000), ``BENCH_LARGE`` (100000),
``BENCH_ONLY`` (a comma-separated subset of ``api,worker,pdf,scale``; all by default).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
GUNICORN_ARGS = ["-w", "2", "--threads", "4", "--worker-class", "gthread", "--log-level", "warning"]
WRK_THREADS, WRK_CONNECTIONS = 2, 8
SECONDS = int(os.environ.get("BENCH_SECONDS", "15"))  # per app, in ROUNDS turns
ROUNDS = 5
# Issue 7 asked for 2,000; on a 2-core machine where a PDF takes 0.2 s that alone is 10 minutes
# of the 15 the whole run may take. The figures are rates and ratios, steady well before 1,000.
EMAILS = int(os.environ.get("BENCH_EMAILS", "1000"))
SMALL = int(os.environ.get("BENCH_SMALL", "1000"))
LARGE = int(os.environ.get("BENCH_LARGE", "100000"))
PARTS = ("api", "worker", "pdf", "scale")
CLIENTS = 20  # every seeded invoice goes to one of these
SEED_BATCH = 10_000  # invoices per transaction when seeding
ONLY = [part.strip() for part in os.environ.get("BENCH_ONLY", ",".join(PARTS)).split(",") if part.strip()]
ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BODY = {
    "currency": "NGN",
    "items": [
        {"description": "Consulting", "quantity": "2", "unit_price": "15000.00", "tax_rate": "7.5"},
        {"description": "Hosting (monthly)", "quantity": "1", "unit_price": "8000.00", "tax_rate": "7.5"},
        {"description": "Training session", "quantity": "3", "unit_price": "2500.00", "tax_rate": "0"},
    ],
    "issue": True,
    "notify": {"email": True, "sms": False},
}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before listening on {port}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listening on {port} after {timeout}s")


def stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class Bench:
    def __init__(self) -> None:
        self.dbname = f"bench_{os.getpid()}_{secrets.token_hex(3)}"
        base = ADMIN_URL.rsplit("/", 1)[0]
        self.url = f"{base}/{self.dbname}"
        self.smtp_port = free_port()
        self.env = {
            **os.environ,
            "DATABASE_URL": self.url,
            "APP_ENV": "development",
            "SECRET_KEY": secrets.token_urlsafe(32),
            "MAIL_BACKEND": "smtp",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.smtp_port),
            "SMS_BACKEND": "disabled",
            "PYTHONPATH": str(ROOT),
        }
        self.rows: list[tuple[str, str, str, str, str, str]] = []
        self.logs = Path(os.environ.get("BENCH_LOG_DIR", "/tmp")) / self.dbname
        self.logs.mkdir(parents=True, exist_ok=True)

    # -- database ----------------------------------------------------------------

    def admin(self, sql: str) -> None:
        conn = psycopg2.connect(ADMIN_URL)
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute(sql)
        conn.close()

    def connect(self):
        return psycopg2.connect(self.url)

    def admin_db(self, sql: str) -> None:
        """A statement that cannot run in a transaction (VACUUM) on the bench database."""
        conn = self.connect()
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute(sql)
        conn.close()

    def sql(self, statement: str, params=()):
        conn = self.connect()
        with conn, conn.cursor() as cursor:
            cursor.execute(statement, params)
            result = cursor.fetchall() if cursor.description else None
        conn.close()
        return result

    @contextlib.contextmanager
    def session(self):
        import sqlalchemy
        from sqlalchemy.orm import Session

        engine = sqlalchemy.create_engine(self.url)
        try:
            with Session(engine) as session:
                yield session
        finally:
            engine.dispose()

    def seed(self, count: int, client_ids: list[int], seed: int, *, queue_email: bool = False) -> None:
        """Add ``count`` invoices for the bench's clients with the one bulk writer (main_service.demo.bulk).

        Then ANALYZE, as autovacuum would after a load this size, so the planner
        knows the tables before anything is measured.
        """
        from main_service.demo import bulk_invoices

        with self.session() as session:
            bulk_invoices(
                session,
                count=count,
                seed=seed,
                client_ids=client_ids,
                queue_email=queue_email,
                expenses=False,
                batch_size=SEED_BATCH,
            )
        self.admin_db("ANALYZE")

    def flask(self, *args: str) -> str:
        done = subprocess.run(
            [str(BIN / "flask"), "--app", "main_service", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout

    # -- 1. create-invoice ----------------------------------------------------------

    @contextlib.contextmanager
    def served(self, app: str, label: str):
        """``app`` under gunicorn with the bench's settings, on a free port (yielded), stopped after."""
        port = free_port()
        with open(self.logs / f"gunicorn-{label}.log", "w") as logfile:
            server = subprocess.Popen(
                [str(BIN / "gunicorn"), *GUNICORN_ARGS, "-b", f"127.0.0.1:{port}", app],
                cwd=ROOT,
                env=self.env,
                stdout=logfile,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_for_port(port, server)
            yield port
        finally:
            stop(server)

    def wrk(self, url: str, key: str, body: dict, seconds: int, label: str) -> dict:
        """One wrk run of ``seconds`` against ``url``; its counts and latency percentiles."""
        env = {**self.env, "BENCH_KEY": key, "BENCH_BODY": json.dumps(body), "BENCH_RUN": secrets.token_hex(6)}
        command = ["wrk", f"-t{WRK_THREADS}", f"-c{WRK_CONNECTIONS}", "--latency", "-s", str(ROOT / "bench/post.lua")]
        done = subprocess.run([*command, f"-d{seconds}s", url], env=env, capture_output=True, text=True, check=True)
        with open(self.logs / f"wrk-{label}.log", "a") as logfile:
            logfile.write(done.stdout + done.stderr)
        lines = done.stdout.splitlines()
        line = next(x for x in lines if x.startswith("BENCH "))
        requests, duration, _p50, _p99, bad_status, socket_errors, replays = line.split()[1:]
        points = next(x for x in lines if x.startswith("LATENCY ")).split()[1:]
        return {
            "requests": int(requests),
            "duration": float(duration),
            "latency": [(float(pct), float(ms)) for pct, ms in (point.split(":") for point in points)],
            "errors": int(bad_status) + int(socket_errors) + int(replays),
        }

    def create_invoice(self, client_id: int) -> None:
        """The API and the bare app, served side by side and driven in turns.

        ``ROUNDS`` rounds of ``SECONDS // ROUNDS`` seconds (at least 1) each,
        the API first in even rounds and the bare app first in odd ones (both
        write to the same tables): a machine whose speed drifts during the
        run (a shared virtual machine does) slows both alike, where one
        window each would put the drift into the ratio. Rates are all requests over all time,
        and the percentiles those of all requests (``combined_percentile``).
        """
        key = self.flask("create-api-key", "--name", "bench", "--scope", "write").strip().splitlines()[-1]
        body = {"client_id": client_id, **BODY}
        apps = {
            "api": ("api_service:create_app()", "/api/v1/invoices"),
            "bare": ("bench.bare_app:app", "/"),
        }
        runs: dict[str, list[dict]] = {label: [] for label in apps}
        with contextlib.ExitStack() as servers:
            urls = {
                label: f"http://127.0.0.1:{servers.enter_context(self.served(app, label))}{path}"
                for label, (app, path) in apps.items()
            }
            for label, url in urls.items():
                self.wrk(url, key, body, 3, f"{label}-warm-up")
            seconds = max(1, SECONDS // ROUNDS)
            for round_ in range(ROUNDS):
                order = list(urls.items()) if round_ % 2 == 0 else list(reversed(urls.items()))
                for label, url in order:
                    runs[label].append(self.wrk(url, key, body, seconds, label))
        api, bare = (self.summary(label, runs[label]) for label in apps)
        if not api["requests"] or not bare["requests"]:
            raise RuntimeError(
                f"wrk completed no request (api {api['requests']}, bare {bare['requests']}); see {self.logs}"
            )
        share = api["rps"] / bare["rps"]
        spread = api["p99"] / api["p50"]
        note = f" ({api['errors']} errors)" if api["errors"] else ""
        self.row(
            "create-invoice, API (3 lines, issued, e-mail queued)",
            f"{api['rps']:.0f} req/s{note}",
            f"bare raw-SQL app {bare['rps']:.0f} req/s",
            f"{share:.0%}",
            "≥ 50 %",
            share >= 0.5,
        )
        self.row(
            "create-invoice latency p50 / p99",
            f"{api['p50']:.1f} / {api['p99']:.1f} ms",
            f"bare {bare['p50']:.1f} / {bare['p99']:.1f} ms",
            f"p99 = {spread:.1f}× p50",
            "p99 ≤ 4× p50",
            spread <= 4,
        )

    def summary(self, label: str, runs: list[dict]) -> dict:
        requests = sum(run["requests"] for run in runs)
        if not requests:
            return {"requests": 0, "rps": 0.0, "p50": 0.0, "p99": 0.0, "errors": sum(run["errors"] for run in runs)}
        result = {
            "requests": requests,
            "rps": sum(run["requests"] for run in runs) / sum(run["duration"] for run in runs),
            "p50": combined_percentile(runs, 50),
            "p99": combined_percentile(runs, 99),
            "errors": sum(run["errors"] for run in runs),
            "rounds": [round(run["requests"] / run["duration"]) for run in runs],
        }
        log(f"{label}: {result}")
        if result["errors"]:
            log(f"{label}: {result['errors']} failed requests; see {self.logs}/wrk-{label}.log")
        return result

    # -- 2. worker drain -------------------------------------------------------------

    def drain(self, client_ids: list[int], processes: int) -> dict:
        self.sql("UPDATE email_queue SET state = 'cancelled' WHERE state IN ('queued', 'sending')")
        self.seed(EMAILS, client_ids, processes, queue_email=True)
        workers = []
        for n in range(processes):
            with open(self.logs / f"worker-{processes}-{n}.log", "w") as logfile:
                workers.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "bench.drain_worker"],
                        cwd=ROOT,
                        env=self.env,
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        stderr=logfile,
                        text=True,
                    )
                )
        try:
            for worker in workers:
                if worker.stdout.readline().strip() != "ready":
                    raise RuntimeError("a drain worker failed to start; see its log")
            for worker in workers:
                worker.stdin.write("go\n")
                worker.stdin.flush()
            reports = [json.loads(worker.stdout.readline()) for worker in workers]
        finally:
            for worker in workers:
                stop(worker)
        sent = sum(r["outcomes"].get("sent", 0) for r in reports)
        wall = max(r["end"] for r in reports) - min(r["start"] for r in reports)
        busy = sum(r["end"] - r["start"] for r in reports)
        result = {
            "sent": sent,
            "other": {k: v for r in reports for k, v in r["outcomes"].items() if k != "sent"},
            "rate": sent / wall,
            "wall": wall,
            "busy": busy,
            "build": sum(r["build"] for r in reports),
            "render": sum(r["render"] for r in reports),
            "send": sum(r["send"] for r in reports),
        }
        log(f"drain with {processes}: {result}")
        return result

    def worker(self, client_ids: list[int]) -> None:
        sink = subprocess.Popen(
            [sys.executable, "-m", "bench.smtp_sink", str(self.smtp_port)],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            if sink.stdout.readline().strip() != "ready":
                raise RuntimeError("the SMTP sink did not start")
            one = self.drain(client_ids, 1)
            two = self.drain(client_ids, 2)
        finally:
            stop(sink)
        work = one["build"] + one["send"]
        overhead = (one["busy"] - work) / one["busy"]
        per = 1000 / max(one["sent"], 1)
        scale = two["rate"] / one["rate"]
        self.row(
            f"worker drain, {EMAILS:,} e-mails to a local SMTP sink, 1 process",
            f"{one['rate']:.1f} msg/s",
            "—",
            "—",
            "—",
            None,
        )
        self.row(
            "worker drain, 2 processes",
            f"{two['rate']:.1f} msg/s",
            f"1 process {one['rate']:.1f} msg/s",
            f"{scale:.2f}×",
            "≥ 1.6×",
            scale >= 1.6,
        )
        self.row(
            "worker overhead per message (1 process)",
            f"{(one['busy'] - work) * per:.1f} ms of {one['busy'] * per:.1f} ms",
            f"build {one['build'] * per:.1f} ms (PDF render {one['render'] * per:.1f}) + send {one['send'] * per:.1f} ms",
            f"{overhead:.1%}",
            "≤ 10 %",
            overhead <= 0.10,
        )
        if one["other"] or two["other"] or one["sent"] != EMAILS or two["sent"] != EMAILS:
            log(f"warning: not every e-mail was sent: {one['other']} {two['other']}")

    # -- 3. PDF ---------------------------------------------------------------------

    def pdf(self, app, client_id: int) -> None:
        from weasyprint import HTML

        from shared.actors import Actor
        from shared.db import db
        from shared.documents import engine, fetcher
        from shared.documents import pdf as pdfmod
        from shared.inputs import InvoiceDraft, ItemInput
        from shared.lookups import get_settings
        from shared.services import create_draft, issue_invoice

        def invoice_with(lines: int):
            items = [
                ItemInput(description=f"Item {n}", quantity="1", unit_price=f"{100 + n}.00", tax_rate="7.5")
                for n in range(lines)
            ]
            draft = create_draft(
                db.session, actor=Actor.system("bench"), data=InvoiceDraft(client_id=client_id, items=items)
            )
            return issue_invoice(db.session, actor=Actor.system("bench"), invoice_id=draft.id)[0]

        def timings(functions: dict, rounds: int) -> dict[str, float]:
            """Median ms of each function, taken in turns (a round times each once) so drift hits all alike."""
            for function in functions.values():
                function()
                function()
            samples: dict[str, list[float]] = {name: [] for name in functions}
            for _ in range(rounds):
                for name, function in functions.items():
                    pdfmod.clear_cache()
                    started = time.perf_counter()
                    function()
                    samples[name].append(time.perf_counter() - started)
            return {name: statistics.median(values) * 1000 for name, values in samples.items()}

        with app.app_context():
            short, long = invoice_with(3), invoice_with(100)
            settings = get_settings(db.session)
            html = pdfmod.render_html("invoice.html", pdfmod.invoice_context(short, settings, as_of=dt.date.today()))

            def unstyled() -> bytes:
                """The invoice's own HTML through the same engine set-up (fonts, fetcher), without document.css."""
                document = HTML(string=html, base_url=fetcher.ASSETS_URL, url_fetcher=engine.DocumentURLFetcher())
                return document.write_pdf(font_config=engine.font_config())

            times = timings(
                {
                    "floor": lambda: HTML(string="<p>One line.</p>").write_pdf(),
                    "unstyled": unstyled,
                    "invoice": lambda: pdfmod.render_invoice_pdf(db.session, short),
                },
                rounds=11,
            )
            floor, bare, one_page = times["floor"], times["unstyled"], times["invoice"]
            hundred = timings({"long": lambda: pdfmod.render_invoice_pdf(db.session, long)}, rounds=5)["long"]
        ratio = one_page / floor
        self.row(
            "PDF, 1-page invoice",
            f"{one_page:.0f} ms",
            f"WeasyPrint one-line page {floor:.0f} ms",
            f"{ratio:.1f}×",
            "≤ 4×",
            ratio <= 4,
        )
        self.row(
            "PDF, 1-page invoice against its own HTML unstyled",
            f"{one_page:.0f} ms",
            f"same HTML, no stylesheet {bare:.0f} ms ({bare / floor:.1f}× the one-line page)",
            f"{one_page / bare:.2f}×",
            "—",
            None,
        )
        self.row(
            "PDF, 100-line invoice",
            f"{hundred:.0f} ms",
            f"one-line page {floor:.0f} ms",
            f"{hundred / floor:.1f}×",
            "—",
            None,
        )

    # -- 4. scale -----------------------------------------------------------------------

    def scale_measurements(self, app, user_id: int) -> dict[str, float]:
        from sqlalchemy.orm import Session

        from shared.db import db
        from shared.messages.reminders import sweep_reminders
        from shared.models import Invoice

        def median_ms(function, repeat: int = 5) -> float:
            function()
            samples = []
            for _ in range(repeat):
                started = time.perf_counter()
                function()
                samples.append(time.perf_counter() - started)
            return statistics.median(samples) * 1000

        from main_service.admin.setup import OFFERED
        from shared.models import User
        from shared.services.sign_in import session_token

        with app.app_context():
            token = session_token(db.session.get(User, user_id))
        client = app.test_client()
        with client.session_transaction() as session:  # signed in as the admin, as /admin/login leaves it
            session["_user_id"] = token
            session["_fresh"] = True
            session["signed_in_at"] = int(time.time())
            session[OFFERED] = True  # the first-run setup was offered once already

        def get(path: str):
            def fetch():
                response = client.get(path)
                if response.status_code != 200:
                    raise RuntimeError(f"{path}: {response.status_code}")

            return fetch

        with app.app_context():
            total = db.session.query(Invoice).count()
            engine = db.engine

        def sweep():
            with Session(engine) as session:
                return sweep_reminders(session, sms=False)

        started = time.perf_counter()
        queued = sweep()  # catch up: the reminders every overdue invoice is owed
        catch_up = (time.perf_counter() - started) * 1000
        # Steady state, as autovacuum leaves it: the catch-up just rewrote tens of
        # thousands of invoice rows, and their dead index entries would otherwise be
        # counted against the sweep and the pages measured next.
        self.admin_db("VACUUM ANALYZE")
        result = {
            "invoices": total,
            "list, first page": median_ms(get("/admin/invoices")),
            "list, last page": median_ms(get("/admin/invoices?oldest=1")),
            "dashboard": median_ms(get("/admin/")),
            "reminder sweep (nothing new due)": median_ms(sweep, repeat=3),
            "catch_up": catch_up,
            "catch_up_queued": queued,
        }
        log(f"at {total} invoices: {result}")
        return result

    def scale(self, app, client_ids: list[int]) -> None:
        self.sql(
            "TRUNCATE invoices, invoice_lines, email_queue, payments, activity, idempotency_records,"
            " invoice_rollups, payment_rollups CASCADE"  # and what refers to them (credit notes, webhook events, ...)
        )
        user_id = self.sql("SELECT id FROM users WHERE role = 'admin' ORDER BY id LIMIT 1")[0][0]
        started = time.perf_counter()
        self.seed(SMALL, client_ids, 11)
        small = self.scale_measurements(app, user_id)
        self.seed(LARGE - SMALL, client_ids, 12)
        log(f"seeded {LARGE} invoices in {time.perf_counter() - started:.0f}s (with the measurements at {SMALL})")
        large = self.scale_measurements(app, user_id)
        for name in ("list, first page", "list, last page", "dashboard", "reminder sweep (nothing new due)"):
            ratio = large[name] / small[name]
            label = "admin invoice " + name if name.startswith("list") else name
            self.row(
                f"{label} at {large['invoices']:,} invoices",
                f"{large[name]:.1f} ms",
                f"at {small['invoices']:,}: {small[name]:.1f} ms",
                f"{ratio:.1f}×",
                "≤ 2×",
                ratio <= 2,
            )
        self.row(
            f"reminder sweep catching up at {large['invoices']:,} (queues {large['catch_up_queued']:,})",
            f"{large['catch_up']:.0f} ms",
            f"at {small['invoices']:,}: {small['catch_up']:.0f} ms (queues {small['catch_up_queued']:,})",
            f"{large['catch_up'] / max(large['catch_up_queued'], 1) * 1000:.0f} µs per reminder "
            f"vs {small['catch_up'] / max(small['catch_up_queued'], 1) * 1000:.0f}",
            "—",
            None,
        )

    # -- table ------------------------------------------------------------------------

    def row(self, what: str, value: str, beside: str, ratio: str, target: str, met: bool | None) -> None:
        self.rows.append(
            (what, value, beside, ratio, target, "—" if met is None else ("met" if met else "**not met**"))
        )

    def table(self) -> str:
        head = ("measurement", "value", "beside", "ratio", "target", "")
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        return "\n".join(lines)

    # -- run ---------------------------------------------------------------------------

    def run(self) -> int:
        unknown = sorted(set(ONLY) - set(PARTS))
        if unknown or not ONLY:
            print(
                f"error: BENCH_ONLY takes a comma-separated subset of {','.join(PARTS)}; got {unknown or 'nothing'}",
                file=sys.stderr,
            )
            return 2
        if "api" in ONLY and shutil.which("wrk") is None:
            print("error: wrk is missing; install it with: apt-get install -y wrk", file=sys.stderr)
            return 1
        begun = time.monotonic()
        self.admin(f'CREATE DATABASE "{self.dbname}"')
        try:
            log(f"database {self.dbname}; logs in {self.logs}")
            self.flask("db", "upgrade")
            self.flask("ensure-admin")
            from main_service.demo import add_clients

            with self.session() as session:
                client_ids = add_clients(session, count=CLIENTS, seed=7)
            self.env["BENCH_CLIENT_ID"] = str(client_ids[0])
            if "api" in ONLY:
                self.create_invoice(client_ids[0])
            if "worker" in ONLY:
                self.worker(client_ids)

            os.environ.update({k: v for k, v in self.env.items() if k != "PYTHONPATH"})
            import main_service

            app = main_service.create_app()
            if "pdf" in ONLY:
                self.pdf(app, client_ids[0])
            if "scale" in ONLY:
                self.scale(app, client_ids)
            with app.app_context():
                from shared.db import db

                db.engine.dispose()
        finally:
            with contextlib.suppress(Exception):
                self.admin(f'DROP DATABASE IF EXISTS "{self.dbname}" WITH (FORCE)')
        minutes = (time.monotonic() - begun) / 60
        print(
            f"SPEC §9 benchmarks, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {machine()}, run took {minutes:.1f} min\n"
        )
        print(self.table())
        return 0


def combined_percentile(runs: list[dict], percent: float) -> float:
    """The latency (ms) below which ``percent`` of the requests of all ``runs`` finished.

    Each run brings its request count and its latency distribution at a few
    percentiles (``bench/post.lua``), read as linear between them; the
    latency where the runs' shares below it, weighed by their counts, make
    ``percent`` is found by bisection.
    """

    def share_below(latency: float, points: list[tuple[float, float]]) -> float:
        if latency <= points[0][1]:
            return 0.0
        for (p0, l0), (p1, l1) in itertools.pairwise(points):
            if latency <= l1:
                return p0 + (p1 - p0) * ((latency - l0) / (l1 - l0) if l1 > l0 else 1.0)
        return 100.0

    total = sum(run["requests"] for run in runs)
    low, high = 0.0, max(run["latency"][-1][1] for run in runs)
    for _ in range(60):
        middle = (low + high) / 2
        below = sum(run["requests"] * share_below(middle, run["latency"]) for run in runs) / total
        low, high = (middle, high) if below < percent else (low, middle)
    return high


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    version = "?"
    with contextlib.suppress(Exception):
        conn = psycopg2.connect(ADMIN_URL)
        with conn.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0].split()[0]
        conn.close()
    return f"{os.cpu_count()} CPU ({cpu}), Python {platform.python_version()}, PostgreSQL {version}"


def main() -> int:
    sys.path.insert(0, str(ROOT))
    return Bench().run()
