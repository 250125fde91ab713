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


class QuoteStatus(StrEnum):
    """SPEC §13: ``draft -> sent -> accepted | declined | expired``, and ``accepted -> invoiced``.

    ``expired`` is never stored: a ``sent`` quote past its ``valid_until`` reads
    as expired (``Quote.is_expired``), so the database holds the other five.
    """

    DRAFT = "draft"
    SENT = "sent"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    INVOICED = "invoiced"


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
QUOTE_STATES = tuple(QuoteStatus)
# What a quote row holds: expired is derived on read from sent and valid_until.
STORED_QUOTE_STATES = tuple(s for s in QuoteStatus if s != QuoteStatus.EXPIRED)
# Waiting for the client or for staff: what the dashboard lists as open quotes.
OPEN_QUOTE_STATES = (QuoteStatus.SENT, QuoteStatus.ACCEPTED)
MESSAGE_KINDS = ("invoice", "receipt", "reminder", "statement", "quote")
CHANNELS = ("email", "sms")
MESSAGE_STATES = tuple(MessageState)
# A message still on its way: the worker has it or will take it.
WAITING_MESSAGE_STATES = (MessageState.QUEUED, MessageState.SENDING)
# What staff may put back in the queue (SPEC §5.6 "retry a failed one").
RETRYABLE_MESSAGE_STATES = (MessageState.FAILED, MessageState.CANCELLED)
ACTOR_TYPES = ("user", "api_key", "worker", "system", "public")
API_SCOPES = ("read", "write", "admin")
PAPER_SIZES = ("A4", "Letter")


def one_of(column: str, values: tuple[str, ...]) -> str:
    """SQL text for a CHECK that ``column`` takes one of ``values``."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


def sql_literal(value: str) -> str:
    """A state as a quoted SQL literal, for the few CHECK constraints and raw statements that need one."""
    return f"'{value}'"
