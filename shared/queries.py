"""The read side of the domain: what the lists and pages of every door show, asked one way.

The admin pages and the API each parse their own query strings (and report bad
input their own way), then hand this module typed filters; it returns a
SELECT or rows, and the door pages and renders them. So "overdue", "issued
from" or "the client's balance" mean the same in both doors. Nothing here
knows about Flask.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, type_coerce
from sqlalchemy.orm import Session, selectinload

from shared import money
from shared.db import Fixed4
from shared.models import Activity, Client, Expense, Invoice, Payment, QueuedMessage, Quote, RecurringInvoice
from shared.models.enums import LIVE_INVOICE_STATES

# ---------------------------------------------------------------- the invoice list


@dataclass(frozen=True)
class InvoiceFilters:
    """The filters of the invoice list; ``None`` (or ``""``) leaves a filter out.

    - ``status``: one of the invoice states;
    - ``client_id``: the client billed;
    - ``overdue``: True lists only overdue invoices (``Invoice.overdue_clause``),
      False only the others;
    - ``issued_from``, ``issued_to``: inclusive bounds on the issue date. A draft
      is not issued (SPEC §5.2: issuing is what makes an invoice an invoice; its
      ``issue_date`` is only the date it will carry), so either bound leaves drafts
      out, as "issued from" says; drafts are listed with ``status=draft`` alone;
    - ``number_contains``: text found in the invoice number, any case (drafts
      have no number, so this too lists issued invoices only).
    """

    status: str | None = None
    client_id: int | None = None
    overdue: bool | None = None
    issued_from: dt.date | None = None
    issued_to: dt.date | None = None
    number_contains: str = ""


def invoices_matching(filters: InvoiceFilters, *, today: dt.date) -> Select[tuple[Invoice]]:
    """The invoices that ``filters`` let through, as of ``today``, unordered: the door pages by id."""
    query = select(Invoice)
    if filters.status:
        query = query.where(Invoice.status == filters.status)
    if filters.client_id is not None:
        query = query.where(Invoice.client_id == filters.client_id)
    if filters.overdue is True:
        query = query.where(Invoice.overdue_clause(today))
    elif filters.overdue is False:
        query = query.where(~Invoice.overdue_clause(today))
    if filters.issued_from is not None or filters.issued_to is not None:
        query = query.where(~Invoice.is_draft)
    if filters.issued_from is not None:
        query = query.where(Invoice.issue_date >= filters.issued_from)
    if filters.issued_to is not None:
        query = query.where(Invoice.issue_date <= filters.issued_to)
    if filters.number_contains:
        query = query.where(func.lower(Invoice.number).contains(filters.number_contains.lower(), autoescape=True))
    return query


# ---------------------------------------------------------------- client balances


class Balance(NamedTuple):
    currency: str
    amount: Decimal


def client_balances(session: Session, client_id: int) -> list[Balance]:
    """What one client owes, per currency (never added across currencies): ``balance_due`` of its live invoices."""
    rows = session.execute(
        select(Invoice.currency, type_coerce(func.sum(Invoice.balance_due), Fixed4()))
        .where(Invoice.client_id == client_id, Invoice.status.in_(LIVE_INVOICE_STATES))
        .group_by(Invoice.currency)
        .order_by(Invoice.currency)
    ).all()
    return [Balance(currency, money.round_money(amount, currency)) for currency, amount in rows]


# ---------------------------------------------------------------- timelines (SPEC §5.7)

Subject = Invoice | Client | Payment | Expense | RecurringInvoice | Quote


def _about(subject: Subject) -> ColumnElement[bool]:
    """The activity entries that belong on ``subject``'s timeline."""
    if isinstance(subject, Invoice):
        return Activity.invoice_id == subject.id
    if isinstance(subject, Client):
        # The client's own entries ("created" carries no client_id, so it survives a delete) and its documents'.
        return or_(
            Activity.client_id == subject.id,
            and_(Activity.subject_type == "client", Activity.subject_id == subject.id),
        )
    if isinstance(subject, Payment):
        # Recording and voiding are entries on the invoice naming this payment; its receipt messages are their own.
        receipt_messages = select(QueuedMessage.id).where(QueuedMessage.payment_id == subject.id)
        return and_(
            Activity.invoice_id == subject.invoice_id,
            or_(
                Activity.details["payment_id"].as_integer() == subject.id,
                and_(Activity.subject_type == "notification", Activity.subject_id.in_(receipt_messages)),
            ),
        )
    if isinstance(subject, Quote):
        # Its own entries (sent, accepted, converted, ...) and those of its e-mails (delivered, failed).
        quote_messages = select(QueuedMessage.id).where(QueuedMessage.quote_id == subject.id)
        return or_(
            and_(Activity.subject_type == "quote", Activity.subject_id == subject.id),
            and_(Activity.subject_type == "notification", Activity.subject_id.in_(quote_messages)),
        )
    if isinstance(subject, Expense):
        return and_(Activity.subject_type == "expense", Activity.subject_id == subject.id)
    if isinstance(subject, RecurringInvoice):
        return and_(Activity.subject_type == RecurringInvoice.activity_subject, Activity.subject_id == subject.id)
    raise TypeError(f"no timeline for {type(subject).__name__}")


def timeline(session: Session, subject: Subject, *, limit: int | None = None) -> list[Activity]:
    """``subject``'s activity, newest first (at most ``limit`` entries)."""
    query = select(Activity).where(_about(subject)).order_by(Activity.id.desc()).options(selectinload(Activity.invoice))
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def recent_activity(session: Session, *, limit: int) -> list[Activity]:
    """The newest ``limit`` entries of every timeline."""
    query = select(Activity).order_by(Activity.id.desc()).limit(limit).options(selectinload(Activity.invoice))
    return list(session.scalars(query))


def next_recurring_runs(session: Session, *, limit: int) -> list[RecurringInvoice]:
    """The active recurring invoices whose runs come first (the dashboard's "next runs"), with their clients."""
    query = (
        select(RecurringInvoice)
        .options(selectinload(RecurringInvoice.client))
        .where(RecurringInvoice.is_active)
        .order_by(RecurringInvoice.next_run_on, RecurringInvoice.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def quotes_matching(*, status: str | None = None, client_id: int | None = None) -> Select[tuple[Quote]]:
    """The quote list and its filters (one meaning for admin and API); ``expired`` is the derived state."""
    query = select(Quote)
    if status is not None:
        query = query.where(Quote.shown_status == status)
    if client_id is not None:
        query = query.where(Quote.client_id == client_id)
    return query


def open_quotes(session: Session, *, limit: int) -> list[Quote]:
    """Quotes waiting on the client or on staff (the dashboard), soonest to lapse first."""
    query = (
        select(Quote)
        .where(Quote.is_open)
        .order_by(Quote.valid_until, Quote.id)
        .limit(limit)
        .options(selectinload(Quote.client))
    )
    return list(session.scalars(query))
