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
        errors: dict[str, list[str]] = {}
        draft = _build(cls, data, errors=errors)
        draft = dataclasses.replace(
            draft, items=_items(draft.items, errors), discount=_discount(draft.discount, errors)
        )
        if errors:
            raise ValidationFailed(errors)
        return draft


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
        errors: dict[str, list[str]] = {}
        changes = _build(cls, data, errors=errors)
        if changes.items is not UNSET:
            changes = dataclasses.replace(changes, items=_items(changes.items, errors))
        if changes.discount is not UNSET:
            changes = dataclasses.replace(changes, discount=_discount(changes.discount, errors))
        if errors:
            raise ValidationFailed(errors)
        return changes
