"""``invoices.next_reminder_on``: the sweep reads only the invoices whose day has come."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from shared.inputs import ClientChanges, PaymentInput, SettingsChanges
from shared.messages.reminders import REMINDERS_DONE, reminder_candidates_query, sweep_reminders
from shared.models import Invoice, QueuedMessage
from shared.services import record_payment, update_client, void_payment
from shared.services.settings import update_settings

TODAY = dt.date.today()


def days(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


def issued(make_invoice, *, due_in: int, **fields) -> Invoice:
    due = days(due_in)
    return make_invoice(issue=True, issue_date=min(TODAY, due).isoformat(), due_date=due.isoformat(), **fields)


def next_day(session, invoice) -> dt.date | None:
    session.expire_all()
    return session.scalar(select(Invoice.next_reminder_on).where(Invoice.id == invoice.id))


def candidates(session, today: dt.date = TODAY) -> list[int]:
    return [row.invoice_id for row in session.execute(reminder_candidates_query(today))]


def stages_queued(session, invoice) -> list[int]:
    query = select(QueuedMessage.reminder_stage).where(
        QueuedMessage.invoice_id == invoice.id, QueuedMessage.kind == "reminder"
    )
    return sorted(session.scalars(query))


def test_a_sweep_with_nothing_due_works_out_the_day_and_the_next_reads_nothing(session, make_invoice):
    later = issued(make_invoice, due_in=10)  # first stage 3 days before: day 7
    soon = issued(make_invoice, due_in=4)  # day 1
    assert next_day(session, later) is None
    assert sorted(candidates(session)) == sorted([later.id, soon.id])
    assert sweep_reminders(session, today=TODAY, sms=False) == 0
    assert next_day(session, later) == days(7)
    assert next_day(session, soon) == days(1)
    assert candidates(session) == []
    assert candidates(session, days(1)) == [soon.id]
    assert sweep_reminders(session, today=days(1), sms=False) == 1
    assert stages_queued(session, soon) == [1]


def test_after_stage_k_the_day_is_that_of_stage_k_plus_one(session, make_invoice):
    invoice = issued(make_invoice, due_in=-5)  # stages -3, 0, 3, 10, 17, 24 from due: stage 3 now
    assert sweep_reminders(session, today=TODAY, sms=False) == 1
    assert stages_queued(session, invoice) == [3]
    assert next_day(session, invoice) == days(-5 + 10)
    assert candidates(session) == []
    assert sweep_reminders(session, today=days(5), sms=False) == 1
    assert stages_queued(session, invoice) == [3, 4]
    assert next_day(session, invoice) == days(-5 + 17)


def test_after_the_last_stage_the_invoice_is_done(session, make_invoice):
    invoice = issued(make_invoice, due_in=-30)
    assert sweep_reminders(session, today=TODAY, sms=False) == 1
    assert next_day(session, invoice) == REMINDERS_DONE
    assert candidates(session, days(3650)) == []


def test_a_stage_skipped_for_the_last_email_moves_the_day_on(session, make_invoice):
    invoice = issued(make_invoice, due_in=-5)
    invoice.last_emailed_at = dt.datetime.combine(days(-2), dt.time(9), tzinfo=dt.UTC)  # on stage 3's day
    session.commit()
    assert sweep_reminders(session, today=TODAY, sms=False) == 0
    assert next_day(session, invoice) == days(5)  # stage 4


def test_a_client_who_cannot_be_reached_stays_a_candidate(session, actor, make_client, make_invoice):
    client = make_client(reminders_opt_out=True)
    invoice = issued(make_invoice, due_in=-5, client=client)
    assert sweep_reminders(session, today=TODAY, sms=False) == 0
    assert candidates(session) == [invoice.id]
    update_client(session, actor=actor, client_id=client.id, data=ClientChanges(reminders_opt_out=False))
    assert sweep_reminders(session, today=days(1), sms=False) == 1
    assert stages_queued(session, invoice) == [3]


def test_a_schedule_change_resets_the_day_and_the_next_sweep_follows_it(session, actor, make_invoice):
    invoice = issued(make_invoice, due_in=-5)
    draft = make_invoice(issue_date=days(-20).isoformat(), due_date=days(-5).isoformat())
    assert sweep_reminders(session, today=TODAY, sms=False) == 1
    assert next_day(session, invoice) == days(5)
    update_settings(session, actor=actor, data=SettingsChanges(reminder_offsets=[-3, 0, 3, 7], reminder_repeat_days=0))
    assert next_day(session, invoice) is None
    assert next_day(session, draft) is None
    assert sweep_reminders(session, today=TODAY, sms=False) == 0  # stage 3 already queued
    assert next_day(session, invoice) == days(2)  # stage 4 is now 7 days after due
    assert sweep_reminders(session, today=days(2), sms=False) == 1
    assert stages_queued(session, invoice) == [3, 4]
    assert next_day(session, invoice) == REMINDERS_DONE
    update_settings(session, actor=actor, data=SettingsChanges(company_name="Renamed"))
    assert next_day(session, invoice) == REMINDERS_DONE  # other settings leave it alone


def test_payment_in_full_takes_the_invoice_out(session, actor, make_invoice):
    invoice = issued(make_invoice, due_in=4)
    assert sweep_reminders(session, today=TODAY, sms=False) == 0
    assert candidates(session, days(1)) == [invoice.id]
    record_payment(session, actor=actor, invoice_id=invoice.id, data=PaymentInput(amount="100.00"))
    assert candidates(session, days(1)) == []
    assert sweep_reminders(session, today=days(1), sms=False) == 0


def test_a_schedule_changed_while_paid_applies_when_a_voided_payment_reopens_it(session, actor, make_invoice):
    update_settings(session, actor=actor, data=SettingsChanges(reminder_offsets=[0, 3], reminder_repeat_days=0))
    invoice = issued(make_invoice, due_in=-10)
    assert sweep_reminders(session, today=TODAY, sms=False) == 1  # stage 2 (3 days after due)
    assert next_day(session, invoice) == REMINDERS_DONE
    payment = record_payment(session, actor=actor, invoice_id=invoice.id, data=PaymentInput(amount="100.00"))[0]
    update_settings(session, actor=actor, data=SettingsChanges(reminder_offsets=[0, 3, 7], reminder_repeat_days=0))
    void_payment(session, actor=actor, payment_id=payment.id, reason="cheque bounced")
    assert invoice.id in candidates(session)
    assert sweep_reminders(session, today=TODAY, sms=False) == 1
    assert stages_queued(session, invoice) == [2, 3]
