"""Use cases of SPEC §5: each one transaction, with its activity and queue rows.

The admin UI, the API and the worker call these and nothing else to change
data, so every business rule lives here once.
"""

from shared.actors import Actor, Notify
from shared.lookups import get_settings
from shared.messages.queue import cancel_message, queue_statement, retry_message
from shared.services.clients import archive_client, create_client, delete_client, restore_client, update_client
from shared.services.credit_notes import (
    apply_client_credit,
    credit_online_overpayment,
    issue_credit_note,
    refund_client_credit,
)
from shared.services.expenses import (
    approve_expense,
    decline_expense,
    delete_expense,
    request_expense,
    update_expense,
)
from shared.services.invoices import (
    create_draft,
    delete_draft,
    issue_invoice,
    preview_totals,
    record_invoice_viewed,
    send_invoice,
    update_draft,
    void_invoice,
)
from shared.services.online_payments import record_online_payment
from shared.services.payments import record_payment, void_payment
from shared.services.quotes import (
    accept_quote,
    convert_quote,
    create_quote,
    decline_quote,
    delete_quote,
    record_quote_viewed,
    send_quote,
    update_quote,
)
from shared.services.users import create_api_key, create_user, revoke_api_key
from shared.transactions import atomic

__all__ = [
    "Actor",
    "Notify",
    "apply_client_credit",
    "accept_quote",
    "convert_quote",
    "create_quote",
    "decline_quote",
    "delete_quote",
    "record_quote_viewed",
    "send_quote",
    "update_quote",
    "approve_expense",
    "archive_client",
    "atomic",
    "cancel_message",
    "create_api_key",
    "create_client",
    "create_draft",
    "create_user",
    "credit_online_overpayment",
    "decline_expense",
    "delete_client",
    "delete_draft",
    "delete_expense",
    "get_settings",
    "issue_credit_note",
    "issue_invoice",
    "queue_statement",
    "record_invoice_viewed",
    "record_online_payment",
    "record_payment",
    "refund_client_credit",
    "request_expense",
    "restore_client",
    "retry_message",
    "revoke_api_key",
    "send_invoice",
    "update_client",
    "preview_totals",
    "update_draft",
    "update_expense",
    "void_invoice",
    "void_payment",
]
