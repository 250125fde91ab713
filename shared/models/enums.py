"""The closed vocabularies of the domain; CHECK constraints are built from these."""

from __future__ import annotations

# The totals calculation (SPEC §5.1 step 4) defines the tax rounding modes; this is their vocabulary here.
from shared.money import TAX_ROUNDING_MODES as TAX_ROUNDING_MODES

ROLES = ("admin", "staff")
CLIENT_TYPES = ("student", "individual", "corporate")
INVOICE_STATES = ("draft", "open", "partially_paid", "paid", "void")
LIVE_INVOICE_STATES = ("open", "partially_paid")
DISCOUNT_TYPES = ("percent", "fixed")
PAYMENT_METHODS = ("cash", "bank_transfer", "card", "online", "cheque", "mobile_money")
EXPENSE_STATES = ("pending", "approved", "declined")
MESSAGE_KINDS = ("invoice", "receipt", "reminder", "statement")
CHANNELS = ("email", "sms")
MESSAGE_STATES = ("queued", "sending", "sent", "failed", "cancelled")
ACTOR_TYPES = ("user", "api_key", "worker", "system", "public")
API_SCOPES = ("read", "write", "admin")


def one_of(column: str, values: tuple[str, ...]) -> str:
    """SQL text for a CHECK that ``column`` takes one of ``values``."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"
