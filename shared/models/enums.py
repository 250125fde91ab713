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
    """SPEC §5.2: ``draft -> open -> partially_paid -> paid``; ``open`` with nothing paid ``-> void``.

    SPEC §11 adds ``credited``: settled by credit notes and client credit alone,
    with no live payment (a terminal state).
    """

    DRAFT = "draft"
    OPEN = "open"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    VOID = "void"
    CREDITED = "credited"


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


class CreditMovementKind(StrEnum):
    """SPEC §11: what moved a client's credit in one currency (the ledger's vocabulary)."""

    CREDIT_NOTE = "credit_note"  # a credit note's excess over the invoice's balance: credit goes up
    OVERPAYMENT = "overpayment"  # an online payment above the balance (SPEC §14): credit goes up
    APPLICATION = "application"  # credit used to settle an invoice: credit goes down
    REFUND = "refund"  # credit paid back to the client: credit goes down


class WebhookDeliveryState(StrEnum):
    """SPEC §15: ``pending -> delivering -> delivered``, or ``failed`` after the last attempt."""

    PENDING = "pending"
    DELIVERING = "delivering"
    DELIVERED = "delivered"
    FAILED = "failed"


class WebhookEventType(StrEnum):
    """SPEC §15: what an outgoing webhook can tell; ``webhook.test`` is the admin's "send test event"."""

    INVOICE_CREATED = "invoice.created"
    INVOICE_ISSUED = "invoice.issued"
    INVOICE_PAID = "invoice.paid"
    INVOICE_VOIDED = "invoice.voided"
    PAYMENT_RECORDED = "payment.recorded"
    PAYMENT_VOIDED = "payment.voided"
    CREDIT_NOTE_ISSUED = "credit_note.issued"
    QUOTE_ACCEPTED = "quote.accepted"
    MESSAGE_FAILED = "message.failed"
    TEST = "webhook.test"


class ExpenseStatus(StrEnum):
    """SPEC §5.5: ``pending -> approved | declined``."""

    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"


class StripePaymentStatus(StrEnum):
    """A Stripe Checkout Session's ``payment_status`` (SPEC §14): only ``paid`` records a payment."""

    PAID = "paid"
    UNPAID = "unpaid"
    NO_PAYMENT_REQUIRED = "no_payment_required"


class TaxCategory(StrEnum):
    """SPEC §16: the EN 16931 VAT category of a line (UNTDID 5305 codes); ``S`` only with a rate above 0."""

    STANDARD = "S"
    ZERO_RATED = "Z"
    EXEMPT = "E"
    REVERSE_CHARGE = "AE"
    INTRA_COMMUNITY = "K"
    EXPORT = "G"

    @classmethod
    def default_for(cls, rate) -> TaxCategory:
        """``S`` when the rate is above 0, else ``Z`` (SPEC §16)."""
        return cls.STANDARD if rate > 0 else cls.ZERO_RATED

    @property
    def needs_exemption_reason(self) -> bool:
        """EN 16931 BR-E-10, BR-AE-10, BR-IC-10, BR-G-10: these categories state why no VAT is charged."""
        return self in (TaxCategory.EXEMPT, TaxCategory.REVERSE_CHARGE, TaxCategory.INTRA_COMMUNITY, TaxCategory.EXPORT)

    @property
    def has_rate(self) -> bool:
        """Only the standard category carries a rate above 0 (BR-S-05; BR-Z-05, BR-E-05, ... want 0)."""
        return self is TaxCategory.STANDARD


class EInvoiceFormat(StrEnum):
    """SPEC §16 setting ``einvoice_format``: what the invoice e-mail carries besides (or instead of) the PDF."""

    NONE = "none"
    FACTURX = "facturx"
    UBL = "ubl"


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
ISSUED_INVOICE_STATES = (
    InvoiceStatus.OPEN,
    InvoiceStatus.PARTIALLY_PAID,
    InvoiceStatus.PAID,
    InvoiceStatus.CREDITED,
)
# SPEC §11: a credit note corrects an issued invoice that is not void.
CREDITABLE_INVOICE_STATES = ISSUED_INVOICE_STATES
CREDIT_MOVEMENT_KINDS = tuple(CreditMovementKind)
# Movements that add to a client's credit; the others take from it.
CREDIT_INCREASING_KINDS = (CreditMovementKind.CREDIT_NOTE, CreditMovementKind.OVERPAYMENT)
PAYMENT_STATES = tuple(PaymentState)
DISCOUNT_TYPES = ("percent", "fixed")
PAYMENT_METHODS = ("cash", "bank_transfer", "card", "online", "cheque", "mobile_money")
EXPENSE_STATES = tuple(ExpenseStatus)
QUOTE_STATES = tuple(QuoteStatus)
# What a quote row holds: expired is derived on read from sent and valid_until.
STORED_QUOTE_STATES = tuple(s for s in QuoteStatus if s != QuoteStatus.EXPIRED)
# Waiting for the client or for staff: what the dashboard lists as open quotes.
OPEN_QUOTE_STATES = (QuoteStatus.SENT, QuoteStatus.ACCEPTED)
MESSAGE_KINDS = ("invoice", "receipt", "reminder", "statement", "credit_note", "quote")
CHANNELS = ("email", "sms")
MESSAGE_STATES = tuple(MessageState)
# A message still on its way: the worker has it or will take it.
WAITING_MESSAGE_STATES = (MessageState.QUEUED, MessageState.SENDING)
# What staff may put back in the queue (SPEC §5.6 "retry a failed one").
RETRYABLE_MESSAGE_STATES = (MessageState.FAILED, MessageState.CANCELLED)
WEBHOOK_DELIVERY_STATES = tuple(WebhookDeliveryState)
# What an endpoint may subscribe to (the test event is sent on request only); "*" is every one of them.
WEBHOOK_EVENT_TYPES = tuple(t for t in WebhookEventType if t != WebhookEventType.TEST)
ALL_WEBHOOK_EVENTS = "*"
# What staff may send now (SPEC §15 "sends a failed or pending one now").
RETRYABLE_WEBHOOK_STATES = (WebhookDeliveryState.FAILED, WebhookDeliveryState.PENDING)
ACTOR_TYPES = ("user", "api_key", "worker", "system", "public")
API_SCOPES = ("read", "write", "admin")
PAPER_SIZES = ("A4", "Letter")
TAX_CATEGORIES = tuple(TaxCategory)
EINVOICE_FORMATS = tuple(EInvoiceFormat)
# UN/ECE Recommendation 20 "one" (a unit without a named measure): a line's default unit (SPEC §16).
DEFAULT_UNIT = "C62"
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
