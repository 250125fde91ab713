"""The queue under a lease (SPEC §5.6, §8): claims, rescues, outcomes, no transaction across a send."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

import shared.messages.compose as messages
from shared.db import utcnow
from shared.documents import DocumentError
from shared.inputs import PaymentInput
from shared.messages.delivery import Backends, claim_due_messages, deliver_message, drain_queue, release_claims
from shared.messages.email_backends.base import EmailBackend
from shared.messages.sms_backends.base import SmsBackend
from shared.models import QueuedMessage
from shared.services import Notify, record_payment, void_invoice
from support.delivery import make_config


@pytest.fixture
def config(database_url, tmp_path):
    return make_config(database_url, tmp_path, MAIL_BACKEND="file", SMS_BACKEND="file", WORKER_LEASE_SECONDS=60)


def queue_rows(session, make_invoice, count: int) -> list[int]:
    invoice = make_invoice(issue=True)
    session.add_all(
        QueuedMessage(kind="invoice", channel="email", recipient=f"r{i}@example.com", invoice_id=invoice.id)
        for i in range(count)
    )
    session.commit()
    return list(session.scalars(select(QueuedMessage.id).order_by(QueuedMessage.id)))


def state_of(session, row_id):
    session.expire_all()
    return session.get(QueuedMessage, row_id)


class RecordingEmail(EmailBackend):
    """Remembers, for every send, whether the worker's session had a transaction open."""

    name = "recording"

    def __init__(self, session) -> None:
        super().__init__({})
        self.session = session
        self.in_transaction: list[bool] = []

    def send(self, message, recipient):
        self.in_transaction.append(self.session.in_transaction())
        return "recorded"


class NoSms(SmsBackend):
    name = "none"

    def send(self, to, body, *, reference):
        raise AssertionError("no SMS expected")


def test_a_claimed_row_is_not_claimed_again_until_its_lease_expires(session, make_invoice):
    ids = queue_rows(session, make_invoice, 3)
    now = utcnow()
    assert claim_due_messages(session, owner="A", limit=10, lease_seconds=60, now=now) == ids
    assert claim_due_messages(session, owner="B", limit=10, lease_seconds=60, now=now + dt.timedelta(seconds=59)) == []
    rescued = claim_due_messages(session, owner="B", limit=10, lease_seconds=60, now=now + dt.timedelta(seconds=61))
    assert rescued == ids
    row = state_of(session, ids[0])
    assert (row.state, row.lease_owner, row.attempts) == ("sending", "B", 2)


def test_a_worker_that_lost_its_lease_neither_sends_nor_records(session, make_invoice, config):
    (row_id,) = queue_rows(session, make_invoice, 1)
    now = utcnow()
    claim_due_messages(session, owner="A", lease_seconds=60, now=now)
    claim_due_messages(session, owner="B", lease_seconds=60, now=now + dt.timedelta(seconds=61))
    backends = Backends(email=RecordingEmail(session), sms=NoSms({}))
    assert deliver_message(session, row_id, owner="A", config=config, backends=backends, now=now) == "lost"
    assert backends.email.in_transaction == []
    assert state_of(session, row_id).lease_owner == "B"


def test_a_lease_lost_during_the_send_records_nothing(session, engine, make_invoice, config):
    """The send is recorded only while the lease is still ours: one conditional UPDATE decides it."""
    from sqlalchemy.orm import Session

    from shared.models import Activity

    (row_id,) = queue_rows(session, make_invoice, 1)
    now = utcnow()
    claim_due_messages(session, owner="A", lease_seconds=60, now=now)
    invoice_id = state_of(session, row_id).invoice_id
    session.rollback()

    class SlowEmail(RecordingEmail):
        def send(self, message, recipient):  # meanwhile the lease runs out and worker B takes the row
            with Session(engine) as other:
                assert claim_due_messages(other, owner="B", lease_seconds=60, now=now + dt.timedelta(seconds=61))
            return super().send(message, recipient)

    backends = Backends(email=SlowEmail(session), sms=NoSms({}))
    assert deliver_message(session, row_id, owner="A", config=config, backends=backends, now=now) == "lost"
    session.expire_all()
    row = state_of(session, row_id)
    assert (row.state, row.lease_owner, row.sent_at) == ("sending", "B", None)
    assert row.invoice.last_emailed_at is None
    sent = select(Activity).where(Activity.invoice_id == invoice_id, Activity.verb == "sent")
    assert session.scalars(sent).all() == []


def test_no_transaction_is_open_while_a_message_is_sent(session, make_invoice, config):
    queue_rows(session, make_invoice, 3)
    backends = Backends(email=RecordingEmail(session), sms=NoSms({}))
    assert drain_queue(session, owner="A", config=config, backends=backends) == {"sent": 3}
    assert backends.email.in_transaction == [False, False, False]


@pytest.fixture
def commits(session):
    """COMMITs on the worker session's engine."""
    from sqlalchemy import event

    seen: list[str] = []
    engine = session.get_bind()

    def on_commit(_connection):
        seen.append("commit")

    event.listen(engine, "commit", on_commit)
    yield seen
    event.remove(engine, "commit", on_commit)


def test_a_freshly_leased_row_is_sent_and_recorded_with_one_commit(session, make_invoice, config, commits):
    """The lease is checked in the read that builds the message: no write before the send (SPEC §17)."""
    (row_id,) = queue_rows(session, make_invoice, 1)
    now = utcnow()
    claim_due_messages(session, owner="A", lease_seconds=60, now=now)
    lease = state_of(session, row_id).lease_expires_at
    session.rollback()
    commits.clear()
    backends = Backends(email=RecordingEmail(session), sms=NoSms({}))
    assert deliver_message(session, row_id, owner="A", config=config, backends=backends, now=now) == "sent"
    assert commits == ["commit"]  # the outcome only
    row = state_of(session, row_id)
    assert (row.state, row.lease_expires_at) == ("sent", None)
    assert row.invoice.last_emailed_at is not None
    assert lease is not None


