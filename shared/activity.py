"""The activity timeline (SPEC §5.7): one row per change to money or state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from shared.actors import Actor
from shared.db import utcnow
from shared.models import Activity
from shared.transactions import insert_at_commit


def record_activity(
    session: Session,
    actor: Actor,
    verb: str,
    subject: Any,
    *,
    summary: str | Callable[[], str] = "",
    invoice_id: int | None = None,
    client_id: int | None = None,
    details: dict | None = None,
) -> None:
    """Add a timeline entry (SPEC §5.7) to the current transaction.

    Nothing reads a timeline row back in the transaction that writes it, so
    the row goes to the database with the commit's last round trip.
    """
    if subject.id is None:
        session.flush()  # the subject needs its id
    row = dict(
        occurred_at=utcnow(),
        actor_type=actor.type,
        actor_id=actor.id,
        actor_label=actor.label[:200],
        verb=verb,
        subject_type=getattr(subject, "activity_subject", type(subject).__name__.lower()),
        subject_id=subject.id,
        invoice_id=invoice_id,
        client_id=client_id,
        summary=(lambda: summary()[:500]) if callable(summary) else summary[:500],
        details=details,
    )
    insert_at_commit(session, Activity.__table__, row)
