"""Request and response shapes of the API, as pydantic v2 models.

Request models check shape only (types, required fields, unknown fields);
every business rule (bounds, states, money) is checked by ``shared.services``
with the same field paths. Response models document what the serializers in
``api_service.serializers`` produce, and feed the OpenAPI document.
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
DecisionNote = _text(limits.DECISION_NOTE)
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
    sms_opt_in: StrictBool | None = None
    reminders_opt_out: StrictBool | None = None


class ItemIn(Strict):
    description: LineDescription = Field(examples=["Consulting"])
    quantity: DecimalInput
    unit_price: DecimalInput
    tax_rate: DecimalInput | None = None


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


class EmptyIn(Strict):
    """Actions that take no fields still refuse unknown ones."""


class DecisionIn(Strict):
    note: DecisionNote = ""


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
    sms_opt_in: bool
    reminders_opt_out: bool
    archived: bool
    created_at: dt.datetime


class ItemOut(BaseModel):
    position: int
    description: str
    quantity: DecimalOut
    unit_price: DecimalOut
    tax_rate: DecimalOut
    amount: AmountOut
    discount: AmountOut
    tax: AmountOut


class DiscountOut(BaseModel):
    type: Literal["percent", "fixed"]
    value: DecimalOut


class InvoiceLinks(BaseModel):
    pdf: str
    public: str | None


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
    balance_due: AmountOut
    issued_at: dt.datetime | None
    voided_at: dt.datetime | None
    viewed_at: dt.datetime | None
    created_at: dt.datetime
    notifications: list[NotificationOut]
    links: InvoiceLinks


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
QuotePage = page_of(QuoteOut)
NotificationPage = page_of(NotificationOut)
