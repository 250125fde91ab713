"""Client use cases (SPEC §5.4): create, edit, archive; never delete one with invoices."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared import limits, money
from shared.activity import record_activity
from shared.actors import Actor
from shared.db import utcnow
from shared.errors import Conflict, ValidationFailed
from shared.inputs import ClientChanges, ClientInput, given
from shared.lookups import get_or_404, get_settings
from shared.models import Client, Invoice, RecurringInvoice
from shared.models.enums import CLIENT_TYPES
from shared.parsing import FieldErrors, clean_text
from shared.regions import check_country
from shared.transactions import unit_of_work

# What a typed phone number may hold: ASCII digits, a leading + and the usual
# separators (phonenumbers alone would also read letters as keypad digits).
_PHONE_TYPED = re.compile(r"\+?[0-9 ()./-]+")


def normalize_email(value: Any, field: str = "email") -> str | None:
    text = clean_text(value, field, max_length=limits.EMAIL)
    if not text:
        return None
    try:
        return validate_email(text, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationFailed.one(field, f"is not a valid e-mail address ({exc})") from None


def normalize_phone(value: Any, field: str = "phone", *, country: str = "") -> str | None:
    """The number in E.164 (``+14155550199``), from ``+1 415 555 0199`` or, with the company's
    ``country`` (ISO 3166-1 alpha-2), from a national form such as ``(415) 555-0199``.

    ``00`` before the country code counts as ``+``. Without a company country a
    national number is refused with a message asking for the ``+`` form.
    """
    text = clean_text(value, field, max_length=limits.PHONE)
    if not text:
        return None
    if not _PHONE_TYPED.fullmatch(text):
        raise ValidationFailed.one(
            field, "may hold only the digits 0-9, spaces, dashes, dots, brackets and a leading +"
        )
    compact = text
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    international = compact.startswith("+")
    if not international and not country:
        raise ValidationFailed.one(
            field,
            "needs the country code, such as +1 415 555 0199 (the international E.164 form); or set the "
            "company's country in Settings to type numbers the national way",
        )
    try:
        number = phonenumbers.parse(compact, None if international else country.upper())
    except phonenumbers.NumberParseException:
        raise ValidationFailed.one(field, "is not a phone number; type it like +1 415 555 0199") from None
    if not phonenumbers.is_possible_number(number):
        where = "" if international else f" in {country.upper()}"
        raise ValidationFailed.one(field, f"is not a possible phone number{where} (too short or too long)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_currency(value: Any, field: str) -> str | None:
    text = clean_text(value, field, max_length=limits.CURRENCY_CODE)
    if not text:
        return None
    code = text.upper()
    if code in money.NOT_MONEY:
        raise ValidationFailed.one(field, f"{code} is not money (metal, fund and test codes are refused)")
    if not money.is_known_currency(code):
        raise ValidationFailed.one(field, f"{text!r} is not an ISO 4217 currency code")
    return code


# VAT numbers are prefixed with the country's code, except Greece's, which use EL (EN 16931 BR-CO-09).
VAT_PREFIX = {"GR": "EL"}
_VAT_SEPARATORS = re.compile(r"[\s.\-/]")


def normalize_vat_id(value: Any, field: str = "vat_id", *, country: str = "") -> str:
    """A VAT id with its country prefix (``DE136695976``), checked with python-stdnum where the country has a rule.

    The prefix typed wins over ``country`` (a company may hold a foreign VAT
    number); without either the number is refused, since an e-invoice needs it
    prefixed. Countries stdnum has no VAT rule for keep the number as typed.
    """
    from stdnum import get_cc_module
    from stdnum.exceptions import ValidationError

    text = _VAT_SEPARATORS.sub("", clean_text(value, field, max_length=limits.VAT_ID)).upper()
    if not text:
        return ""
    prefixes = {prefix: code for code, prefix in VAT_PREFIX.items()}
    typed = text[:2] if text[:2].isalpha() and text[2:3].isalnum() else ""
    code = prefixes.get(typed, typed) if typed and (typed in prefixes or typed in _countries()) else country.upper()
    if not code:
        raise ValidationFailed.one(field, "needs its country prefix, such as DE136695976, or the country set first")
    prefix = VAT_PREFIX.get(code, code)
    module = get_cc_module(code.lower(), "vat")
    if module is None:
        return text if text.startswith(prefix) else prefix + text
    try:
        number = module.compact(module.validate(text))
    except ValidationError as exc:
        raise ValidationFailed.one(
            field, f"is not a valid {code} VAT number ({exc.message.rstrip('.').lower()})"
        ) from None
    return number if number.startswith(prefix) else prefix + number


def _countries() -> dict[str, str]:
    from shared.regions import countries

    return countries()


def _flag(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    raise ValidationFailed.one(field, "must be true or false")


def _clean_client_fields(
    data: ClientInput | ClientChanges, prefix: str = "", *, country: str = "", client_country: str = ""
) -> dict[str, Any]:
    """Check the fields given (every field of a new client); collects every problem before refusing.

    ``country`` is the company's (settings), for phone numbers typed the national way;
    ``client_country`` the client's stored one, for a VAT id typed without its prefix.
    """
    values = given(data)
    errors = FieldErrors()
    cleaned: dict[str, Any] = {}
    checks = {
        "name": lambda v, f: clean_text(v, f, max_length=limits.CLIENT_NAME, required=True),
        "client_type": _client_type,
        "email": normalize_email,
        "phone": lambda v, f: normalize_phone(v, f, country=country),
        "billing_address": lambda v, f: clean_text(v, f, max_length=limits.ADDRESS),
        "postal_address": lambda v, f: clean_text(v, f, max_length=limits.ADDRESS),
        "default_currency": normalize_currency,
        "country": check_country,
        "street": lambda v, f: clean_text(v, f, max_length=limits.STREET),
        "city": lambda v, f: clean_text(v, f, max_length=limits.CITY),
        "postal_code": lambda v, f: clean_text(v, f, max_length=limits.POSTAL_CODE),
        "sms_opt_in": _flag,
        "reminders_opt_out": _flag,
    }
    for name, check in checks.items():
        if name in values:
            with errors.collect():
                cleaned[name] = check(values[name], prefix + name)
    if "vat_id" in values:
        with errors.collect():
            vat_country = cleaned.get("country", client_country)
            cleaned["vat_id"] = normalize_vat_id(values["vat_id"], prefix + "vat_id", country=vat_country)
    errors.raise_if_any()
    return cleaned


def _client_type(value: Any, field: str) -> str:
    if value not in CLIENT_TYPES:
        raise ValidationFailed.one(field, f"must be one of {', '.join(CLIENT_TYPES)}")
    return value


def _check_sms(cleaned: dict[str, Any], client: Client | None = None, prefix: str = "") -> None:
    phone = cleaned.get("phone", client.phone if client else None)
    if cleaned.get("sms_opt_in", client.sms_opt_in if client else False) and not phone:
        raise ValidationFailed.one(prefix + "sms_opt_in", "needs a phone number to send SMS to")


@unit_of_work
def create_client(session: Session, *, actor: Actor, data: ClientInput) -> Client:
    cleaned = _clean_client_fields(data, country=get_settings(session).country)
    _check_sms(cleaned)
    client = Client(**cleaned)
    session.add(client)
    record_activity(session, actor, "created", client, client_id=None, summary=f"Client {client.name} created")
    return client


def find_client_by_email(session: Session, email: str) -> Client | None:
    """The oldest active client with this e-mail (archived clients are not reused)."""
    return session.execute(
        select(Client)
        .where(func.lower(Client.email) == email.lower(), Client.archived_at.is_(None))
        .order_by(Client.id)
        .limit(1)
    ).scalar_one_or_none()


@unit_of_work
def find_or_create_client(session: Session, *, actor: Actor, data: ClientInput, prefix: str = "") -> Client:
    """The live client with ``data``'s e-mail, or a new client from ``data`` (SPEC §7, inline clients).

    Race-safe: on Postgres a transaction-scoped advisory lock on the normalised
    e-mail makes a second caller wait until the first one's transaction ends,
    and then find the client it made; on SQLite the unit of work already holds
    the database's single write lock. A lock rather than a unique index,
    because two live clients may share an address on purpose (made by hand,
    or restored from the archive) and existing databases may hold such pairs.
    Archived clients are never reused. Field errors are named ``prefix + field``.
    """
    email = normalize_email(data.email, prefix + "email")
    if email:
        _lock_email(session, email)
        client = find_client_by_email(session, email)
        if client is not None:
            return client
    try:
        return create_client(session, actor=actor, data=data)
    except ValidationFailed as exc:
        raise ValidationFailed({prefix + field: messages for field, messages in exc.errors.items()}) from None


def _lock_email(session: Session, email: str) -> None:
    """Hold a lock named after ``email`` until the transaction ends (Postgres; SQLite has one writer)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.sha256(f"client-email:{email}".encode()).digest()
    session.execute(select(func.pg_advisory_xact_lock(int.from_bytes(digest[:8], "big", signed=True))))


