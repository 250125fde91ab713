"""Quotes (SPEC §13): a priced offer the client accepts or declines before it becomes an invoice."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint, and_, case
from sqlalchemy.ext.hybrid import hybrid_method, hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.db import db, utcnow
from shared.models.enums import (
    DISCOUNT_TYPES,
    OPEN_QUOTE_STATES,
    STORED_QUOTE_STATES,
    TAX_ROUNDING_MODES,
    QuoteStatus,
    one_of,
    sql_literal,
)
from shared.models.lines import PricedDocument, PricedLine, line_checks


class Quote(PricedDocument, db.Model):
    """A quote: a draft until sent (numbered then), accepted or declined by the client, converted once.

    Totals are written by ``shared.services.quotes`` from ``shared.money`` and
    never computed anywhere else. ``status`` stores every state but
    ``expired``, which a sent quote reads as once ``valid_until`` has passed.
    """

    __tablename__ = "quotes"
    __table_args__ = (
        CheckConstraint(one_of("status", STORED_QUOTE_STATES), name="status"),
        CheckConstraint(f"discount_type IS NULL OR {one_of('discount_type', DISCOUNT_TYPES)}", name="discount_type"),
        CheckConstraint(one_of("tax_rounding", TAX_ROUNDING_MODES), name="tax_rounding"),
        CheckConstraint(f"(status = {sql_literal(QuoteStatus.DRAFT)}) = (number IS NULL)", name="number_iff_sent"),
        CheckConstraint(
            "subtotal >= 0 AND discount_total >= 0 AND tax_total >= 0 AND total >= 0",
            name="totals_not_negative",
        ),
        CheckConstraint("discount_value IS NULL OR discount_value >= 0", name="discount_not_negative"),
        CheckConstraint("valid_until >= issue_date", name="valid_after_issue"),
        Index("ix_quotes_status_valid_until", "status", "valid_until"),
        Index("ix_quotes_client_id", "client_id"),
    )
    activity_subject = "quote"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(40), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=QuoteStatus.DRAFT.value)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="RESTRICT"))
    currency: Mapped[str] = mapped_column(String(3))
    issue_date: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date] = mapped_column(Date)
    purchase_order: Mapped[str] = mapped_column(String(100), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    discount_type: Mapped[str | None] = mapped_column(String(10))
    discount_value: Mapped[Decimal | None]
    tax_rounding: Mapped[str] = mapped_column(String(10), default="line")
    subtotal: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    discount_total: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    tax_total: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    client_snapshot: Mapped[dict | None] = mapped_column(JSON)
    public_token: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    sent_at: Mapped[dt.datetime | None]
    sent_by: Mapped[str | None] = mapped_column(String(200))
    accepted_by: Mapped[str | None] = mapped_column(String(200))
    accepted_at: Mapped[dt.datetime | None]
    accepted_ip: Mapped[str | None] = mapped_column(String(45))
    declined_at: Mapped[dt.datetime | None]
    declined_reason: Mapped[str | None] = mapped_column(Text)
    # The invoice it became (unique: one quote, one invoice). A draft invoice deleted later leaves the
    # quote invoiced with no invoice: it converted once, and does not convert again.
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", ondelete="SET NULL"), unique=True)
    converted_at: Mapped[dt.datetime | None]
    viewed_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    client = relationship("Client")
    invoice = relationship("Invoice")
    lines: Mapped[list[QuoteLine]] = relationship(
        back_populates="quote", order_by="QuoteLine.position", cascade="all, delete-orphan"
    )

    # ---- the questions every door asks (SPEC §13); each is answered here only.

    @hybrid_property
    def is_draft(self) -> bool:
        """Not sent yet: no number, freely edited and deleted."""
        return self.status == QuoteStatus.DRAFT

    @hybrid_method
    def is_expired_on(self, today: dt.date) -> bool:
        """Derived, never stored: a sent quote whose ``valid_until`` has passed (the last day still counts)."""
        return self.status == QuoteStatus.SENT and self.valid_until < today

    @is_expired_on.expression
    @classmethod
    def _is_expired_on_expression(cls, today: dt.date):
        return and_(cls.status == QuoteStatus.SENT, cls.valid_until < today)

    @hybrid_property
    def is_expired(self) -> bool:
        return self.is_expired_on(dt.date.today())

    @is_expired.inplace.expression
    @classmethod
    def _is_expired_expression(cls):
        return cls._is_expired_on_expression(dt.date.today())

    def status_on(self, today: dt.date) -> str:
        """The state as read on ``today``: ``expired`` for a sent quote past its ``valid_until``."""
        return QuoteStatus.EXPIRED if self.is_expired_on(today) else QuoteStatus(self.status)

    @hybrid_property
    def shown_status(self) -> str:
        """The state as everyone reads it today (SPEC §13: ``expired`` is derived on read)."""
        return self.status_on(dt.date.today())

    @shown_status.inplace.expression
    @classmethod
    def _shown_status_expression(cls):
        return case((cls._is_expired_on_expression(dt.date.today()), QuoteStatus.EXPIRED.value), else_=cls.status)

    @hybrid_property
    def is_open(self) -> bool:
        """Waiting on the client (sent, not expired) or on staff (accepted, not yet invoiced): the dashboard's list."""
        return self.status in OPEN_QUOTE_STATES and not self.is_expired

    @is_open.inplace.expression
    @classmethod
    def _is_open_expression(cls):
        return and_(cls.status.in_(OPEN_QUOTE_STATES), ~cls._is_expired_on_expression(dt.date.today()))

    @property
    def can_edit(self) -> bool:
        """Only a draft is edited or deleted."""
        return self.is_draft

    def can_send_on(self, today: dt.date) -> bool:
        """A draft, or a sent quote (again), while it is still valid."""
        return self.status in (QuoteStatus.DRAFT, QuoteStatus.SENT) and self.valid_until >= today

    @property
    def can_send(self) -> bool:
        return self.can_send_on(dt.date.today())

    def can_answer_on(self, today: dt.date) -> bool:
        """The client can accept or decline a sent quote up to and including ``valid_until``."""
        return self.status == QuoteStatus.SENT and self.valid_until >= today

    @property
    def can_answer(self) -> bool:
        return self.can_answer_on(dt.date.today())

    def can_convert_on(self, today: dt.date, *, by_staff: bool) -> bool:
        """An accepted quote converts; staff may also convert a sent one that has not expired; once only."""
        if self.status == QuoteStatus.ACCEPTED:
            return True
        return by_staff and self.can_answer_on(today)

    @property
    def can_convert(self) -> bool:
        """Asked by staff pages (the public page never converts)."""
        return self.can_convert_on(dt.date.today(), by_staff=True)

    @property
    def is_accepted(self) -> bool:
        return self.status == QuoteStatus.ACCEPTED

    @property
    def is_declined(self) -> bool:
        return self.status == QuoteStatus.DECLINED

    @property
    def is_invoiced(self) -> bool:
        return self.status == QuoteStatus.INVOICED

    # tax_by_rate, shows_tax_by_rate, amount() and billed_to: shared.models.lines.PricedDocument

    def __repr__(self) -> str:
        return f"<Quote {self.id} {self.number or '(unnumbered)'} {self.status}>"


class QuoteLine(PricedLine, db.Model):
    """A quote's line, with the same columns as an invoice line: the invoice a quote becomes keeps them."""

    __tablename__ = "quote_lines"
    __table_args__ = (
        UniqueConstraint("quote_id", "position", name="uq_quote_lines_position"),
        *line_checks(discounted=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quotes.id", ondelete="CASCADE"))
    position: Mapped[int]
    discount: Mapped[Decimal]

    quote: Mapped[Quote] = relationship(back_populates="lines")
