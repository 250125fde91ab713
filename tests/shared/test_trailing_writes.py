"""Writes sent with the commit (shared.transactions.at_commit, SPEC §17) and the webhook-endpoint cache.

Timeline rows, running totals and stored answers are written with a
transaction's last round trip. They must land in their order, vanish with a
rollback, run at once inside a savepoint, and never leak into the next
transaction. The enabled webhook endpoints are kept per process under
``settings.webhook_endpoints_version``; a change made through another session
must be seen by the next event.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.activity import record_activity
from shared.inputs import WebhookEndpointInput
from shared.models import Activity, WebhookEvent
from shared.models.enums import WebhookEventType
from shared.services.webhooks import create_webhook_endpoint
from shared.transactions import atomic
from shared.webhooks.events import emit_event


def timeline(session: Session, client_id: int) -> list[str]:
    return list(session.scalars(select(Activity.verb).where(Activity.client_id == client_id).order_by(Activity.id)))


def test_timeline_rows_are_written_at_commit_in_their_order(session, actor, make_client):
    client = make_client()
    with atomic(session):
        for verb in ("first", "second", "third"):
            record_activity(session, actor, verb, client, client_id=client.id)
        session.flush()
        assert timeline(session, client.id) == []  # not yet: they go with the commit
    assert timeline(session, client.id) == ["first", "second", "third"]


def test_a_rollback_takes_the_trailing_writes_with_it(session, actor, make_client):
    client = make_client()
    with pytest.raises(RuntimeError), atomic(session):
        record_activity(session, actor, "lost", client, client_id=client.id)
        raise RuntimeError("the use case failed")
    with atomic(session):
        record_activity(session, actor, "kept", client, client_id=client.id)
    assert timeline(session, client.id) == ["kept"]


def test_inside_a_savepoint_a_timeline_row_is_written_at_once(session, actor, make_client):
    client = make_client()
    with atomic(session):
        savepoint = session.begin_nested()
        record_activity(session, actor, "in the savepoint", client, client_id=client.id)
        assert timeline(session, client.id) == ["in the savepoint"]
        savepoint.rollback()
        assert timeline(session, client.id) == []
        record_activity(session, actor, "after it", client, client_id=client.id)
    assert timeline(session, client.id) == ["after it"]


def test_the_commit_statement_is_built_once_per_shape_and_carries_each_transactions_own_values(
    session, actor, make_client, backend
):
    from sqlalchemy import bindparam, update

    from shared import transactions
    from shared.models import Client

    rename = (
        update(Client)
        .where(Client.id == bindparam("client_key"))
        .values(name=bindparam("client_name"), updated_at=Client.updated_at)
    )
    first, second, third, fourth = make_client(), make_client(), make_client(), make_client()
    built = []
    for client, other, name in ((first, third, "First renamed"), (second, fourth, "Second renamed")):
        with atomic(session):
            record_activity(session, actor, f"renamed {name}", client, client_id=client.id)
            record_activity(session, actor, "twice", client, client_id=client.id)
            transactions.at_commit(session, rename, {"client_key": client.id, "client_name": name})
            # A statement with its values inside (no parameters) still goes with the same commit (another
            # row: Postgres makes only one of two changes to a row in one statement).
            plain = update(Client).where(Client.id == other.id)
            transactions.at_commit(session, plain.values(billing_address=name, updated_at=Client.updated_at))
        built.append(len(transactions._SHAPES))
    session.expire_all()
    assert [session.get(Client, c.id).name for c in (first, second)] == ["First renamed", "Second renamed"]
    assert [session.get(Client, c.id).billing_address for c in (third, fourth)] == ["First renamed", "Second renamed"]
    assert timeline(session, first.id)[-2:] == ["renamed First renamed", "twice"]
    assert timeline(session, second.id)[-2:] == ["renamed Second renamed", "twice"]
    if backend == "postgresql":
        # Neither shape is kept (the second statement has its values inside); the all-parameter shape is.
        assert built[0] == built[1]
        with atomic(session):
            record_activity(session, actor, "kept shape", first, client_id=first.id)
            transactions.at_commit(session, rename, {"client_key": first.id, "client_name": "Kept"})
        kept = len(transactions._SHAPES)
        with atomic(session):
            record_activity(session, actor, "same shape", second, client_id=second.id)
            transactions.at_commit(session, rename, {"client_key": second.id, "client_name": "Same"})
        assert len(transactions._SHAPES) == kept
        session.expire_all()
        assert (session.get(Client, first.id).name, session.get(Client, second.id).name) == ("Kept", "Same")
        assert timeline(session, second.id)[-1] == "same shape"


def test_an_endpoint_added_through_another_session_is_seen_by_the_next_event(session, engine, actor):
    def emit() -> None:
        with atomic(session):
            emit_event(session, WebhookEventType.INVOICE_CREATED, {"id": 1})

    emit()  # nobody listens: nothing written, and this process now remembers "no endpoints"
    assert session.scalar(select(func.count()).select_from(WebhookEvent)) == 0
    with Session(engine) as other:
        create_webhook_endpoint(
            other, actor=actor, data=WebhookEndpointInput(url="http://127.0.0.1:9/hook"), allow_private=True
        )
    emit()
    assert session.scalar(select(func.count()).select_from(WebhookEvent)) == 1


@pytest.mark.postgres_only
def test_on_postgres_the_commit_travels_with_the_last_statement(session, engine, actor, make_client, backend):
    """The locks a commit holds (the number counter's first) go when Postgres reaches COMMIT, not a round trip later."""
    from sqlalchemy import event as sa_event

    client = make_client()
    seen_before_the_commit_call = []

    def on_commit(_connection):  # SQLAlchemy is about to commit: the work must already be visible to others
        with engine.connect() as other:
            seen_before_the_commit_call.append(
                other.scalar(select(func.count()).select_from(Activity).where(Activity.client_id == client.id))
            )

    sa_event.listen(engine, "commit", on_commit)
    try:
        with atomic(session):
            record_activity(session, actor, "sent with the commit", client, client_id=client.id)
    finally:
        sa_event.remove(engine, "commit", on_commit)
    assert seen_before_the_commit_call == [1]
    assert timeline(session, client.id)[-1] == "sent with the commit"


def test_a_last_statement_that_fails_commits_nothing_and_the_session_goes_on(session, actor, make_client):
    from sqlalchemy import bindparam, update
    from sqlalchemy.exc import IntegrityError

    from shared import transactions
    from shared.models import Client

    client = make_client()
    with pytest.raises(IntegrityError), atomic(session):
        record_activity(session, actor, "lost", client, client_id=client.id)
        transactions.at_commit(
            session,
            update(Client).where(Client.id == bindparam("who")).values(name=None, updated_at=Client.updated_at),
            {"who": client.id},
        )
    assert "lost" not in timeline(session, client.id)
    with atomic(session):
        record_activity(session, actor, "kept", client, client_id=client.id)
    assert timeline(session, client.id)[-1] == "kept"
