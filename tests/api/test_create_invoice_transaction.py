"""POST /invoices with ``issue: true`` is one transaction, its idempotency record included (SPEC §7)."""

import datetime as dt
import json
import uuid

import pytest
from sqlalchemy import event, func, select
from sqlalchemy import text as sa_text

import bench.run
from shared.db import db
from shared.models import Activity, IdempotencyRecord, Invoice, InvoiceLine, QueuedMessage

YEAR = dt.date.today().year


def count(api_app, model, *where) -> int:
    with api_app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def commits(api_app):
    """COMMITs on the API app's engine, in order."""
    seen: list[str] = []
    with api_app.app_context():
        engine = db.engine

    def on_commit(_connection):
        seen.append("commit")

    event.listen(engine, "commit", on_commit)
    yield seen
    event.remove(engine, "commit", on_commit)


def test_create_and_issue_commits_once(api, ngn_body, commits):
    api.get("/invoices")  # the key's last_used_at is written at most once a minute: not in the count below
    commits.clear()
    response = api.post("/invoices", json=ngn_body)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["status"] == "open"
    assert len(commits) == 1


def test_with_an_idempotency_key_the_work_and_its_stored_answer_commit_together(api, ngn_body, api_app, commits):
    api.get("/invoices")
    commits.clear()
    key = str(uuid.uuid4())
    response = api.post("/invoices", json=ngn_body, headers={"Idempotency-Key": key})
    assert response.status_code == 201, response.get_json()
    # The claim, the work and the stored answer commit together (SPEC §17).
    assert len(commits) == 1
    with api_app.app_context():
        record = db.session.execute(select(IdempotencyRecord).where(IdempotencyRecord.key == key)).scalar_one()
        assert record.completed_at is not None
        assert record.response_body == response.get_data(as_text=True)