def test_a_lease_a_tenth_gone_is_renewed_before_the_send(session, make_invoice, config, commits):
    (row_id,) = queue_rows(session, make_invoice, 1)
    claimed_at = utcnow()
    claim_due_messages(session, owner="A", lease_seconds=60, now=claimed_at)
    later = claimed_at + dt.timedelta(seconds=10)  # 50 s of 60 left: a tenth has gone by
    seen_lease = []

    class Watching(RecordingEmail):
        def send(self, message, recipient):
            seen_lease.append(state_of(session, row_id).lease_expires_at)
            session.rollback()
            return super().send(message, recipient)

    commits.clear()
    backends = Backends(email=Watching(session), sms=NoSms({}))
    assert deliver_message(session, row_id, owner="A", config=config, backends=backends, now=later) == "sent"
    assert seen_lease == [later + dt.timedelta(seconds=60)]  # renewed, and committed, before sending
    assert commits == ["commit", "commit"]


def test_rows_whose_workers_keep_dying_fail_instead_of_looping(session, make_invoice):
    (row_id,) = queue_rows(session, make_invoice, 1)
    now = utcnow()
    for attempt in range(3):
        claim_due_messages(session, owner=f"W{attempt}", lease_seconds=10, max_attempts=3, now=now)
        now += dt.timedelta(seconds=11)  # each worker "dies": its lease runs out
    assert claim_due_messages(session, owner="W3", lease_seconds=10, max_attempts=3, now=now) == []
    row = state_of(session, row_id)
    assert row.state == "failed" and "lease expired" in row.last_error


def test_released_claims_go_back_uncounted(session, make_invoice):
    ids = queue_rows(session, make_invoice, 2)
    claim_due_messages(session, owner="A", now=utcnow())
    assert release_claims(session, ids, owner="A") == 2
    assert [(state_of(session, i).state, state_of(session, i).attempts) for i in ids] == [("queued", 0)] * 2


def test_a_pdf_failure_fails_the_row_and_sends_nothing(session, make_invoice, config, monkeypatch):
    def broken(*args, **kwargs):
        raise DocumentError("PDF rendering failed: ValueError: no fonts")

    monkeypatch.setattr(messages, "render_invoice_pdf", broken)
    invoice = make_invoice(issue=True, notify=Notify(email=True))
    backends = Backends(email=RecordingEmail(session), sms=NoSms({}))
    assert drain_queue(session, owner="A", config=config, backends=backends) == {"failed": 1}
    assert backends.email.in_transaction == []
    (row,) = session.scalars(select(QueuedMessage).where(QueuedMessage.invoice_id == invoice.id))
    session.refresh(row)
    assert row.state == "failed" and "PDF rendering failed" in row.last_error
    assert row.sent_at is None and invoice.last_emailed_at is None


def test_an_unexpected_build_error_is_retried_not_dropped(session, make_invoice, config, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("template bug")

    monkeypatch.setattr(messages, "render_invoice_pdf", broken)
    make_invoice(issue=True, notify=Notify(email=True))
    assert drain_queue(session, owner="A", config=config) == {"retry": 1}
    row = session.scalars(select(QueuedMessage)).one()
    session.refresh(row)
    assert row.state == "queued" and "could not build the message: RuntimeError: template bug" in row.last_error


def test_a_reminder_claimed_before_the_invoice_was_paid_is_cancelled(session, actor, make_invoice, config):
    invoice = make_invoice(issue=True)
    session.add(
        QueuedMessage(
            kind="reminder",
            channel="email",
            recipient="client@example.com",
            invoice_id=invoice.id,
            client_id=invoice.client_id,
            reminder_stage=1,
        )
    )
    session.commit()
    (row_id,) = claim_due_messages(session, owner="A", now=utcnow())
    record_payment(
        session, actor=actor, invoice_id=invoice.id, data=PaymentInput(amount="100.00")
    )  # paid in full meanwhile
    backends = Backends(email=RecordingEmail(session), sms=NoSms({}))
    assert deliver_message(session, row_id, owner="A", config=config, backends=backends) == "cancelled"
    assert backends.email.in_transaction == []
    row = state_of(session, row_id)
    assert (row.state, row.last_error) == ("cancelled", "invoice paid")


def test_voiding_an_invoice_stops_its_queued_messages(session, actor, make_invoice, config):
    invoice = make_invoice(issue=True, notify=Notify(email=True, sms=True))
    void_invoice(session, actor=actor, invoice_id=invoice.id, reason="duplicate")
    assert drain_queue(session, owner="A", config=config) == {}
    states = {row.state for row in session.scalars(select(QueuedMessage))}
    assert states == {"cancelled"}


def test_a_reminder_text_to_a_client_who_withdrew_sms_consent_is_cancelled(session, make_client, make_invoice, config):
    client = make_client(sms_opt_in=False)
    invoice = make_invoice(issue=True, client=client)
    session.add(
        QueuedMessage(
            kind="reminder",
            channel="sms",
            recipient=client.phone,
            invoice_id=invoice.id,
            client_id=client.id,
            reminder_stage=2,
        )
    )
    session.commit()
    assert drain_queue(session, owner="A", config=config) == {"cancelled": 1}
    row = session.scalars(select(QueuedMessage)).one()
    session.refresh(row)
    assert (row.state, row.last_error) == ("cancelled", "client opted out of SMS")
