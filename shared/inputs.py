"""Typed inputs of the write use cases, made by the doors and taken by ``shared.services``.

A door (admin form, API schema, command line, test factory) builds one of
these; the service checks its values (bounds, states, money) and reports each
problem under the field path the API uses. Values stay as the door received
them (``"12.50"`` or ``Decimal``, ``"2026-11-25"`` or ``date``) so the one
strict parse, with its messages, lives in the service.

A create input carries every field with its default; a *changes* input
carries only the fields given, the rest are :data:`UNSET` and stay as they are.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final, TypeVar

from shared.errors import ValidationFailed


class _Unset(enum.Enum):
    UNSET = "unset"

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset.UNSET
"""A field of a *changes* input that was not given: the stored value stays."""

Number = Decimal | int | str
Date = dt.date | str

T = TypeVar("T")


def _unknown_fields(cls: type, data: Mapping[str, Any], prefix: str, errors: dict[str, list[str]]) -> None:
    known = {f.name for f in dataclasses.fields(cls)}
    for name in sorted(set(data) - known):
        errors.setdefault(f"{prefix}{name}", []).append("is not a known field")


def _build(cls: type[T], data: Any, *, errors: dict[str, list[str]], prefix: str = "") -> T:
    if not isinstance(data, Mapping):
        raise ValidationFailed.one(prefix.rstrip(".") or "body", "must be an object")
    _unknown_fields(cls, data, prefix, errors)
    known = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in known})


def given(changes: Any) -> dict[str, Any]:
    """The fields of a *changes* input that were given, by name."""
    return {
        f.name: getattr(changes, f.name) for f in dataclasses.fields(changes) if getattr(changes, f.name) is not UNSET
    }


# ------------------------------------------------------------------ invoices (SPEC §5.1, §5.2)


@dataclass(frozen=True)
class ItemInput:
    """One invoice line as entered."""

    description: str | None = None
    quantity: Number | None = None
    unit_price: Number | None = None
    tax_rate: Number | None = None
    unit: str | None = None  # C62
    tax_category: str | None = None  # S when the rate is above 0, else Z
    tax_exemption_reason: str | None = ""


@dataclass(frozen=True)
class DiscountInput:
    """An invoice discount: ``percent`` of the subtotal or a ``fixed`` amount."""

    type: str | None = None
    value: Number | None = ""


def _items(raw: Any, errors: dict[str, list[str]]) -> Any:
    # Anything but a list of objects is passed on as given: the service names what is wrong with it.
    if not isinstance(raw, list):
        return raw
    items: list[Any] = []
    for index, item in enumerate(raw):
        if isinstance(item, Mapping):
            _unknown_fields(ItemInput, item, f"items.{index}.", errors)
            item = ItemInput(**{k: v for k, v in item.items() if k in {f.name for f in dataclasses.fields(ItemInput)}})
        items.append(item)
    return items


def _discount(raw: Any, errors: dict[str, list[str]]) -> Any:
    if not isinstance(raw, Mapping):
        return raw
    _unknown_fields(DiscountInput, raw, "discount.", errors)
    return DiscountInput(**{k: v for k, v in raw.items() if k in ("type", "value")})


def _document_draft(cls: type[T], data: Any) -> T:
    """A new invoice, quote or recurring template from a mapping, its lines and discount checked, every error at once."""
    errors: dict[str, list[str]] = {}
    draft = _build(cls, data, errors=errors)
    draft = dataclasses.replace(draft, items=_items(draft.items, errors), discount=_discount(draft.discount, errors))
    if errors:
        raise ValidationFailed(errors)
    return draft


def _document_changes(cls: type[T], data: Any) -> T:
    """Changes to a draft (invoice, quote, recurring template): only the fields given are read and checked."""
    errors: dict[str, list[str]] = {}
    changes = _build(cls, data, errors=errors)
    if changes.items is not UNSET:
        changes = dataclasses.replace(changes, items=_items(changes.items, errors))
    if changes.discount is not UNSET:
        changes = dataclasses.replace(changes, discount=_discount(changes.discount, errors))
    if errors:
        raise ValidationFailed(errors)
    return changes


@dataclass(frozen=True)
class InvoiceDraft:
    """A new invoice: a client, at least one line; the rest have defaults (SPEC §7)."""

    client_id: int | str | None = None
    items: Sequence[ItemInput] | None = None
    currency: str | None = None  # the client's default, then the company's
    issue_date: Date | None = None  # today
    due_date: Date | None = None  # issue date + payment terms
    purchase_order: str | None = ""
    notes: str | None = ""
    discount: DiscountInput | None = None

    @classmethod
    def from_mapping(cls, data: Any) -> InvoiceDraft:
        """Build from a JSON-like mapping (API body, fixtures); unknown fields are refused."""
        return _document_draft(cls, data)


@dataclass(frozen=True)
class InvoiceChanges:
    """Changes to a draft: only the fields given change."""

    client_id: int | str | None | _Unset = UNSET
    items: Sequence[ItemInput] | None | _Unset = UNSET
    currency: str | None | _Unset = UNSET
    issue_date: Date | None | _Unset = UNSET
    due_date: Date | None | _Unset = UNSET
    purchase_order: str | None | _Unset = UNSET
    notes: str | None | _Unset = UNSET
    discount: DiscountInput | None | _Unset = UNSET

    @classmethod
    def from_mapping(cls, data: Any) -> InvoiceChanges:
        """Build from a JSON-like mapping of the fields to change; unknown fields are refused."""
        return _document_changes(cls, data)


@dataclass(frozen=True)
class QuoteDraft:
    """A new quote: a client, at least one line; the rest have defaults (SPEC §13)."""

    client_id: int | str | None = None
    items: Sequence[ItemInput] | None = None
    currency: str | None = None  # the client's default, then the company's
    issue_date: Date | None = None  # today
    valid_until: Date | None = None  # issue date + 30 days
    purchase_order: str | None = ""
    notes: str | None = ""
    discount: DiscountInput | None = None

    @classmethod
    def from_mapping(cls, data: Any) -> QuoteDraft:
        """Build from a JSON-like mapping (API body, fixtures); unknown fields are refused."""
        return _document_draft(cls, data)


@dataclass(frozen=True)
class QuoteChanges:
    """Changes to a draft quote: only the fields given change."""

    client_id: int | str | None | _Unset = UNSET
    items: Sequence[ItemInput] | None | _Unset = UNSET
    currency: str | None | _Unset = UNSET
    issue_date: Date | None | _Unset = UNSET
    valid_until: Date | None | _Unset = UNSET
    purchase_order: str | None | _Unset = UNSET
    notes: str | None | _Unset = UNSET
    discount: DiscountInput | None | _Unset = UNSET

    @classmethod
    def from_mapping(cls, data: Any) -> QuoteChanges:
        """Build from a JSON-like mapping of the fields to change; unknown fields are refused."""
        return _document_changes(cls, data)


class _FromMapping:
    """``from_mapping`` for the flat inputs: unknown fields refused, each under its path."""

    _unknown_message = "is not a known field"

    @classmethod
    def from_mapping(cls: type[T], data: Any, *, prefix: str = "") -> T:
        """Build from a JSON-like mapping (API body, fixtures); unknown fields are refused."""
        if not isinstance(data, Mapping):
            raise ValidationFailed.one(prefix.rstrip(".") or "body", "must be an object")
        known = {f.name for f in dataclasses.fields(cls)}
        errors = {f"{prefix}{name}": [cls._unknown_message] for name in sorted(set(data) - known)}
        if errors:
            raise ValidationFailed(errors)
        return cls(**data)


# ------------------------------------------------------------------ clients (SPEC §5.4)


@dataclass(frozen=True)
class ClientInput(_FromMapping):
    """A new client: a name; the rest have defaults."""

    name: str | None = None
    client_type: str = "individual"
    email: str | None = None
    phone: str | None = None
    billing_address: str | None = ""
    postal_address: str | None = ""
    default_currency: str | None = None  # the company's
    country: str | None = ""
    vat_id: str | None = ""
    street: str | None = ""
    city: str | None = ""
    postal_code: str | None = ""
    sms_opt_in: bool = False
    reminders_opt_out: bool = False


@dataclass(frozen=True)
class ClientChanges(_FromMapping):
    """Changes to a client: only the fields given change."""

    name: str | None | _Unset = UNSET
    client_type: str | None | _Unset = UNSET
    email: str | None | _Unset = UNSET
    phone: str | None | _Unset = UNSET
    billing_address: str | None | _Unset = UNSET
    postal_address: str | None | _Unset = UNSET
    default_currency: str | None | _Unset = UNSET
    country: str | None | _Unset = UNSET
    vat_id: str | None | _Unset = UNSET
    street: str | None | _Unset = UNSET
    city: str | None | _Unset = UNSET
    postal_code: str | None | _Unset = UNSET
    sms_opt_in: bool | _Unset = UNSET
    reminders_opt_out: bool | _Unset = UNSET


# ------------------------------------------------------------------ payments (SPEC §5.3)


@dataclass(frozen=True)
class PaymentInput(_FromMapping):
    """Money received against an invoice; paid today by bank transfer unless told."""

    amount: Number | None = None
    paid_on: Date | None = None  # today
    method: str = "bank_transfer"
    reference: str | None = ""
    note: str | None = ""  # printed on the receipt
    internal_note: str | None = ""  # staff only


# ------------------------------------------------------------------ expenses (SPEC §5.5)


@dataclass(frozen=True)
class ExpenseInput(_FromMapping):
    """A new expense request: a title, a category and an amount; the rest have defaults."""

    title: str | None = None
    category: str | None = None
    amount: Number | None = None
    currency: str | None = None  # the company's
    expense_date: Date | None = None  # today
    description: str | None = ""
    payee: str | None = ""


@dataclass(frozen=True)
class ExpenseChanges(_FromMapping):
    """Changes to a pending expense: only the fields given change."""

    title: str | None | _Unset = UNSET
    category: str | None | _Unset = UNSET
    amount: Number | None | _Unset = UNSET
    currency: str | None | _Unset = UNSET
    expense_date: Date | None | _Unset = UNSET
    description: str | None | _Unset = UNSET
    payee: str | None | _Unset = UNSET


# ------------------------------------------------------------------ settings


@dataclass(frozen=True)
class SettingsChanges(_FromMapping):
    """Changes to the company settings: only the fields given change."""

    _unknown_message = "is not a setting"

    company_name: str | None | _Unset = UNSET
    company_address: str | None | _Unset = UNSET
    company_email: str | None | _Unset = UNSET
    company_phone: str | None | _Unset = UNSET
    company_tax_id: str | None | _Unset = UNSET
    company_website: str | None | _Unset = UNSET
    payment_instructions: str | None | _Unset = UNSET
    iban: str | None | _Unset = UNSET
    bic: str | None | _Unset = UNSET
    account_holder: str | None | _Unset = UNSET
    invoice_number_format: str | None | _Unset = UNSET
    receipt_number_format: str | None | _Unset = UNSET
    credit_note_number_format: str | None | _Unset = UNSET
    quote_number_format: str | None | _Unset = UNSET
    default_currency: str | None | _Unset = UNSET
    country: str | None | _Unset = UNSET
    vat_id: str | None | _Unset = UNSET
    street: str | None | _Unset = UNSET
    city: str | None | _Unset = UNSET
    postal_code: str | None | _Unset = UNSET
    einvoice_format: str | None | _Unset = UNSET
    time_zone: str | None | _Unset = UNSET
    paper_size: str | None | _Unset = UNSET
    payment_terms_days: int | str | None | _Unset = UNSET
    tax_rounding: str | None | _Unset = UNSET
    reminder_offsets: Sequence[int] | str | None | _Unset = UNSET
    reminder_repeat_days: int | str | None | _Unset = UNSET
    reminder_max: int | str | None | _Unset = UNSET


# ------------------------------------------------------------------ credit notes and client credit (SPEC §11)


@dataclass(frozen=True)
class CreditNoteInput:
    """A credit note: a reason and either ``full`` or the ``items`` credited."""

    reason: str | None = None
    full: bool | None = None
    items: Any = None
    issue_date: Date | None = None  # today

    @classmethod
    def from_mapping(cls, data: Any) -> CreditNoteInput:
        """Build from an API body or a form; unknown fields (also inside items) are refused."""
        errors: dict[str, list[str]] = {}
        note = _build(cls, data, errors=errors)
        if note.items is not None:
            note = dataclasses.replace(note, items=_items(note.items, errors))
        if errors:
            raise ValidationFailed(errors)
        return note


@dataclass(frozen=True)
class ApplyCreditInput(_FromMapping):
    """Client credit to put against an invoice of the same client and currency."""

    amount: Number | None = None


@dataclass(frozen=True)
class RefundInput(_FromMapping):
    """Client credit paid back; refunded today by bank transfer unless told."""

    currency: str | None = None
    amount: Number | None = None
    method: str = "bank_transfer"
    reference: str | None = ""
    refunded_on: Date | None = None  # today
    note: str | None = ""


# ------------------------------------------------------------------ online payments (SPEC §14)


@dataclass(frozen=True)
class OnlinePaymentInput(_FromMapping):
    """Money a payment provider reports as received for an invoice: one signed event, in minor units."""

    event_id: str
    event_type: str
    invoice_id: int
    amount_minor: int  # what the client paid, in the currency's minor units (Stripe's amount_total)
    currency: str  # ISO code, upper case
    payment_intent: str  # the provider's payment reference, kept as the payment's reference
    paid_on: dt.date  # the event's day in UTC


# ------------------------------------------------------------------ webhook endpoints (SPEC §15)


@dataclass(frozen=True)
class WebhookEndpointInput(_FromMapping):
    """A new webhook endpoint: a URL; every event and enabled unless told."""

    url: str | None = None
    events: Sequence[str] | None = ("*",)
    enabled: bool = True
    description: str | None = ""


@dataclass(frozen=True)
class WebhookEndpointChanges(_FromMapping):
    """Changes to a webhook endpoint: only the fields given change."""

    url: str | None | _Unset = UNSET
    events: Sequence[str] | None | _Unset = UNSET
    enabled: bool | _Unset = UNSET
    description: str | None | _Unset = UNSET


# ------------------------------------------------------------------ recurring invoices (SPEC §12)


@dataclass(frozen=True)
class RecurringInvoiceInput:
    """A new recurring invoice: a client, at least one line; the schedule has defaults (monthly from today)."""

    client_id: int | str | None = None
    items: Sequence[ItemInput] | None = None
    currency: str | None = None  # the client's default, then the company's
    discount: DiscountInput | None = None
    notes: str | None = ""
    purchase_order: str | None = ""
    interval: str | None = "month"
    interval_count: int | str | None = 1
    start_date: Date | None = None  # today
    end_date: Date | None = None
    max_runs: int | str | None = None
    payment_terms_days: int | str | None = None  # the company's
    mode: str | None = "send"
    backfill: bool = False  # make the runs dated before today too

    @classmethod
    def from_mapping(cls, data: Any) -> RecurringInvoiceInput:
        """Build from a JSON-like mapping (API body, fixtures); unknown fields are refused."""
        return _document_draft(cls, data)


@dataclass(frozen=True)
class RecurringInvoiceChanges:
    """Changes to a recurring invoice: only the fields given change, for the runs not made yet."""

    client_id: int | str | None | _Unset = UNSET
    items: Sequence[ItemInput] | None | _Unset = UNSET
    currency: str | None | _Unset = UNSET
    discount: DiscountInput | None | _Unset = UNSET
    notes: str | None | _Unset = UNSET
    purchase_order: str | None | _Unset = UNSET
    interval: str | None | _Unset = UNSET
    interval_count: int | str | None | _Unset = UNSET
    start_date: Date | None | _Unset = UNSET
    end_date: Date | None | _Unset = UNSET
    max_runs: int | str | None | _Unset = UNSET
    payment_terms_days: int | str | None | _Unset = UNSET
    mode: str | None | _Unset = UNSET

    @classmethod
    def from_mapping(cls, data: Any) -> RecurringInvoiceChanges:
        """Build from a JSON-like mapping of the fields to change; unknown fields are refused."""
        return _document_changes(cls, data)
