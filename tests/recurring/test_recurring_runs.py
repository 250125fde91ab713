"""SPEC §12: the worker's job makes each due run once, dated its run date, through create_invoice."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from shared.errors import Conflict, ValidationFailed
from shared.inputs import RecurringInvoiceChanges, RecurringInvoiceInput
from shared.models import Activity, Invoice, QueuedMessage, RecurringInvoice
from shared.models.enums import InvoiceStatus, RecurringStatus
from shared.queries import timeline
from shared.services import Actor, archive_client, delete_client
from shared.services.recurring import (
    delete_recurring_invoice,
    invoices_made,
    make_due_runs,
    pause_recurring_invoice,
    resume_recurring_invoice,
    upcoming_runs,
    update_recurring_invoice,
)

D = dt.date
WORKER = Actor.worker("worker tests")


def made(session, template) -> list[Invoice]:
    session.expire_all()
    return sorted(invoices_made(session, template), key=lambda i: i.recurring_run_on)


def test_a_past_start_begins_at_the_first_run_on_or_after_creation(make_recurring):
    template = make_recurring(start_date="2026-01-31", today=D(2026, 4, 10))
    assert template.next_run_on == D(2026, 4, 30)
    assert template.is_active and template.runs == 0
    assert template.upcoming_runs() == [D(2026, 4, 30), D(2026, 5, 31), D(2026, 6, 30), D(2026, 7, 31), D(2026, 8, 31)]


def test_backfill_makes_the_runs_before_creation(session, make_recurring):
    template = make_recurring(start_date="2026-01-31", backfill=True, today=D(2026, 4, 10))
    assert template.next_run_on == D(2026, 1, 31)
    assert make_due_runs(session, actor=WORKER, today=D(2026, 4, 10)) == 3
    assert [i.issue_date for i in made(session, template)] == [D(2026, 1, 31), D(2026, 2, 28), D(2026, 3, 31)]


def test_missed_runs_are_made_oldest_first_each_dated_its_own_date(session, make_recurring):
    template = make_recurring(
        start_date="2026-03-02", interval="week", payment_terms_days=10, mode="send", today=D(2026, 3, 2)
    )
    assert make_due_runs(session, actor=WORKER, today=D(2026, 3, 2)) == 1
    # The worker was stopped for three weeks.
    assert make_due_runs(session, actor=WORKER, today=D(2026, 3, 23)) == 3
    assert make_due_runs(session, actor=WORKER, today=D(2026, 3, 23)) == 0
    invoices = made(session, template)
    assert [i.issue_date for i in invoices] == [D(2026, 3, 2), D(2026, 3, 9), D(2026, 3, 16), D(2026, 3, 23)]
    assert [i.due_date for i in invoices] == [d + dt.timedelta(days=10) for d in (i.issue_date for i in invoices)]
    assert [i.id for i in invoices] == sorted(i.id for i in invoices)  # made oldest first
    assert [i.number for i in invoices] == sorted(i.number for i in invoices)
    assert all(i.status == InvoiceStatus.OPEN and i.recurring_invoice_id == template.id for i in invoices)
    rows = session.scalars(select(QueuedMessage).where(QueuedMessage.invoice_id.in_([i.id for i in invoices]))).all()
    assert sorted((r.invoice_id, r.kind, r.channel) for r in rows) == sorted(
        (i.id, "invoice", "email") for i in invoices
    )
    session.refresh(template)
    assert template.runs == 4 and template.next_run_on == D(2026, 3, 30)
    runs = [a for a in timeline(session, template) if a.verb == "run"]
    assert len(runs) == 4 and all(a.actor_type == "worker" for a in runs)
    assert "Run of 2026-03-09" in " ".join(a.summary for a in runs)


@pytest.mark.backends("sqlite")
def test_issue_mode_queues_nothing_and_draft_mode_leaves_a_draft(session, make_recurring):
    issued = make_recurring(start_date="2026-05-01", mode="issue", today=D(2026, 5, 1))
    drafted = make_recurring(start_date="2026-05-01", mode="draft", today=D(2026, 5, 1))
    assert make_due_runs(session, actor=WORKER, today=D(2026, 5, 1)) == 2
    [one] = made(session, issued)
    [two] = made(session, drafted)
    assert one.status == InvoiceStatus.OPEN and one.number
    assert two.status == InvoiceStatus.DRAFT and two.number is None and two.issue_date == D(2026, 5, 1)
    assert session.scalar(select(func.count()).select_from(QueuedMessage)) == 0


@pytest.mark.backends("sqlite")
def test_totals_come_from_the_invoice_service(session, make_recurring):
    template = make_recurring(
        start_date="2026-05-01",
        currency="NGN",
        items=[{"description": "Tuition", "quantity": "2", "unit_price": "15000.00", "tax_rate": "7.5"}],
        discount={"type": "percent", "value": "10"},
        today=D(2026, 5, 1),
    )
    assert str(template.total) == "29025.0000"
    make_due_runs(session, actor=WORKER, today=D(2026, 5, 1))
    [invoice] = made(session, template)
    assert invoice.total == template.total and invoice.discount_total == 3000


def test_each_run_is_made_once_even_when_asked_again(session, make_recurring, make_invoice):
    template = make_recurring(start_date="2026-05-01", interval="day", today=D(2026, 5, 1))
    for _ in range(3):
        make_due_runs(session, actor=WORKER, today=D(2026, 5, 3))
    assert [i.recurring_run_on for i in made(session, template)] == [D(2026, 5, 1), D(2026, 5, 2), D(2026, 5, 3)]
    # The database itself refuses a second invoice for the same run.
    other = make_invoice()
    other.recurring_invoice_id, other.recurring_run_on = template.id, D(2026, 5, 2)
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()


def test_pause_then_resume_skips_the_runs_before_the_resume_day(session, actor, make_recurring):
    template = make_recurring(start_date="2026-06-01", interval="week", today=D(2026, 6, 1))
    make_due_runs(session, actor=WORKER, today=D(2026, 6, 1))
    pause_recurring_invoice(session, actor=actor, recurring_id=template.id)
    assert make_due_runs(session, actor=WORKER, today=D(2026, 6, 22)) == 0
    resume_recurring_invoice(session, actor=actor, recurring_id=template.id, today=D(2026, 6, 22))
    assert make_due_runs(session, actor=WORKER, today=D(2026, 6, 22)) == 1  # the run on the resume day is made
    assert [i.issue_date for i in made(session, template)] == [D(2026, 6, 1), D(2026, 6, 22)]
    skipped = [a.summary for a in reversed(timeline(session, template)) if a.verb == "skipped"]
    assert skipped == [
        "Run of 2026-06-08 skipped: paused, resumed on 2026-06-22",
        "Run of 2026-06-15 skipped: paused, resumed on 2026-06-22",
    ]
    with pytest.raises(Conflict):
        resume_recurring_invoice(session, actor=actor, recurring_id=template.id)


@pytest.mark.backends("sqlite")
def test_edits_apply_to_the_runs_not_made_yet(session, actor, make_recurring):
    template = make_recurring(start_date="2026-07-01", interval="month", today=D(2026, 7, 1))
    make_due_runs(session, actor=WORKER, today=D(2026, 7, 1))
    changes = RecurringInvoiceChanges.from_mapping(
        {"items": [{"description": "Retainer (new rate)", "quantity": "1", "unit_price": "300.00"}]}
    )
    update_recurring_invoice(session, actor=actor, recurring_id=template.id, data=changes, today=D(2026, 7, 2))
    make_due_runs(session, actor=WORKER, today=D(2026, 8, 1))
    first, second = made(session, template)
    assert (first.total, first.lines[0].description) == (250, "Monthly retainer")
    assert (second.total, second.lines[0].description) == (300, "Retainer (new rate)")


@pytest.mark.backends("sqlite")
def test_a_new_schedule_starts_after_the_last_run_made(session, actor, make_recurring):
    template = make_recurring(start_date="2026-07-01", interval="month", today=D(2026, 7, 1))
    make_due_runs(session, actor=WORKER, today=D(2026, 7, 1))
    changes = RecurringInvoiceChanges.from_mapping({"interval": "week", "start_date": "2026-06-24"})
    update_recurring_invoice(session, actor=actor, recurring_id=template.id, data=changes, today=D(2026, 7, 1))
    assert template.next_run_on == D(2026, 7, 8)


def test_max_runs_and_end_date_end_the_template(session, make_recurring):
    capped = make_recurring(start_date="2026-01-01", interval="day", max_runs=2, today=D(2026, 1, 1))
    ending = make_recurring(start_date="2026-01-01", interval="day", end_date="2026-01-03", today=D(2026, 1, 1))
    assert make_due_runs(session, actor=WORKER, today=D(2026, 1, 10)) == 5
    session.refresh(capped)
    session.refresh(ending)
    assert (capped.status, capped.runs, capped.next_run_on) == (RecurringStatus.ENDED, 2, None)
    assert (ending.status, ending.runs, ending.next_run_on) == (RecurringStatus.ENDED, 3, None)
    assert ending.upcoming_runs() == []


@pytest.mark.backends("sqlite")
def test_delete_only_while_no_invoice_was_made(session, actor, make_recurring):
    unused = make_recurring(start_date="2026-09-01", today=D(2026, 8, 1))
    used = make_recurring(start_date="2026-08-01", today=D(2026, 8, 1))
    make_due_runs(session, actor=WORKER, today=D(2026, 8, 1))
    delete_recurring_invoice(session, actor=actor, recurring_id=unused.id)
    assert session.get(RecurringInvoice, unused.id) is None
    with pytest.raises(Conflict, match="made 1 invoice"):
        delete_recurring_invoice(session, actor=actor, recurring_id=used.id)


@pytest.mark.backends("sqlite")
def test_bad_templates_are_refused_naming_the_field(session, actor, make_client, make_recurring):
    client = make_client(email=None)
    cases = [
        ({"interval": "fortnight"}, "interval"),
        ({"interval_count": 0}, "interval_count"),
        ({"interval_count": "367"}, "interval_count"),
        ({"start_date": "2026-02-30"}, "start_date"),
        ({"start_date": "2026-03-01", "end_date": "2026-02-01"}, "end_date"),
        ({"max_runs": 0}, "max_runs"),
        ({"mode": "fax"}, "mode"),
        ({"payment_terms_days": -1}, "payment_terms_days"),
        ({"items": []}, "items"),
        ({"client_id": 999999}, "client_id"),
    ]
    for fields, path in cases:
        with pytest.raises(ValidationFailed) as refused:
            make_recurring(**fields)
        assert path in refused.value.errors, (fields, refused.value.errors)
    with pytest.raises(ValidationFailed) as refused:
        make_recurring(client=client, mode="send")
    assert "no e-mail address" in refused.value.errors["mode"][0]
    with pytest.raises(ValidationFailed) as refused:
        make_recurring(start_date="2026-01-01", end_date="2026-01-31", today=D(2026, 3, 1))
    assert "end_date" in refused.value.errors
    assert session.scalar(select(func.count()).select_from(RecurringInvoice)) == 0


@pytest.mark.backends("sqlite")
def test_a_run_that_cannot_be_made_stays_due_with_the_reason(session, actor, make_client, make_recurring):
    client = make_client()
    template = make_recurring(client=client, start_date="2026-05-01", today=D(2026, 5, 1))
    archive_client(session, actor=actor, client_id=client.id)
    assert make_due_runs(session, actor=WORKER, today=D(2026, 5, 1)) == 0
    assert make_due_runs(session, actor=WORKER, today=D(2026, 5, 1)) == 0
    session.refresh(template)
    assert "archived" in template.last_error and template.next_run_on == D(2026, 5, 1)
    failures = session.scalars(select(Activity).where(Activity.verb == "run_failed")).all()
    assert len(failures) == 1  # not one per sweep


@pytest.mark.backends("sqlite")
def test_the_editor_preview_shows_the_next_five_dates(session):
    data = RecurringInvoiceInput(interval="month", interval_count=1, start_date="2026-01-31")
    assert upcoming_runs(session, data=data, today=D(2026, 1, 1)) == [
        D(2026, 1, 31),
        D(2026, 2, 28),
        D(2026, 3, 31),
        D(2026, 4, 30),
        D(2026, 5, 31),
    ]


@pytest.mark.backends("sqlite")
def test_a_client_with_a_recurring_invoice_is_not_deleted(session, actor, make_client, make_recurring):
    client = make_client()
    make_recurring(client=client, start_date="2099-01-01")
    with pytest.raises(Conflict, match="has recurring invoices"):
        delete_client(session, actor=actor, client_id=client.id)
