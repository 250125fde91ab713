"""Payment reminders (SPEC §8): which stage each unpaid invoice is due, queued once.

The schedule lives in the settings: day offsets from the due date (default
3 days before, on the day, 3 days after), then one more every
``reminder_repeat_days`` after the last offset, ``reminder_max`` stages in
all. A sweep queues, for every invoice that needs one, only the **latest**
stage whose day has come: a worker that was stopped for a week sends one
reminder on its return, not a burst, and the stages it slept through are
never sent. Each stage is one row with a unique ``dedupe_key``, so concurrent
sweeps and repeated sweeps cannot queue it twice.

Each invoice carries ``next_reminder_on``, the day the sweep must next look
at it, and a sweep reads only the live invoices with a balance whose day has
come or is unknown (one query over a partial index), so a sweep with nothing
new due costs the same among 100,000 invoices as among 1,000. The values:

- NULL: not worked out yet (a new invoice; or reset because the schedule was
  changed in the settings, or the invoice's due date or last e-mailed day
  changed). The next sweep works it out.
- a day: the day of the first stage not yet sent or skipped. Written by every
  sweep that looks at the invoice: the first stage's day when none has come;
  after queuing stage k (or skipping it because the invoice was e-mailed on
  or after its day, or finding it or a later one already queued) the day of
  stage k+1.
- ``REMINDERS_DONE`` (9999-12-31): every stage is done; never a candidate
  again until something resets it to NULL. A sentinel rather than NULL keeps
  NULL meaning "unknown" and the candidate test a plain range.

A due stage held back only for now (the client has no e-mail or opted out,
or the invoice e-mail is still queued) leaves the column alone, so the
invoice stays a candidate and gets the latest stage as soon as the client
can be reached, exactly as before; the sweep's cost grows only with such
invoices. A paid or void invoice leaves the partial index altogether.
"""

from __future__ import annotations

import bisect
import datetime as dt
import logging
from collections.abc import Iterable, Sequence

from sqlalchemy import Date, bindparam, func, literal, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shared.db import utcnow
from shared.lookups import get_settings
from shared.messages.queue import notify_workers
from shared.models import Client, Invoice, QueuedMessage, Settings
from shared.models.enums import WAITING_MESSAGE_STATES, MessageState
from shared.transactions import atomic

log = logging.getLogger("shared.messages.reminders")

INSERT_CHUNK = 500
#: ``next_reminder_on`` of an invoice whose every stage is done (sent or skipped).
REMINDERS_DONE = dt.date(9999, 12, 31)


def reminder_stages(offsets: Iterable[object] | None, repeat_days: int, maximum: int) -> list[int]:
    """Day offsets from the due date, one per stage: ``[-3, 0, 3, 10, 17, 24]`` by default.

    Offsets are sorted and de-duplicated; repeats follow the last offset (or
    the due date when there are none) every ``repeat_days`` days.
    """
    clean: set[int] = set()
    for value in offsets or []:
        try:
            clean.add(int(value))
        except (TypeError, ValueError):
            log.warning("ignoring reminder offset %r: not a whole number of days", value)
    stages = sorted(clean)[: max(0, maximum)]
    if repeat_days > 0:
        last = stages[-1] if stages else 0
        while len(stages) < maximum:
            last += repeat_days
            stages.append(last)
    return stages


def reminder_dedupe_key(invoice_id: int, stage: int, channel: str) -> str:
    return f"reminder:{invoice_id}:{stage}:{channel}"