@unit_of_work
def update_client(session: Session, *, actor: Actor, client_id: int, data: ClientChanges) -> Client:
    client = get_or_404(session, Client, client_id)
    cleaned = _clean_client_fields(data, country=get_settings(session).country, client_country=client.country)
    _check_sms(cleaned, client)
    changed = {k: v for k, v in cleaned.items() if getattr(client, k) != v}
    for name, value in changed.items():
        setattr(client, name, value)
    if changed:
        record_activity(
            session,
            actor,
            "edited",
            client,
            client_id=client.id,
            summary="Changed " + ", ".join(sorted(changed)),
        )
    return client


@unit_of_work
def archive_client(session: Session, *, actor: Actor, client_id: int) -> Client:
    """Hide a client from pickers; its invoices and history stay."""
    client = get_or_404(session, Client, client_id)
    if client.archived_at is not None:
        raise Conflict(f"client {client.name} is already archived")
    client.archived_at = utcnow()
    record_activity(session, actor, "archived", client, client_id=client.id, summary=f"Client {client.name} archived")
    return client


@unit_of_work
def restore_client(session: Session, *, actor: Actor, client_id: int) -> Client:
    client = get_or_404(session, Client, client_id)
    if client.archived_at is None:
        raise Conflict(f"client {client.name} is not archived")
    client.archived_at = None
    record_activity(session, actor, "restored", client, client_id=client.id, summary=f"Client {client.name} restored")
    return client


@unit_of_work
def delete_client(session: Session, *, actor: Actor, client_id: int) -> None:
    """Delete a client that never had an invoice; one with invoices is archived."""
    client = get_or_404(session, Client, client_id)
    has_invoices = session.execute(select(Invoice.id).where(Invoice.client_id == client.id).limit(1)).first()
    if has_invoices:
        raise Conflict(f"client {client.name} has invoices; archive the client instead of deleting it")
    has_recurring = session.execute(
        select(RecurringInvoice.id).where(RecurringInvoice.client_id == client.id).limit(1)
    ).first()
    if has_recurring:
        raise Conflict(f"client {client.name} has recurring invoices; delete them first, or archive the client")
    record_activity(session, actor, "deleted", client, summary=f"Client {client.name} deleted")
    session.delete(client)
