"""Creating and issuing an invoice in one transaction (``create_invoice(..., issue=True)``)."""

import datetime as dt

import pytest
from sqlalchemy import event, func, select

from shared.errors import ValidationFailed
from shared.inputs import InvoiceDraft
from shared.models import Activity, Invoice, InvoiceLine, NumberCounter, QueuedMessage
from shared.numbering import next_number, take_numbers
from shared.services import Notify
from shared.services.invoices import create_invoice

YEAR = dt.date.today().year


def count(session, model, *where):
    return session.scalar(select(func.count()).select_from(model).where(*where))


def body(client, **fields):
    data = {
        "client_id": client.id,
        "currency": "NGN",
        "items": [
            {"description": "Consulting", "quantity": "2", "unit_price": "15000.00", "tax_rate": "7.5"},
            {"description": "Hosting", "quantity": "1", "unit_price": "8000.00", "tax_rate": "7.5"},
            {"description": "Training", "quantity": "3", "unit_price": "2500.00", "tax_rate": "0"},
        ],
    }
    data.update(fields)
    return data


@pytest.fixture
def commits(engine):
    seen: list[int] = []

    def on_commit(_connection):
        seen.append(1)

    event.listen(engine, "commit", on_commit)
    yield seen
    event.remove(engine, "commit", on_commit)


def test_create_and_issue_is_one_commit_with_activity_and_queue_rows(session, actor, make_client, commits):
    client = make_client()
    commits.clear()
    invoice, messages = create_invoice(
        session, actor=actor, data=InvoiceDraft.from_mapping(body(client)), issue=True, notify=Notify(email=True)
    )
    assert len(commits) == 1
    assert invoice.number == f"INV-{YEAR}-00001"
    assert invoice.status == "open" and invoice.issued_at is not None and invoice.issued_by == actor.label
    assert invoice.billed_to["email"] == client.email
    assert [(m.kind, m.channel, m.recipient, m.state) for m in messages] == [
        ("invoice", "email", client.email, "queued")
    ]
    session.expire_all()
    verbs = session.scalars(select(Activity.verb).where(Activity.invoice_id == invoice.id).order_by(Activity.id))
    assert list(verbs) == ["created", "issued"]
    assert count(session, InvoiceLine, InvoiceLine.invoice_id == invoice.id) == 3
    assert count(session, QueuedMessage, QueuedMessage.invoice_id == invoice.id) == 1


def test_create_without_issue_is_a_draft(session, actor, make_client):
    invoice, messages = create_invoice(session, actor=actor, data=InvoiceDraft.from_mapping(body(make_client())))
    assert (invoice.status, invoice.number, messages) == ("draft", None, [])


def test_a_failure_while_issuing_leaves_no_draft_and_no_number_gap(session, actor, make_client, monkeypatch):
    client = make_client()

    def broken_queue(*args, **kwargs):
        raise RuntimeError("queue unavailable")

    monkeypatch.setattr("shared.services.invoices.queue_invoice_messages", broken_queue)
    with pytest.raises(RuntimeError, match="queue unavailable"):
        create_invoice(
            session, actor=actor, data=InvoiceDraft.from_mapping(body(client)), issue=True, notify=Notify(email=True)
        )
    assert count(session, Invoice) == 0
    assert count(session, Activity, Activity.invoice_id.is_not(None)) == 0
    assert (session.get(NumberCounter, ("invoice", YEAR)) is None) or (
        session.get(NumberCounter, ("invoice", YEAR)).last_value == 0
    )
    monkeypatch.undo()
    invoice, _ = create_invoice(
        session, actor=actor, data=InvoiceDraft.from_mapping(body(client)), issue=True, notify=Notify(email=True)
    )
    assert invoice.number == f"INV-{YEAR}-00001"


def test_a_notify_refusal_while_issuing_changes_nothing(session, actor, make_client):
    client = make_client(phone="")
    with pytest.raises(ValidationFailed) as info:
        create_invoice(
            session,
            actor=actor,
            data=InvoiceDraft.from_mapping(body(client)),
            issue=True,
            notify=Notify(email=True, sms=True),
        )
    assert "notify.sms" in info.value.errors
    assert count(session, Invoice) == 0 and count(session, QueuedMessage) == 0


def test_a_zero_total_invoice_is_issued_as_paid(session, actor, make_client):
    data = body(make_client(), items=[{"description": "Free", "quantity": "1", "unit_price": "0"}])
    invoice, _ = create_invoice(session, actor=actor, data=InvoiceDraft.from_mapping(data), issue=True)
    assert (invoice.status, invoice.number) == ("paid", f"INV-{YEAR}-00001")


def test_the_counter_upsert_starts_a_year_and_continues_it(session):
    assert next_number(session, "invoice", 2031, "INV-{year}-{seq:05d}") == "INV-2031-00001"
    assert take_numbers(session, "invoice", 2031, "I{year}-{seq}", 3) == ["I2031-2", "I2031-3", "I2031-4"]
    assert next_number(session, "invoice", 2031, "INV-{year}-{seq:05d}") == "INV-2031-00005"
    assert next_number(session, "receipt", 2031, "RCT-{year}-{seq:05d}") == "RCT-2031-00001"
    session.rollback()
    assert session.get(NumberCounter, ("invoice", 2031)) is None