def _utc_day(moment: dt.datetime) -> dt.date:
    """The (UTC) calendar day of a stored timestamp."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return moment.date()


def reminder_candidates_query(today: dt.date):
    """The invoices the sweep must look at ``today``: one row each, with what it needs to decide.

    Live invoices with a balance whose ``next_reminder_on`` is unknown (NULL)
    or has come, read through the partial index on that column. Each row
    carries the live client's contact details, the latest reminder stage
    already queued for the invoice (in any state: each stage at most once)
    and whether the invoice e-mail itself is still waiting to go out.
    """
    reminded = QueuedMessage.__table__.alias("reminded")
    pending_invoice_email = QueuedMessage.__table__.alias("pending_invoice_email")
    reminded_stage = (
        select(func.max(reminded.c.reminder_stage))
        .where(reminded.c.invoice_id == Invoice.id, reminded.c.kind == "reminder")
        .scalar_subquery()
    )
    # A scalar subquery, not EXISTS: Postgres then always probes the invoice_id index per
    # candidate instead of sometimes hashing a scan of the whole queue.
    invoice_email_pending = (
        select(literal(True))
        .where(
            pending_invoice_email.c.invoice_id == Invoice.id,
            pending_invoice_email.c.kind == "invoice",
            pending_invoice_email.c.channel == "email",
            pending_invoice_email.c.state.in_(WAITING_MESSAGE_STATES),
        )
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(
            Invoice.id.label("invoice_id"),
            Invoice.client_id,
            Invoice.due_date,
            Invoice.last_emailed_at,
            Invoice.next_reminder_on,
            Client.email,
            Client.phone,
            Client.sms_opt_in,
            Client.reminders_opt_out,
            reminded_stage.label("reminded_stage"),
            invoice_email_pending.label("invoice_email_pending"),
        )
        .join(Client, Client.id == Invoice.client_id)
        .where(
            Invoice.is_live,
            Invoice.balance_due > 0,
            or_(Invoice.next_reminder_on.is_(None), Invoice.next_reminder_on <= today),
        )
    )


def _plan(candidate, stages: Sequence[int], today: dt.date) -> tuple[int | None, dt.date | None]:
    """``(stage to queue or None, new next_reminder_on)`` for one candidate.

    A new ``next_reminder_on`` of None means "leave the column as it is": the
    invoice stays a candidate because a due stage is held back only for now
    (the client cannot be reached yet, or the invoice e-mail is still queued).
    """

    def day_of(stage: int) -> dt.date:
        """The day of stage ``stage`` (1-based); REMINDERS_DONE past the last one."""
        if stage > len(stages):
            return REMINDERS_DONE
        return candidate.due_date + dt.timedelta(days=stages[stage - 1])

    latest = bisect.bisect_right(stages, (today - candidate.due_date).days)  # 0: no stage has come
    if latest == 0:
        return None, day_of(1)
    already = candidate.reminded_stage or 0
    if already >= latest:
        return None, day_of(already + 1)
    if candidate.last_emailed_at is not None and _utc_day(candidate.last_emailed_at) >= day_of(latest):
        return None, day_of(latest + 1)
    if candidate.reminders_opt_out or not candidate.email or candidate.invoice_email_pending:
        return None, None
    return latest, day_of(latest + 1)


def _set_next_reminder_on(session: Session, changes: list[dict]) -> None:
    """Write the new ``next_reminder_on`` values, set-based, unless the invoice changed meanwhile.

    A row is written only while its due date and ``next_reminder_on`` are
    still what the sweep read: a concurrent reset (schedule or due date
    changed) is never overwritten with a value worked out from stale data.
    """
    table = Invoice.__table__
    if session.get_bind().dialect.name == "postgresql":
        # One statement whatever the count: four arrays, unnested into rows.
        session.execute(
            text(
                "UPDATE invoices SET next_reminder_on = change.new"
                " FROM unnest(CAST(:ids AS INTEGER[]), CAST(:due_dates AS DATE[]),"
                " CAST(:olds AS DATE[]), CAST(:news AS DATE[])) AS change (id, due_date, old, new)"
                " WHERE invoices.id = change.id AND invoices.due_date = change.due_date"
                " AND invoices.next_reminder_on IS NOT DISTINCT FROM change.old"
            ),
            {
                "ids": [c["b_id"] for c in changes],
                "due_dates": [c["b_due_date"] for c in changes],
                "olds": [c["b_old"] for c in changes],
                "news": [c["b_new"] for c in changes],
            },
        )
        return
    # SQLite: no column list on a VALUES alias; one prepared statement, executemany.
    session.execute(
        update(table)
        .where(
            table.c.id == bindparam("b_id"),
            table.c.due_date == bindparam("b_due_date"),
            table.c.next_reminder_on.is_not_distinct_from(bindparam("b_old", type_=Date)),
        )
        .values(next_reminder_on=bindparam("b_new")),
        changes,
    )


def _schedule(session: Session) -> list[int]:
    """The reminder stages, read under a lock on the settings row.

    ``update_settings`` resets ``next_reminder_on`` in the transaction that
    changes the schedule; the lock orders a sweep wholly before or after it,
    so a sweep never writes dates worked out from the schedule it replaced.
    The lock is exclusive so that two workers' sweeps also run one after the
    other: the second then reads the days the first wrote, instead of both
    updating the same invoices in different orders (a deadlock on Postgres).
    Plain reads of the settings are not blocked. (SQLite: the sweep already
    holds the single write lock.)
    """
    settings = session.execute(
        select(Settings).where(Settings.id == 1).with_for_update().execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if settings is None:
        settings = get_settings(session)
    return reminder_stages(settings.reminder_offsets, settings.reminder_repeat_days, settings.reminder_max)


def sweep_reminders(
    session: Session,
    *,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
    sms: bool = True,
) -> int:
    """Queue the reminders due ``today``; returns how many rows were queued.

    E-mail to every candidate; a text too when the client opted in to SMS,
    has a phone number and ``sms`` is on (the worker passes False when
    ``SMS_BACKEND=disabled``). Safe to run from several workers at once.
    Every candidate looked at gets its new ``next_reminder_on`` in the same
    transaction as the queued rows.
    """
    today = today or dt.date.today()
    now = now or utcnow()
    with atomic(session):
        stages = _schedule(session)
        if not stages:
            return 0
        if session.get_bind().dialect.name == "postgresql":
            # The planner prices the per-candidate subqueries as if thousands of rows came back
            # (paid invoices are NULL too), and above jit_above_cost it spends ~50 ms compiling
            # a query that usually returns nothing. This transaction only.
            session.execute(text("SET LOCAL jit = off"))
        values_: list[dict] = []
        changes: list[dict] = []
        for candidate in session.execute(reminder_candidates_query(today)):
            stage, next_on = _plan(candidate, stages, today)
            if next_on is not None and next_on != candidate.next_reminder_on:
                changes.append(
                    {
                        "b_id": candidate.invoice_id,
                        "b_due_date": candidate.due_date,
                        "b_old": candidate.next_reminder_on,
                        "b_new": next_on,
                    }
                )
            if stage is None:
                continue
            channels = [("email", candidate.email)]
            if sms and candidate.sms_opt_in and candidate.phone:
                channels.append(("sms", candidate.phone))
            for channel, recipient in channels:
                values_.append(
                    {
                        "kind": "reminder",
                        "channel": channel,
                        "recipient": recipient,
                        "invoice_id": candidate.invoice_id,
                        "client_id": candidate.client_id,
                        "reminder_stage": stage,
                        "dedupe_key": reminder_dedupe_key(candidate.invoice_id, stage, channel),
                        "state": MessageState.QUEUED.value,
                        "attempts": 0,
                        "next_attempt_at": now,
                        "requested_by": "reminder schedule",
                        "created_at": now,
                        "updated_at": now,
                    }
                )
        queued = 0
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        table = QueuedMessage.__table__
        # One statement, many parameter sets (SQLAlchemy batches them into multi-row VALUES):
        # compiled once, where a VALUES list built per chunk was compiled again every time.
        statement = insert(table).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(table.c.id)
        for start in range(0, len(values_), INSERT_CHUNK):
            chunk = values_[start : start + INSERT_CHUNK]
            queued += len(session.execute(statement, chunk).all())
        if changes:
            _set_next_reminder_on(session, changes)
        if queued:
            notify_workers(session)
    if queued:
        log.info("reminder sweep for %s queued %d message(s)", today.isoformat(), queued)
    return queued


def reminder_stage_dates(due_date: dt.date, stages: Sequence[int]) -> list[dt.date]:
    """The calendar day of each stage for one invoice (for display and tests)."""
    return [due_date + dt.timedelta(days=offset) for offset in stages]


__all__ = [
    "REMINDERS_DONE",
    "reminder_candidates_query",
    "reminder_dedupe_key",
    "reminder_stage_dates",
    "reminder_stages",
    "sweep_reminders",
]
