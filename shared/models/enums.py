"""The closed vocabularies of the domain; CHECK constraints are built from these.

A state is spelled here and nowhere else: code names the member
(``InvoiceStatus.PAID``), and questions about states are named predicates on
the models (``Invoice.can_void``, ``QueuedMessage.can_retry``). The members
are ``StrEnum``s, so they compare equal to, and are stored as, the same
strings the database has always held.
"""

from __future__ import annotations

from enum import StrEnum

# The totals calculation (SPEC §5.1 step 4) defines the tax rounding modes; this is their vocabulary here.
from shared.money import TAX_ROUNDING_MODES as TAX_ROUNDING_MODES


class InvoiceStatus(StrEnum):
    """SPEC §5.2: ``draft -> open -> partially_paid -> paid``; ``open`` with nothing paid ``-> void``."""

    DRAFT = "draft"
    OPEN = "open"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    VOID = "void"


class PaymentState(StrEnum):
    """A payment is live until voided (stored as ``voided_at``); the lists filter by these words."""

    LIVE = "live"
    VOID = "void"


class MessageState(StrEnum):
    """SPEC §5.6: ``queued -> sending -> sent``, or ``failed`` / ``cancelled``."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ExpenseStatus(StrEnum):
    """SPEC §5.5: ``pending -> approved | declined``."""

    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"


class RecurringInterval(StrEnum):
    """SPEC §12: the unit of a recurring invoice's schedule (``interval_count`` of them between runs)."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


class RecurringMode(StrEnum):
    """SPEC §12: what a run leaves behind: ``send`` issues and e-mails, ``issue`` only issues, ``draft`` a draft."""

    SEND = "send"
    ISSUE = "issue"
    DRAFT = "draft"


class RecurringStatus(StrEnum):
    """SPEC §12: ``active`` runs on schedule, ``paused`` does not, ``ended`` has no run date left."""

    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"


ROLES = ("admin", "staff")
CLIENT_TYPES = ("student", "individual", "corporate")
INVOICE_STATES = tuple(InvoiceStatus)
# Issued, not void, and not yet settled: what can take a payment, be overdue, get reminders.
LIVE_INVOICE_STATES = (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID)
# Issued and not voided: what counts as invoiced income.
ISSUED_INVOICE_STATES = (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.PAID)
PAYMENT_STATES = tuple(PaymentState)
DISCOUNT_TYPES = ("percent", "fixed")
PAYMENT_METHODS = ("cash", "bank_transfer", "card", "online", "cheque", "mobile_money")
EXPENSE_STATES = tuple(ExpenseStatus)
MESSAGE_KINDS = ("invoice", "receipt", "reminder", "statement")
CHANNELS = ("email", "sms")
MESSAGE_STATES = tuple(MessageState)
# A message still on its way: the worker has it or will take it.
WAITING_MESSAGE_STATES = (MessageState.QUEUED, MessageState.SENDING)
# What staff may put back in the queue (SPEC §5.6 "retry a failed one").
RETRYABLE_MESSAGE_STATES = (MessageState.FAILED, MessageState.CANCELLED)
ACTOR_TYPES = ("user", "api_key", "worker", "system", "public")
API_SCOPES = ("read", "write", "admin")
PAPER_SIZES = ("A4", "Letter")
RECURRING_INTERVALS = tuple(RecurringInterval)
RECURRING_MODES = tuple(RecurringMode)
RECURRING_STATES = tuple(RecurringStatus)


def one_of(column: str, values: tuple[str, ...]) -> str:
    """SQL text for a CHECK that ``column`` takes one of ``values``."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


def sql_literal(value: str) -> str:
    """A state as a quoted SQL literal, for the few CHECK constraints and raw statements that need one."""
    return f"'{value}'"
