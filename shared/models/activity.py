from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.db import db, utcnow
from shared.models.enums import ACTOR_TYPES, one_of


class Activity(db.Model):
    """One entry of a timeline (SPEC §5.7): who did what to which subject, when."""

    __tablename__ = "activity"
    __table_args__ = (
        CheckConstraint(one_of("actor_type", ACTOR_TYPES), name="actor_type"),
        Index("ix_activity_subject", "subject_type", "subject_id"),
        Index("ix_activity_invoice_id", "invoice_id"),
        Index("ix_activity_client_id", "client_id"),
        Index("ix_activity_occurred_at", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor_type: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None]
    actor_label: Mapped[str] = mapped_column(String(200))
    verb: Mapped[str] = mapped_column(String(40))
    subject_type: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[int]
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    summary: Mapped[str] = mapped_column(String(500), default="")
    details: Mapped[dict | None] = mapped_column(JSON)

    @property
    def shown_actor(self) -> str:
        """Who did it, as staff read it: a worker is "worker", never its host and process id."""
        return "worker" if self.actor_type == "worker" else self.actor_label

    # The invoice the entry is about, so timelines can link its number.
    invoice = relationship("Invoice", viewonly=True)

    def __repr__(self) -> str:
        return f"<Activity {self.verb} {self.subject_type}:{self.subject_id} by {self.actor_label}>"
