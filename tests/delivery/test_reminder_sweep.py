"""Payment reminders (SPEC §8): the schedule, one stage at a time, never a burst."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event, select

from shared.db import utcnow
from shared.inputs import ClientChanges, PaymentInput
from shared.messages.reminders import reminder_stages, sweep_reminders
from shared.models import QueuedMessage
from shared.services import Notify, get_settings, record_payment, update_client, void_invoice

TODAY = dt.date.today()


def days(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


def issued(make_invoice, *, due_in: int, **fields) -> object:
    """An issued, unpaid invoice due ``due_in`` days from today (negative: past due)."""
    due = days(due_in)
    return make_invoice(issue=True, issue_date=min(TODAY, due).isoformat(), due_date=due.isoformat(), **fields)


def reminders(session, invoice=None) -> list[tuple[int, str, str]]:
    session.expire_all()
    query = select(QueuedMessage).where(QueuedMessage.kind == "reminder").order_by(QueuedMessage.id)
    if invoice is not None:
        query = query.where(QueuedMessage.invoice_id == invoice.id)
    return [(r.reminder_stage, r.channel, r.state) for r in session.scalars(query)]


@pytest.mark.parametrize(
    ("offsets", "repeat", "maximum", "stages"),
    [
        ([-3, 0, 3], 7, 6, [-3, 0, 3, 10, 17, 24]),
        ([3, -3, 0, 3], 7, 4, [-3, 0, 3, 10]),
        ([-3, 0, 3], 7, 2, [-3, 0]),
        ([-3, 0, 3], 0, 6, [-3, 0, 3]),
        ([], 7, 2, [7, 14]),
        ([-3, 0, 3], 7, 0, []),
    ],
)
def test_reminder_schedule_from_settings(offsets, repeat, maximum, stages):
    assert reminder_stages(offsets, repeat, maximum) == stages


def test_overdue_invoice_gets_the_current_stage_once(session, make_invoice):
    invoice = issued(make_invoice, due_in=-5)  # stages at -3, 0, 3, 10...: 3 days after is the latest
    assert sweep_reminders(session, today=TODAY, sms=False) == 1
    assert reminders(session, invoice) == [(3, "email", "queued")]
    assert sweep_reminders(session, today=TODAY, sms=False) == 0
    assert sweep_reminders(session, today=days(4), sms=False) == 0  # stage 4 is due 10 days after
    assert sweep_reminders(session, today=days(5), sms=False) == 1
    assert reminders(session, invoice) == [(3, "email", "queued"), (4, "email", "queued")]


def test_a_stopped_worker_catches_up_with_the_latest_stage_only(session, make_invoice):
    invoice = issued(make_invoice, due_in=-30)  # all six stages have passed
    assert sweep_reminders(session, today=TODAY, sms=False) == 1
    assert reminders(session, invoice) == [(6, "email", "queued")]
    assert sweep_reminders(session, today=days(60), sms=False) == 0  # the schedule is used up


def test_invoice_not_yet_near_its_due_date_gets_nothing(session, make_invoice):
    issued(make_invoice, due_in=4)
    assert sweep_reminders(session, today=TODAY) == 0
    assert sweep_reminders(session, today=days(1)) == 1  # three days before


def test_a_stage_on_or_before_the_last_email_is_skipped(session, make_invoice):
    invoice = issued(make_invoice, due_in=-5)
    invoice.last_emailed_at = dt.datetime.combine(days(-2), dt.time(9), tzinfo=dt.UTC)  # after stage 3 (day -2)
    session.commit()
    assert sweep_reminders(session, today=TODAY) == 0
    invoice.last_emailed_at = dt.datetime.combine(days(-3), dt.time(9), tzinfo=dt.UTC)  # before it
    session.commit()
    assert sweep_reminders(session, today=TODAY, sms=False) == 1


def test_reminders_wait_while_the_invoice_email_is_still_queued(session, make_invoice):
    invoice = issued(make_invoice, due_in=-5, notify=Notify(email=True))
    assert sweep_reminders(session, today=TODAY) == 0
    session.query(QueuedMessage).filter_by(invoice_id=invoice.id).update({"state": "failed"})
    session.commit()
    assert sweep_reminders(session, today=TODAY, sms=False) == 1


def test_reminders_are_sent_whether_or_not_the_invoice_was_emailed(session, make_invoice):
    never_emailed = issued(make_invoice, due_in=0)
    assert sweep_reminders(session, today=TODAY, sms=False) == 1
    assert reminders(session, never_emailed) == [(2, "email", "queued")]


def test_sms_reminders_for_clients_who_opted_in(session, make_client, make_invoice):
    opted_in = issued(make_invoice, due_in=-1, client=make_client(sms_opt_in=True, phone="+2348031234567"))
    email_only = issued(make_invoice, due_in=-1, client=make_client(sms_opt_in=False))
    assert sweep_reminders(session, today=TODAY) == 3
    assert reminders(session, opted_in) == [(2, "email", "queued"), (2, "sms", "queued")]
    assert reminders(session, email_only) == [(2, "email", "queued")]
    recipients = {r.channel: r.recipient for r in session.scalars(select(QueuedMessage))}
    assert recipients["sms"] == "+2348031234567"


def test_sms_switched_off_queues_email_reminders_only(session, make_client, make_invoice):
    invoice = issued(make_invoice, due_in=-1, client=make_client(sms_opt_in=True))
    assert sweep_reminders(session, today=TODAY, sms=False) == 1
    assert reminders(session, invoice) == [(2, "email", "queued")]


@pytest.mark.parametrize("case", ["opted-out", "no-email", "draft", "void", "paid"])
def test_no_reminder_for_those_who_should_not_get_one(session, actor, make_client, make_invoice, case):
    if case == "opted-out":
        issued(make_invoice, due_in=-5, client=make_client(reminders_opt_out=True))
    elif case == "no-email":
        issued(make_invoice, due_in=-5, client=make_client(email=None))
    elif case == "draft":
        make_invoice(issue_date=days(-20).isoformat(), due_date=days(-5).isoformat())
    elif case == "void":
        invoice = issued(make_invoice, due_in=-5)
        void_invoice(session, actor=actor, invoice_id=invoice.id)
    else:
        invoice = issued(make_invoice, due_in=-5)
        record_payment(session, actor=actor, invoice_id=invoice.id, data=PaymentInput(amount="100.00"))
    assert sweep_reminders(session, today=TODAY) == 0


def test_the_live_client_decides_not_the_frozen_copy(session, actor, make_client, make_invoice):
    client = make_client()
    invoice = issued(make_invoice, due_in=-5, client=client)
    update_client(session, actor=actor, client_id=client.id, data=ClientChanges(reminders_opt_out=True))
    assert sweep_reminders(session, today=TODAY) == 0
    update_client(
        session, actor=actor, client_id=client.id, data=ClientChanges(reminders_opt_out=False, email="new@example.com")
    )
    assert sweep_reminders(session, today=TODAY, sms=False) == 1
    assert session.scalars(select(QueuedMessage.recipient).where(QueuedMessage.invoice_id == invoice.id)).one() == (
        "new@example.com"
    )


def test_full_payment_cancels_queued_reminders_and_a_partial_one_does_not(session, actor, make_invoice):
    invoice = issued(make_invoice, due_in=-5)
    sweep_reminders(session, today=TODAY, sms=False)
    record_payment(session, actor=actor, invoice_id=invoice.id, data=PaymentInput(amount="40.00"))
    assert reminders(session, invoice) == [(3, "email", "queued")]
    record_payment(session, actor=actor, invoice_id=invoice.id, data=PaymentInput(amount="60.00"))
    assert reminders(session, invoice) == [(3, "email", "cancelled")]


def test_schedule_changes_in_settings_apply(session, make_invoice):
    settings = get_settings(session)
    settings.reminder_offsets, settings.reminder_max = [1], 1
    session.commit()
    invoice = issued(make_invoice, due_in=-5)
    assert sweep_reminders(session, today=TODAY, sms=False) == 1
    assert reminders(session, invoice) == [(1, "email", "queued")]


def test_the_sweep_is_one_query_however_many_invoices(session, engine, make_invoice):
    def statements_for_a_sweep(today: dt.date) -> list[str]:
        seen: list[str] = []

        def record(conn, cursor, statement, parameters, context, executemany):
            if statement.lstrip().upper().startswith("SELECT") and "email_queue" in statement:
                seen.append(statement)

        event.listen(engine, "before_cursor_execute", record)
        try:
            sweep_reminders(session, today=today, now=utcnow(), sms=False)
        finally:
            event.remove(engine, "before_cursor_execute", record)
        return seen

    for _ in range(3):
        issued(make_invoice, due_in=-5)
    few = statements_for_a_sweep(TODAY)
    for _ in range(20):
        issued(make_invoice, due_in=-5)
    many = statements_for_a_sweep(TODAY)
    assert len(few) == len(many) == 1
