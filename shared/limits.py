"""Field limits of the write use cases, defined once (SPEC §5.1, §5.3 to §5.5).

The admin forms, the API schemas and the services all read these, so a value
one over a limit is refused by every door at the same length. Text limits are
what the database columns hold (``String(n)``) or, for ``Text`` columns, what a
person can sensibly type; the numeric bounds are SPEC §5.1's.
"""

from __future__ import annotations

from decimal import Decimal

# --- clients (SPEC §5.4) -----------------------------------------------------
CLIENT_NAME = 200
EMAIL = 254  # RFC 5321's longest usable address
PHONE = 40  # as typed, with spaces and brackets; stored E.164 is at most 16
ADDRESS = 2000  # billing and postal address alike
CURRENCY_CODE = 3

# --- invoices (SPEC §5.1) ----------------------------------------------------
PURCHASE_ORDER = 100
INVOICE_NOTES = 5000
LINE_DESCRIPTION = 500  # "description 1 to 500 characters"
MAX_LINES = 500
DECIMAL_PLACES = 4  # quantity, unit price, tax rate and discount value
MAX_QUANTITY = Decimal("1000000")
MAX_UNIT_PRICE = Decimal("1000000000")
MAX_TAX_RATE = Decimal("100")
MAX_DISCOUNT_PERCENT = Decimal("100")
MAX_AMOUNT = Decimal("1000000000000")  # each line amount, the invoice total, an expense
VOID_REASON = 500
UNIT_CODE = 3  # UN/ECE Rec. 20 (SPEC §16)
TAX_EXEMPTION_REASON = 300
VAT_ID = 30
STREET = 200
CITY = 100
POSTAL_CODE = 20
CREDIT_NOTE_REASON = 500  # SPEC §11 "reason (required, 1–500 characters)"
QUOTE_ACCEPTED_BY = 200  # the name the client types to accept a quote
QUOTE_DECLINE_REASON = 2000
QUOTE_VALID_DAYS = 30  # SPEC §13: valid_until defaults to the issue date + 30 days

# --- payments (SPEC §5.3) ----------------------------------------------------
PAYMENT_REFERENCE = 200
PAYMENT_NOTE = 2000  # printed on the client's receipt
PAYMENT_INTERNAL_NOTE = 2000  # staff only

# --- expenses (SPEC §5.5) ----------------------------------------------------
EXPENSE_TITLE = 200
EXPENSE_CATEGORY = 100
EXPENSE_PAYEE = 200
EXPENSE_DESCRIPTION = 5000
DECISION_NOTE = 2000

# --- company settings --------------------------------------------------------
COMPANY_NAME = 200
COMPANY_ADDRESS = 2000
COMPANY_PHONE = PHONE
COMPANY_TAX_ID = 60
COMPANY_WEBSITE = 200
PAYMENT_INSTRUCTIONS = 2000
# Bank details (SPEC §14): an IBAN is at most 34 characters (typed in groups of four, 42 with spaces),
# a BIC 8 or 11, and the EPC payment QR takes a beneficiary name of at most 70.
IBAN_TYPED = 42
BIC_TYPED = 14
ACCOUNT_HOLDER = 70
NUMBER_FORMAT = 60  # invoice and receipt number formats

# --- users, sign-in and API keys (SPEC §6) -----------------------------------
USER_NAME = 200
MIN_PASSWORD = 10
MAX_PASSWORD = 256
API_KEY_NAME = 100

# --- webhooks (SPEC §15) -------------------------------------------------------
WEBHOOK_URL = 2000
WEBHOOK_DESCRIPTION = 500
WEBHOOK_RESPONSE_KEPT = 1024  # bytes of a receiver's answer kept on the delivery row
