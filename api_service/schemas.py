"""Request and response shapes of the API, as pydantic v2 models.

Request models check shape only (types, required fields, unknown fields);
every business rule (bounds, states, money) is checked by ``shared.services``
with the same field paths. Response models document what the serializers in
``shared.representations`` produce, and feed the OpenAPI document.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StringConstraints

from shared import limits
from shared.models.enums import (
    CHANNELS,
    CLIENT_TYPES,
    EXPENSE_STATES,
    INVOICE_STATES,
    MESSAGE_KINDS,
    MESSAGE_STATES,
    PAYMENT_METHODS,
    QUOTE_STATES,
    RECURRING_INTERVALS,
    RECURRING_MODES,
    RECURRING_STATES,
    TAX_CATEGORIES,
    WEBHOOK_DELIVERY_STATES,
    WEBHOOK_EVENT_TYPES,
)

# Numbers arrive as JSON strings ("12.50") or JSON numbers parsed straight to
# Decimal (never through float); both are accepted here.
DecimalInput = Annotated[
    Decimal | Annotated[str, StringConstraints(max_length=40)],
    Field(description='A decimal as a string ("12.50") or a JSON number', examples=["15000.00"]),
]
AmountOut = Annotated[
    str,
    Field(
        pattern=r"^-?\d+(\.\d+)?$",
        description="A decimal string with exactly the currency's minor-unit decimals",
        examples=["29025.00"],
    ),
]
DecimalOut = Annotated[str, Field(pattern=r"^-?\d+(\.\d+)?$", examples=["7.5"])]


def _text(max_length: int) -> object:
    """A string type refused past ``max_length`` characters (the limit of ``shared.limits``)."""
    return Annotated[str, StringConstraints(max_length=max_length)]


ClientName = _text(limits.CLIENT_NAME)
Email = _text(limits.EMAIL)
Phone = _text(limits.PHONE)
Address = _text(limits.ADDRESS)
PurchaseOrder = _text(limits.PURCHASE_ORDER)
InvoiceNotes = _text(limits.INVOICE_NOTES)
LineDescription = _text(limits.LINE_DESCRIPTION)
Reason = _text(limits.VOID_REASON)
AcceptedBy = _text(limits.QUOTE_ACCEPTED_BY)
DeclineReason = _text(limits.QUOTE_DECLINE_REASON)
PaymentReference = _text(limits.PAYMENT_REFERENCE)
PaymentNote = _text(limits.PAYMENT_NOTE)
PaymentInternalNote = _text(limits.PAYMENT_INTERNAL_NOTE)
ExpenseTitle = _text(limits.EXPENSE_TITLE)
ExpenseCategory = _text(limits.EXPENSE_CATEGORY)
ExpensePayee = _text(limits.EXPENSE_PAYEE)
ExpenseDescription = _text(limits.EXPENSE_DESCRIPTION)
WebhookUrl = Annotated[
    str, StringConstraints(max_length=limits.WEBHOOK_URL), Field(examples=["https://shop.example.com/hooks/invoicing"])
]
WebhookDescription = _text(limits.WEBHOOK_DESCRIPTION)
WebhookEventName = Literal[("*", *WEBHOOK_EVENT_TYPES)]  # type: ignore[valid-type]
WebhookEvents = Annotated[
    list[WebhookEventName],
    Field(min_length=1, max_length=20, description='Event types to send, or ["*"] for all', examples=[["*"]]),
]
DecisionNote = _text(limits.DECISION_NOTE)
CountryCode = Annotated[str, StringConstraints(max_length=2), Field(examples=["DE"], description="ISO 3166-1 alpha-2")]
VatId = Annotated[
    str,
    StringConstraints(max_length=limits.VAT_ID),
    Field(examples=["DE136695976"], description="Checked with python-stdnum where the country has a rule"),
]
Street = _text(limits.STREET)
City = _text(limits.CITY)
PostalCode = _text(limits.POSTAL_CODE)
UnitCode = Annotated[
    str,
    StringConstraints(max_length=limits.UNIT_CODE),
    Field(examples=["C62"], description="UN/ECE Recommendation 20 unit code (default C62, one)"),
]
TaxCategoryCode = Literal[TAX_CATEGORIES]  # type: ignore[valid-type]
ExemptionReason = _text(limits.TAX_EXEMPTION_REASON)
# Dates stay strings here so "2026-11-25" is the only accepted form; the
# services parse them (and say which field was wrong).
DateIn = Annotated[
    str,
    StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$"),
    Field(json_schema_extra={"format": "date"}, examples=["2026-11-25"]),
]
Currency = Annotated[
    str,
    StringConstraints(min_length=limits.CURRENCY_CODE, max_length=limits.CURRENCY_CODE),
    Field(examples=["NGN"]),
]

ClientType = Literal[CLIENT_TYPES]  # type: ignore[valid-type]
InvoiceStatus = Literal[INVOICE_STATES]  # type: ignore[valid-type]
PaymentMethod = Literal[PAYMENT_METHODS]  # type: ignore[valid-type]
RecurringIntervalName = Literal[RECURRING_INTERVALS]  # type: ignore[valid-type]
RecurringModeName = Literal[RECURRING_MODES]  # type: ignore[valid-type]
RecurringStatusName = Literal[RECURRING_STATES]  # type: ignore[valid-type]
IntervalCount = Annotated[StrictInt, Field(ge=1, le=366)]
MaxRuns = Annotated[StrictInt, Field(ge=1, le=100_000, description="How many invoices to make at most.")]
TermsDays = Annotated[StrictInt, Field(ge=0, le=365, description="Due date = run date + these days.")]
QuoteStatus = Literal[QUOTE_STATES]  # type: ignore[valid-type]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ------------------------------------------------------------------ requests


class ClientIn(Strict):
    name: ClientName = Field(examples=["Adaeze Okafor"])
    client_type: ClientType = "individual"
    email: Email | None = Field(None, examples=["ada@example.com"])
    phone: Phone | None = Field(None, examples=["+2348031234567"])
    billing_address: Address | None = None
    postal_address: Address | None = None
    default_currency: Currency | None = None
    country: CountryCode | None = None
    vat_id: VatId | None = None
    street: Street | None = None
    city: City | None = None
    postal_code: PostalCode | None = None
    sms_opt_in: StrictBool = False
    reminders_opt_out: StrictBool = False


class ClientPatch(Strict):
    name: ClientName | None = None
    client_type: ClientType | None = None
    email: Email | None = None
    phone: Phone | None = None
    billing_address: Address | None = None
    postal_address: Address | None = None
    default_currency: Currency | None = None
    country: CountryCode | None = None
    vat_id: VatId | None = None
    street: Street | None = None
    city: City | None = None
    postal_code: PostalCode | None = None
    sms_opt_in: StrictBool | None = None
    reminders_opt_out: StrictBool | None = None


class ItemIn(Strict):
    description: LineDescription = Field(examples=["Consulting"])
    quantity: DecimalInput
    unit_price: DecimalInput
    tax_rate: DecimalInput | None = None
    unit: UnitCode | None = None
    tax_category: Annotated[
        TaxCategoryCode | None, Field(description="EN 16931 VAT category; default S when the rate > 0, else Z")
    ] = None
    tax_exemption_reason: Annotated[
        ExemptionReason | None, Field(description="Required for categories E, AE, K and G")
    ] = None


class DiscountIn(Strict):
    type: Literal["percent", "fixed"]
    value: DecimalInput


class NotifyIn(Strict):
    email: StrictBool = True
    sms: StrictBool = False


class InvoiceIn(Strict):
    client_id: StrictInt | None = Field(None, examples=[12])
    client: ClientIn | None = None
    currency: Currency | None = None
    issue_date: DateIn | None = None
    due_date: DateIn | None = None
    purchase_order: PurchaseOrder | None = Field(None, examples=["PO-778"])
    notes: InvoiceNotes | None = None
    discount: DiscountIn | None = None
    items: Annotated[list[ItemIn], Field(max_length=limits.MAX_LINES)]
    issue: StrictBool = True
    notify: NotifyIn | None = None

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "client": {"name": "Adaeze Okafor", "email": "ada@example.com", "client_type": "individual"},
                    "currency": "NGN",
                    "purchase_order": "PO-778",
                    "discount": {"type": "percent", "value": "10"},
                    "items": [
                        {"description": "Consulting", "quantity": "2", "unit_price": "15000.00", "tax_rate": "7.5"}
                    ],
                    "notify": {"email": True, "sms": False},
                }
            ]
        },
    )


class InvoicePatch(Strict):
    client_id: StrictInt | None = None
    currency: Currency | None = None
    issue_date: DateIn | None = None
    due_date: DateIn | None = None
    purchase_order: PurchaseOrder | None = None
    notes: InvoiceNotes | None = None
    discount: DiscountIn | None = None
    items: Annotated[list[ItemIn], Field(max_length=limits.MAX_LINES)] | None = None


class IssueIn(Strict):
    notify: NotifyIn | None = None


class SendIn(Strict):
    notify: NotifyIn = NotifyIn()


class ReasonIn(Strict):
    reason: Reason = ""


class QuoteIn(Strict):
    client_id: StrictInt = Field(examples=[12])
    currency: Currency | None = None
    issue_date: DateIn | None = None
    valid_until: Annotated[DateIn | None, Field(description="Default: the issue date + 30 days.")] = None
    purchase_order: PurchaseOrder | None = Field(None, examples=["PO-778"])
    notes: InvoiceNotes | None = None
    discount: DiscountIn | None = None
    items: Annotated[list[ItemIn], Field(max_length=limits.MAX_LINES)]

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "client_id": 12,
                    "currency": "NGN",
                    "valid_until": "2026-12-25",
                    "discount": {"type": "percent", "value": "10"},
                    "items": [
                        {"description": "Consulting", "quantity": "2", "unit_price": "15000.00", "tax_rate": "7.5"}
                    ],
                }
            ]
        },
    )


class QuotePatch(Strict):
    client_id: StrictInt | None = None
    currency: Currency | None = None
    issue_date: DateIn | None = None
    valid_until: DateIn | None = None
    purchase_order: PurchaseOrder | None = None
    notes: InvoiceNotes | None = None
    discount: DiscountIn | None = None
    items: Annotated[list[ItemIn], Field(max_length=limits.MAX_LINES)] | None = None


class QuoteNotifyIn(Strict):
    email: StrictBool = True


class QuoteSendIn(Strict):
    notify: QuoteNotifyIn = QuoteNotifyIn()


class AcceptIn(Strict):
    name: Annotated[AcceptedBy, Field(description="The name of the person who accepted, as they gave it.")] = Field(
        examples=["Adaeze Okafor"]
    )


class DeclineIn(Strict):
    reason: DeclineReason = ""


class ConvertIn(Strict):
    issue: StrictBool = True
    notify: NotifyIn | None = None


class PaymentIn(Strict):
    amount: DecimalInput
    paid_on: DateIn | None = None
    method: PaymentMethod = "bank_transfer"
    reference: PaymentReference = ""
    note: Annotated[PaymentNote, Field(description="Printed on the client's receipt.")] = ""
    internal_note: Annotated[PaymentInternalNote, Field(description="For staff only; never shown to the client.")] = ""
    notify: NotifyIn | None = None

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "amount": "10000.00",
                    "paid_on": "2026-11-26",
                    "method": "bank_transfer",
                    "reference": "TRX123",
                    "notify": {"email": True, "sms": False},
                }
            ]
        },
    )


class ExpenseIn(Strict):
    title: ExpenseTitle = Field(examples=["Printer toner"])
    category: ExpenseCategory = Field(examples=["Supplies"])
    amount: DecimalInput
    currency: Currency | None = None
    expense_date: DateIn | None = None
    description: ExpenseDescription | None = None
    payee: ExpensePayee | None = None


class ExpensePatch(Strict):
    title: ExpenseTitle | None = None
    category: ExpenseCategory | None = None
    amount: DecimalInput | None = None
    currency: Currency | None = None
    expense_date: DateIn | None = None
    description: ExpenseDescription | None = None
    payee: ExpensePayee | None = None


class CreditNoteNotifyIn(Strict):
    email: StrictBool = True


class CreditNoteIn(Strict):
    reason: Annotated[str, StringConstraints(max_length=limits.CREDIT_NOTE_REASON)] = Field(
        examples=["Two hours billed twice"]
    )
    full: StrictBool | None = None
    items: Annotated[list[ItemIn], Field(max_length=limits.MAX_LINES)] | None = None
    issue_date: DateIn | None = None
    notify: CreditNoteNotifyIn | None = None

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "Order cancelled", "full": True, "notify": {"email": True}}]},
    )


class ApplyCreditIn(Strict):
    amount: DecimalInput


class RefundIn(Strict):
    currency: Currency
    amount: DecimalInput
    method: PaymentMethod = "bank_transfer"
    reference: PaymentReference = ""
    refunded_on: DateIn | None = None
    note: PaymentNote = ""


class RecurringInvoiceIn(Strict):
    client_id: StrictInt = Field(examples=[12])
    currency: Currency | None = None
    items: Annotated[list[ItemIn], Field(max_length=limits.MAX_LINES)]
    discount: DiscountIn | None = None
    notes: InvoiceNotes | None = None
    purchase_order: PurchaseOrder | None = None
    interval: RecurringIntervalName = "month"
    interval_count: IntervalCount = 1
    start_date: DateIn | None = None
    end_date: DateIn | None = None
    max_runs: MaxRuns | None = None
    payment_terms_days: TermsDays | None = None
    mode: Annotated[
        RecurringModeName, Field(description="send: issue and e-mail; issue: issue only; draft: a draft to review.")
    ] = "send"
    backfill: Annotated[
        StrictBool, Field(description="Also make the runs dated before today when start_date is in the past.")
    ] = False

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "client_id": 12,
                    "currency": "NGN",
                    "items": [
                        {"description": "School fees", "quantity": "1", "unit_price": "150000.00", "tax_rate": "0"}
                    ],
                    "interval": "month",
                    "interval_count": 1,
                    "start_date": "2026-01-31",
                    "max_runs": 12,
                    "mode": "send",
                }
            ]
        },
    )


class RecurringInvoicePatch(Strict):
    client_id: StrictInt | None = None
    currency: Currency | None = None
    items: Annotated[list[ItemIn], Field(max_length=limits.MAX_LINES)] | None = None
    discount: DiscountIn | None = None
    notes: InvoiceNotes | None = None
    purchase_order: PurchaseOrder | None = None
    interval: RecurringIntervalName | None = None
    interval_count: IntervalCount | None = None
    start_date: DateIn | None = None
    end_date: Annotated[DateIn | None, Field(description="null removes the end date.")] = None
    max_runs: Annotated[MaxRuns | None, Field(description="null removes the cap.")] = None
    payment_terms_days: TermsDays | None = None
    mode: RecurringModeName | None = None


class EmptyIn(Strict):
    """Actions that take no fields still refuse unknown ones."""


class DecisionIn(Strict):
    note: DecisionNote = ""


class WebhookEndpointIn(Strict):
    url: WebhookUrl
    events: WebhookEvents = ["*"]
    enabled: StrictBool = True
    description: WebhookDescription = ""


class WebhookEndpointPatch(Strict):
    url: WebhookUrl | None = None
    events: WebhookEvents | None = None
    enabled: StrictBool | None = None
    description: WebhookDescription | None = None


# ------------------------------------------------------------------ responses


class NotificationOut(BaseModel):
    id: int
    kind: Literal[MESSAGE_KINDS]  # type: ignore[valid-type]
    channel: Literal[CHANNELS]  # type: ignore[valid-type]
    recipient: str
    state: Literal[MESSAGE_STATES]  # type: ignore[valid-type]
    attempts: int
    last_error: str | None
    sent_at: dt.datetime | None
    invoice_id: int | None
    payment_id: int | None
    quote_id: int | None
    next_attempt_at: dt.datetime | None
    created_at: dt.datetime


class ClientOut(BaseModel):
    id: int
    name: str
    client_type: ClientType
    email: str | None
    phone: str | None
    billing_address: str
    postal_address: str
    default_currency: str | None
    country: str
    vat_id: str
    street: str
    city: str
    postal_code: str
    sms_opt_in: bool
    reminders_opt_out: bool
    archived: bool
    created_at: dt.datetime


class CreditOut(BaseModel):
    currency: str
    amount: AmountOut


class ClientDetailOut(ClientOut):
    credit: list[CreditOut] = Field(description="The client's credit per currency, only currencies with credit > 0.")


class ItemOut(BaseModel):
    position: int
    description: str
    quantity: DecimalOut
    unit_price: DecimalOut
    tax_rate: DecimalOut
    unit: str
    tax_category: TaxCategoryCode
    tax_exemption_reason: str
    amount: AmountOut
    discount: AmountOut
    tax: AmountOut


class DiscountOut(BaseModel):
    type: Literal["percent", "fixed"]
    value: DecimalOut


class InvoiceLinks(BaseModel):
    pdf: str
    public: str | None
    facturx: str | None = Field(description="The Factur-X PDF (issued invoices)")
    ubl: str | None = Field(description="The UBL 2.1 XML (issued invoices)")


class InvoiceOut(BaseModel):
    id: int
    number: str | None
    status: InvoiceStatus
    overdue: bool
    client: ClientOut
    billed_to: dict
    currency: str
    issue_date: dt.date
    due_date: dt.date
    purchase_order: str
    notes: str
    discount: DiscountOut | None
    tax_rounding: Literal["line", "document"]
    items: list[ItemOut]
    subtotal: AmountOut
    discount_total: AmountOut
    tax_total: AmountOut
    total: AmountOut
    amount_paid: AmountOut
    amount_credited: AmountOut
    balance_due: AmountOut
    issued_at: dt.datetime | None
    voided_at: dt.datetime | None
    viewed_at: dt.datetime | None
    created_at: dt.datetime
    notifications: list[NotificationOut]
    links: InvoiceLinks
    recurring_invoice_id: int | None = Field(description="The recurring invoice that made it, if any.")


class RecurringItemOut(BaseModel):
    description: str
    quantity: DecimalOut
    unit_price: DecimalOut
    tax_rate: DecimalOut


class MadeInvoiceOut(BaseModel):
    id: int
    number: str | None
    status: InvoiceStatus
    issue_date: dt.date
    total: AmountOut


class RecurringInvoiceOut(BaseModel):
    id: int
    client_id: int
    client: dict
    currency: str
    items: list[RecurringItemOut]
    discount: DiscountOut | None
    notes: str
    purchase_order: str
    total: AmountOut
    interval: RecurringIntervalName
    interval_count: int
    start_date: dt.date
    end_date: dt.date | None
    max_runs: int | None
    payment_terms_days: int
    mode: RecurringModeName
    status: RecurringStatusName
    next_run_on: dt.date | None
    upcoming_runs: list[dt.date] = Field(description="The next five run dates (fewer near the end).")
    runs: int = Field(description="How many invoices it has made.")
    last_invoice: MadeInvoiceOut | None
    last_error: str | None = Field(description="Why the due run could not be made, until a run succeeds.")
    created_at: dt.datetime
    links: dict[str, str]


class PaymentInvoiceOut(BaseModel):
    id: int
    number: str | None
    status: InvoiceStatus
    amount_paid: AmountOut
    balance_due: AmountOut


class PaymentOut(BaseModel):
    id: int
    receipt_number: str
    amount: AmountOut
    currency: str
    method: PaymentMethod
    paid_on: dt.date
    reference: str
    note: str = Field(description="Printed on the client's receipt.")
    internal_note: str = Field(description="For staff only; never shown to the client.")
    recorded_by: str
    void: bool
    voided_at: dt.datetime | None
    void_reason: str | None
    invoice: PaymentInvoiceOut
    notifications: list[NotificationOut]
    links: dict[str, str]


class CreditNoteInvoiceOut(BaseModel):
    id: int
    number: str | None
    status: InvoiceStatus
    amount_credited: AmountOut
    balance_due: AmountOut


class CreditNoteClientOut(BaseModel):
    id: int
    name: str


class CreditNoteItemOut(BaseModel):
    position: int
    description: str
    quantity: DecimalOut
    unit_price: DecimalOut
    tax_rate: DecimalOut
    unit: str
    tax_category: TaxCategoryCode
    tax_exemption_reason: str
    amount: AmountOut
    tax: AmountOut


class CreditNoteOut(BaseModel):
    id: int
    number: str
    invoice: CreditNoteInvoiceOut
    client: CreditNoteClientOut
    currency: str
    issue_date: dt.date
    reason: str
    items: list[CreditNoteItemOut]
    subtotal: AmountOut
    tax_total: AmountOut
    total: AmountOut
    applied: AmountOut = Field(description="The part that settled the invoice's balance.")
    to_credit: AmountOut = Field(description="The part that became client credit.")
    created_at: dt.datetime
    notifications: list[NotificationOut]
    links: dict[str, str]


class RefundOut(BaseModel):
    id: int
    amount: AmountOut
    currency: str
    method: PaymentMethod
    reference: str
    refunded_on: dt.date
    note: str
    client: CreditNoteClientOut
    created_at: dt.datetime


class ExpenseOut(BaseModel):
    id: int
    title: str
    category: str
    description: str
    payee: str
    amount: AmountOut
    currency: str
    expense_date: dt.date
    status: Literal[EXPENSE_STATES]  # type: ignore[valid-type]
    requested_by: str
    decided_by: str | None
    decided_at: dt.datetime | None
    decision_note: str
    created_at: dt.datetime


class WebhookEndpointOut(BaseModel):
    id: int
    url: str
    events: list[str]
    enabled: bool
    description: str
    created_at: dt.datetime
    updated_at: dt.datetime


class WebhookEndpointWithSecretOut(WebhookEndpointOut):
    secret: str = Field(
        description="The signing secret (whsec_ + base64), shown only in this answer", examples=["whsec_MfKQ..."]
    )


class WebhookDeliveryOut(BaseModel):
    id: int
    endpoint_id: int
    event_id: str = Field(examples=["evt_8f14e45fceea167a5a36dedd4bea2543"])
    event_type: str = Field(examples=["invoice.paid"])
    state: Literal[WEBHOOK_DELIVERY_STATES]  # type: ignore[valid-type]
    attempts: int
    last_status: int | None = Field(description="The HTTP status of the last answer")
    last_error: str | None
    last_response: str | None = Field(description="The first 1 KB of the last answer's body")
    next_attempt_at: dt.datetime | None
    delivered_at: dt.datetime | None
    created_at: dt.datetime


class QuoteLinks(BaseModel):
    pdf: str
    public: str | None = Field(description="The client's page, where it is accepted or declined; null for a draft.")
    invoice: str | None


class QuoteOut(BaseModel):
    id: int
    number: str | None
    status: QuoteStatus
    client: ClientOut
    billed_to: dict
    currency: str
    issue_date: dt.date
    valid_until: dt.date
    purchase_order: str
    notes: str
    discount: DiscountOut | None
    tax_rounding: Literal["line", "document"]
    items: list[ItemOut]
    subtotal: AmountOut
    discount_total: AmountOut
    tax_total: AmountOut
    total: AmountOut
    sent_at: dt.datetime | None
    accepted_by: str | None
    accepted_at: dt.datetime | None
    accepted_ip: str | None
    declined_at: dt.datetime | None
    declined_reason: str | None
    invoice_id: int | None
    converted_at: dt.datetime | None
    viewed_at: dt.datetime | None
    created_at: dt.datetime
    notifications: list[NotificationOut]
    links: QuoteLinks


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    errors: dict[str, list[str]] | None = None


def page_of(item: type[BaseModel]) -> type[BaseModel]:
    return type(
        f"{item.__name__.removesuffix('Out')}Page",
        (BaseModel,),
        {"__annotations__": {"data": list[item], "next_cursor": str | None}},
    )


ClientPage = page_of(ClientOut)
InvoicePage = page_of(InvoiceOut)
PaymentPage = page_of(PaymentOut)
ExpensePage = page_of(ExpenseOut)
CreditNotePage = page_of(CreditNoteOut)
QuotePage = page_of(QuoteOut)
NotificationPage = page_of(NotificationOut)
WebhookEndpointPage = page_of(WebhookEndpointOut)
WebhookDeliveryPage = page_of(WebhookDeliveryOut)
RecurringInvoicePage = page_of(RecurringInvoiceOut)
