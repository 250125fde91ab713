"""Typed SQLAlchemy 2.0 models. Invariants the database can hold are declared here."""

from shared.models.activity import Activity
from shared.models.api_keys import ApiKey, IdempotencyRecord
from shared.models.clients import Client
from shared.models.credit_notes import ClientCredit, CreditMovement, CreditNote, CreditNoteItem, Refund
from shared.models.expenses import Expense
from shared.models.invoices import Invoice, InvoiceLine
from shared.models.messages import QueuedMessage
from shared.models.online_payments import StripeEvent
from shared.models.payments import Payment
from shared.models.quotes import Quote, QuoteLine
from shared.models.recurring import RecurringInvoice
from shared.models.rollups import InvoiceRollup, PaymentRollup
from shared.models.settings import NumberCounter, Settings
from shared.models.users import SignInThrottle, User
from shared.models.webhooks import WebhookDelivery, WebhookEndpoint, WebhookEvent

__all__ = [
    "Activity",
    "ApiKey",
    "Client",
    "ClientCredit",
    "CreditMovement",
    "CreditNote",
    "CreditNoteItem",
    "Expense",
    "IdempotencyRecord",
    "Invoice",
    "InvoiceLine",
    "InvoiceRollup",
    "NumberCounter",
    "Payment",
    "PaymentRollup",
    "Quote",
    "QuoteLine",
    "QueuedMessage",
    "RecurringInvoice",
    "Refund",
    "Settings",
    "SignInThrottle",
    "StripeEvent",
    "User",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
]
