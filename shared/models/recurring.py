from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.db import db, utcnow
from shared.models.enums import (
    DISCOUNT_TYPES,
    RECURRING_INTERVALS,
    RECURRING_MODES,
    RECURRING_STATES,
    RecurringMode,
    RecurringStatus,
    one_of,
    sql_literal,
)
from shared.recurrence import Schedule


class RecurringInvoice(db.Model):
    """A template that issues invoices on a schedule (SPEC §12).

    ``next_run_index`` is the ``k`` of the next run not yet made or skipped and
    ``next_run_on`` its date (NULL once the template has ended); both are moved
    only by ``shared.services.recurring`` in the transaction that makes or
    skips a run. ``runs`` counts the invoices made. Each invoice made carries
    ``recurring_invoice_id`` and ``recurring_run_on``, unique together: a run
    is made once even if two workers ever tried.
    """

    __tablename__ = "recurring_invoices"
    activity_subject = "recurring_invoice"
    __table_args__ = (
        CheckConstraint(one_of("interval", RECURRING_INTERVALS), name="interval"),
        CheckConstraint(one_of("mode", RECURRING_MODES), name="mode"),
        CheckConstraint(one_of("status", RECURRING_STATES), name="status"),
        CheckConstraint(f"discount_type IS NULL OR {one_of('discount_type', DISCOUNT_TYPES)}", name="discount_type"),
        CheckConstraint("interval_count >= 1 AND interval_count <= 366", name="interval_count_range"),
        CheckConstraint("max_runs IS NULL OR max_runs >= 1", name="max_runs_positive"),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="end_after_start"),
        CheckConstraint("payment_terms_days >= 0", name="terms_not_negative"),
        CheckConstraint("runs >= 0 AND next_run_index >= 0", name="counts_not_negative"),
        CheckConstraint(
            f"(status = {sql_literal(RecurringStatus.ENDED)}) = (next_run_on IS NULL)", name="next_run_iff_not_ended"
        ),
        # The worker reads the active templates whose next run has come, oldest first.
        Index("ix_recurring_invoices_status_next_run_on", "status", "next_run_on"),
        Index("ix_recurring_invoices_client_id", "client_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="RESTRICT"))
    currency: Mapped[str] = mapped_column(String(3))
    # The lines as entered, each {description, quantity, unit_price, tax_rate} with decimal strings.
    items: Mapped[list] = mapped_column(JSON)
    discount_type: Mapped[str | None] = mapped_column(String(10))
    discount_value: Mapped[Decimal | None]
    notes: Mapped[str] = mapped_column(Text, default="")
    purchase_order: Mapped[str] = mapped_column(String(100), default="")
    # Each run's total by SPEC §5.1 with the settings of the last save (what lists show).
    total: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    interval: Mapped[str] = mapped_column(String(10))
    interval_count: Mapped[int] = mapped_column(default=1)
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    max_runs: Mapped[int | None]
    payment_terms_days: Mapped[int]
    mode: Mapped[str] = mapped_column(String(10), default=RecurringMode.SEND.value)
    status: Mapped[str] = mapped_column(String(10), default=RecurringStatus.ACTIVE.value)
    next_run_index: Mapped[int] = mapped_column(default=0)
    next_run_on: Mapped[dt.date | None] = mapped_column(Date)
    runs: Mapped[int] = mapped_column(default=0)
    # Why the last attempt at the due run failed (a client archived, a line no longer valid); cleared by a run.
    last_error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    client = relationship("Client")

    @property
    def schedule(self) -> Schedule:
        return Schedule(self.start_date, self.interval, self.interval_count, self.end_date, self.max_runs)

    @hybrid_property
    def is_active(self) -> bool:
        return self.status == RecurringStatus.ACTIVE

    @hybrid_property
    def is_paused(self) -> bool:
        return self.status == RecurringStatus.PAUSED

    @hybrid_property
    def is_ended(self) -> bool:
        return self.status == RecurringStatus.ENDED

    @property
    def can_pause(self) -> bool:
        return self.is_active

    @property
    def can_resume(self) -> bool:
        return self.is_paused

    @property
    def can_delete(self) -> bool:
        """SPEC §12: deleted only while it has made no invoice."""
        return self.runs == 0

    @property
    def issues_invoices(self) -> bool:
        """Whether a run issues its invoice (``send``, ``issue``) or leaves a draft for review."""
        return self.mode != RecurringMode.DRAFT

    @property
    def emails_invoices(self) -> bool:
        return self.mode == RecurringMode.SEND

    def upcoming_runs(self, count: int = 5) -> list[dt.date]:
        """The next ``count`` run dates (none once ended)."""
        if self.is_ended:
            return []
        return self.schedule.upcoming(self.next_run_index, self.runs, count)

    def __repr__(self) -> str:
        return f"<RecurringInvoice {self.id} every {self.interval_count} {self.interval} {self.status}>"
