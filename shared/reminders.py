"""Payment reminders (SPEC §8): which stage each unpaid invoice is due, queued once.

The schedule lives in the settings: day offsets from the due date (default
3 days before, on the day, 3 days after), then one more every
``reminder_repeat_days`` after the last offset, ``reminder_max`` stages in
all. A sweep queues, for every invoice that needs one, only the **latest**
stage whose day has come: a worker that was stopped for a week sends one
reminder on its return, not a burst, and the stages it slept through are
never sent. Each stage is one row with a unique ``dedupe_key``, so concurrent
sweeps and repeated sweeps cannot queue it twice.

The candidates are found by one set-based query (the stage of each invoice is
a CASE over its due date), so a sweep costs the same whether it finds
nothing among 100,000 invoices or a handful.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence

from sqlalchemy import Date, case, exists, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from shared.db import utcnow
from shared.models import Client, Invoice, QueuedMessage
from shared.models.enums import LIVE_INVOICE_STATES
from shared.services.base import atomic, get_settings
from shared.services.notifications import notify_workers

log = logging.getLogger("shared.reminders")

INSERT_CHUNK = 500


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


class _days_after(FunctionElement):
    """``date + n days`` for a date column and an integer expression, on both databases."""

    type = Date()
    inherit_cache = True


@compiles(_days_after, "postgresql")
def _days_after_pg(element, compiler, **kw):
    day, days = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"({day} + CAST({days} AS INTEGER))"


@compiles(_days_after, "sqlite")
def _days_after_sqlite(element, compiler, **kw):
    day, days = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"date({day}, ({days}) || ' days')"


class _day_of(FunctionElement):
    """The (UTC) calendar day of a stored timestamp."""

    type = Date()
    inherit_cache = True


@compiles(_day_of, "postgresql")
def _day_of_pg(element, compiler, **kw):
    return f"CAST({compiler.process(element.clauses, **kw)} AS DATE)"


@compiles(_day_of, "sqlite")
def _day_of_sqlite(element, compiler, **kw):
    return f"date({compiler.process(element.clauses, **kw)})"


def _stage_case(stages: Sequence[int], today: dt.date, values: Sequence[int]):
    """CASE giving ``values[k]`` for the latest stage k whose day has come (NULL for none)."""
    whens = [
        (Invoice.due_date <= today - dt.timedelta(days=offset), value)
        for offset, value in reversed(list(zip(stages, values, strict=True)))
    ]
    return case(*whens, else_=None)


def due_reminders_query(stages: Sequence[int], today: dt.date):
    """One row per invoice that needs a reminder today: invoice, client contact, stage.

    Stage ``k`` (1-based) is due once ``due_date + stages[k-1] <= today``; the
    latest such stage is the one wanted. It is skipped when a reminder of that
    stage or a later one already exists (in any state: each stage at most
    once), when its day is on or before the day the invoice was last e-mailed,
    and for now while the invoice e-mail itself is still waiting to go out.
    """
    stage = _stage_case(stages, today, list(range(1, len(stages) + 1))).label("stage")
    offset = _stage_case(stages, today, list(stages)).label("offset")
    candidates = (
        select(
            Invoice.id.label("invoice_id"),
            Invoice.client_id,
            Invoice.due_date,
            Invoice.last_emailed_at,
            Client.email,
            Client.phone,
            Client.sms_opt_in,
            stage,
            offset,
        )
        .join(Client, Client.id == Invoice.client_id)
        .where(
            Invoice.status.in_(LIVE_INVOICE_STATES),
            Invoice.total > Invoice.amount_paid,
            Invoice.due_date <= today - dt.timedelta(days=stages[0]),
            Client.reminders_opt_out.is_(False),
            Client.email.is_not(None),
            Client.email != "",
        )
        .subquery("candidate")
    )
    reminded = QueuedMessage.__table__.alias("reminded")
    pending_invoice_email = QueuedMessage.__table__.alias("pending_invoice_email")
    return select(candidates).where(
        ~exists().where(
            reminded.c.invoice_id == candidates.c.invoice_id,
            reminded.c.kind == "reminder",
            reminded.c.reminder_stage >= candidates.c.stage,
        ),
        ~exists().where(
            pending_invoice_email.c.invoice_id == candidates.c.invoice_id,
            pending_invoice_email.c.kind == "invoice",
            pending_invoice_email.c.channel == "email",
            pending_invoice_email.c.state.in_(("queued", "sending")),
        ),
        or_(
            candidates.c.last_emailed_at.is_(None),
            _day_of(candidates.c.last_emailed_at) < _days_after(candidates.c.due_date, candidates.c.offset),
        ),
    )


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
    """
    today = today or dt.date.today()
    now = now or utcnow()
    with atomic(session):
        settings = get_settings(session)
        stages = reminder_stages(settings.reminder_offsets, settings.reminder_repeat_days, settings.reminder_max)
        if not stages:
            return 0
        values: list[dict] = []
        for candidate in session.execute(due_reminders_query(stages, today)):
            channels = [("email", candidate.email)]
            if sms and candidate.sms_opt_in and candidate.phone:
                channels.append(("sms", candidate.phone))
            for channel, recipient in channels:
                values.append(
                    {
                        "kind": "reminder",
                        "channel": channel,
                        "recipient": recipient,
                        "invoice_id": candidate.invoice_id,
                        "client_id": candidate.client_id,
                        "reminder_stage": candidate.stage,
                        "dedupe_key": reminder_dedupe_key(candidate.invoice_id, candidate.stage, channel),
                        "state": "queued",
                        "attempts": 0,
                        "next_attempt_at": now,
                        "requested_by": "reminder schedule",
                        "created_at": now,
                        "updated_at": now,
                    }
                )
        queued = 0
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        for start in range(0, len(values), INSERT_CHUNK):
            chunk = values[start : start + INSERT_CHUNK]
            result = session.execute(
                insert(QueuedMessage).values(chunk).on_conflict_do_nothing(index_elements=["dedupe_key"])
            )
            queued += max(result.rowcount or 0, 0)
        if queued:
            notify_workers(session)
    if queued:
        log.info("reminder sweep for %s queued %d message(s)", today.isoformat(), queued)
    return queued


def reminder_stage_dates(due_date: dt.date, stages: Sequence[int]) -> list[dt.date]:
    """The calendar day of each stage for one invoice (for display and tests)."""
    return [due_date + dt.timedelta(days=offset) for offset in stages]


__all__ = [
    "due_reminders_query",
    "reminder_dedupe_key",
    "reminder_stage_dates",
    "reminder_stages",
    "sweep_reminders",
]