def test_a_replay_returns_the_identical_body_and_does_no_work(api, ngn_body, api_app):
    key = str(uuid.uuid4())
    first = api.post("/invoices", json=ngn_body, headers={"Idempotency-Key": key})
    again = api.post("/invoices", json=ngn_body, headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201
    assert again.get_data() == first.get_data()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count(api_app, Invoice) == 1 and count(api_app, QueuedMessage) == 1


def test_the_response_lists_the_queued_rows_as_stored(api, ngn_body, api_app):
    body = api.post("/invoices", json={**ngn_body, "notify": {"email": True, "sms": True}}).get_json()
    with api_app.app_context():
        rows = db.session.scalars(select(QueuedMessage).order_by(QueuedMessage.id)).all()
        assert [n["id"] for n in body["notifications"]] == [row.id for row in rows]
        assert [(n["channel"], n["recipient"]) for n in body["notifications"]] == [
            (row.channel, row.recipient) for row in rows
        ]


def test_a_failure_while_issuing_leaves_nothing_behind(api, ngn_body, api_app, monkeypatch):
    def broken_queue(*args, **kwargs):
        raise RuntimeError("queue unavailable")

    monkeypatch.setattr("shared.services.invoices.queue_invoice_messages", broken_queue)
    key = str(uuid.uuid4())
    failed = api.post("/invoices", json=ngn_body, headers={"Idempotency-Key": key})
    assert failed.status_code == 500
    assert failed.headers["Content-Type"].startswith("application/problem+json")
    assert count(api_app, Invoice) == 0
    assert count(api_app, InvoiceLine) == 0
    assert count(api_app, Activity, Activity.invoice_id.is_not(None)) == 0
    assert count(api_app, QueuedMessage) == 0
    # The key is free again (no record, let alone a completed one) ...
    assert count(api_app, IdempotencyRecord, IdempotencyRecord.key == key) == 0

    monkeypatch.undo()
    retried = api.post("/invoices", json=ngn_body, headers={"Idempotency-Key": key})
    assert retried.status_code == 201, retried.get_json()
    assert "Idempotent-Replayed" not in retried.headers
    # ... and the number the failed request took was given back: no gap.
    assert json.loads(retried.get_data())["number"] == f"INV-{YEAR}-00001"


BENCH_BODY = bench.run.BODY  # what `make bench` posts: 3 lines, issued, e-mailed
# SPEC §17 / issue 19: at most 8 statements, one commit, on Postgres (each statement a round trip).
# SQLite runs in process (no round trips), counts its BEGINs and reloads the key after BEGIN IMMEDIATE
# (shared.db.begin_write); its bound only catches a regression.
# SQLite also writes the number taken at commit on its own (Postgres takes, writes and commits it in the
# transaction's last round trip).
MOST_STATEMENTS = {"postgresql": 8, "sqlite": 16}


def test_create_invoice_is_a_few_statements_and_one_commit(api, api_app, backend):
    client = api.post("/clients", json={"name": "Bench", "email": "bench@example.com"}).get_json()
    body = {"client_id": client["id"], **BENCH_BODY}
    # Warm: the key's last_used_at (once a minute) and the process's webhook-endpoint cache.
    api.post("/invoices", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    with api_app.app_context():
        engine = db.engine
    seen: list[str] = []

    def on_statement(_conn, _cursor, statement, _params, _context, _many):
        seen.append(statement)

    def on_commit(_conn):
        seen.append("COMMIT")

    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(engine, "commit", on_commit)
    try:
        response = api.post("/invoices", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
        event.remove(engine, "commit", on_commit)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["notifications"][0]["state"] == "queued"
    statements = [s for s in seen if s != "COMMIT"]
    assert seen.count("COMMIT") == 1
    assert len(statements) <= MOST_STATEMENTS[backend], "\n".join(s.splitlines()[0][:100] for s in statements)
    if backend == "postgresql":
        # The year's counter is locked as late as it can be: by the last round trip of the transaction, which
        # takes the number, writes it with the timeline, the running totals and the stored answer, carries
        # the COMMIT itself and reads the committed number back for the answer
        # (shared.transactions._execute_and_commit). SQLAlchemy's COMMIT then ends an empty transaction.
        assert seen[-1] == "COMMIT"
        last = statements[-1]
        parts = [part.split(None, 1)[0] for part in last.split(";\n")]
        assert parts == ["INSERT", "WITH", "COMMIT", "BEGIN", "SELECT"], parts
        assert "INSERT INTO number_counters" in last and "UPDATE invoices SET number" in last, last
        assert not any("number_counters" in s for s in statements[:-1])
    number = response.get_json()["number"]
    with api_app.app_context():  # the trailing writes landed: timeline, running total, stored answer
        invoice_id = response.get_json()["id"]
        assert db.session.get(Invoice, invoice_id).number == number == f"INV-{YEAR}-00002"
        summaries = db.session.scalars(select(Activity.summary).where(Activity.invoice_id == invoice_id)).all()
        assert f"Issued as {number} for NGN\xa048,350.00" in summaries
        assert count(api_app, Activity, Activity.invoice_id == invoice_id) == 2
        assert (
            db.session.scalar(
                select(func.count()).select_from(IdempotencyRecord).where(IdempotencyRecord.completed_at.is_not(None))
            )
            == 2
        )


@pytest.mark.backends("postgresql")
def test_the_hot_path_runs_prepared(api, api_app, backend):
    """The API key, the idempotency claim, the client with settings, the INSERTs and the commit's message."""
    with api_app.app_context():
        db.engine.dispose()  # one connection from here on: the requests' and the check's
    client = api.post("/clients", json={"name": "Hot Path", "email": "hot@example.com"}).get_json()
    body = {
        "client_id": client["id"],
        "currency": "NGN",
        "items": [{"description": "Work", "quantity": "1", "unit_price": "10.00"}],
        "issue": True,
    }
    for n in range(2):
        response = api.post("/invoices", json=body, headers={"Idempotency-Key": f"hot-path-{n}"})
        assert response.status_code == 201, response.get_json()
    with api_app.app_context():
        statements = db.session.execute(sa_text("SELECT statement FROM pg_prepared_statements")).scalars().all()
        invoice = db.session.get(Invoice, response.get_json()["id"])
        assert invoice.number == response.get_json()["number"]
    joined = "\n".join(statements)
    for piece in (
        "FROM api_keys",
        "INSERT INTO idempotency_records",
        "FROM clients LEFT OUTER JOIN settings",
        "INSERT INTO invoices",
        "INSERT INTO invoice_lines",
        "INSERT INTO number_counters",
        "UPDATE invoices SET number",
    ):
        assert piece in joined, piece
