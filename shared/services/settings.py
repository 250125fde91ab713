"""Company settings: profile, logo, numbering, terms, tax rounding, reminder schedule."""

from __future__ import annotations

import io
import threading
from typing import Any

from PIL import Image, ImageFile, UnidentifiedImageError
from sqlalchemy import update
from sqlalchemy.orm import Session

from shared import limits
from shared.activity import record_activity
from shared.actors import Actor
from shared.db import utcnow
from shared.errors import ValidationFailed
from shared.inputs import SettingsChanges, given
from shared.lookups import get_settings
from shared.models import Invoice, Settings
from shared.models.enums import EINVOICE_FORMATS, PAPER_SIZES, TAX_ROUNDING_MODES, EInvoiceFormat
from shared.numbering import check_number_format
from shared.parsing import FieldErrors, clean_text, to_whole
from shared.regions import check_country, check_time_zone
from shared.services.clients import normalize_currency, normalize_email, normalize_vat_id
from shared.services.users import change_password
from shared.transactions import unit_of_work

MAX_LOGO_BYTES = 512 * 1024
MAX_LOGO_PIXELS = 2000
LOGO_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg"}
REMINDER_SCHEDULE_FIELDS = {"reminder_offsets", "reminder_repeat_days", "reminder_max"}
TEXT_FIELDS = {
    "company_name": (limits.COMPANY_NAME, True),
    "company_address": (limits.COMPANY_ADDRESS, False),
    "company_phone": (limits.COMPANY_PHONE, False),
    "company_tax_id": (limits.COMPANY_TAX_ID, False),
    "company_website": (limits.COMPANY_WEBSITE, False),
    "payment_instructions": (limits.PAYMENT_INSTRUCTIONS, False),
    "account_holder": (limits.ACCOUNT_HOLDER, False),
}


def _whole(value: Any, field: str, low: int, high: int) -> int:
    return to_whole(value, field, low, high)


def parse_reminder_offsets(value: Any, field: str = "reminder_offsets") -> list[int]:
    """ "-3, 0, 3" or [-3, 0, 3]: days relative to the due date, in order, no repeats."""
    items = (
        value if isinstance(value, list) else [p for p in str(value or "").replace(";", ",").split(",") if p.strip()]
    )
    offsets = [_whole(item, field, -365, 365) for item in items]
    if len(offsets) > 12:
        raise ValidationFailed.one(field, "may list at most 12 days")
    if offsets != sorted(set(offsets)):
        raise ValidationFailed.one(field, "must list each day once, from earliest to latest (e.g. -3, 0, 3)")
    return offsets


@unit_of_work
def update_settings(session: Session, *, actor: Actor, data: SettingsChanges) -> Settings:
    data = given(data)
    settings = get_settings(session)
    errors = FieldErrors()
    cleaned: dict[str, Any] = {}
    for name, (limit, required) in TEXT_FIELDS.items():
        if name in data:
            with errors.collect():
                cleaned[name] = clean_text(data[name], name, max_length=limit, required=required)
    checks = {
        "company_email": lambda v: normalize_email(v, "company_email") or "",
        "invoice_number_format": lambda v: check_number_format(v, "invoice_number_format"),
        "receipt_number_format": lambda v: check_number_format(v, "receipt_number_format"),
        "credit_note_number_format": lambda v: check_number_format(v, "credit_note_number_format"),
        "quote_number_format": lambda v: check_number_format(v, "quote_number_format"),
        "default_currency": lambda v: _required_currency(v),
        "payment_terms_days": lambda v: _whole(v, "payment_terms_days", 0, 365),
        "tax_rounding": _tax_rounding,
        "paper_size": _paper_size,
        "reminder_offsets": parse_reminder_offsets,
        "reminder_repeat_days": lambda v: _whole(v, "reminder_repeat_days", 0, 90),
        "reminder_max": lambda v: _whole(v, "reminder_max", 0, 20),
        "country": check_country,
        "time_zone": check_time_zone,
        "iban": check_iban,
        "bic": check_bic,
        "street": lambda v: clean_text(v, "street", max_length=limits.STREET),
        "city": lambda v: clean_text(v, "city", max_length=limits.CITY),
        "postal_code": lambda v: clean_text(v, "postal_code", max_length=limits.POSTAL_CODE),
        "einvoice_format": _einvoice_format,
    }
    for name, check in checks.items():
        if name in data:
            with errors.collect():
                cleaned[name] = check(data[name])
    if "vat_id" in data:
        with errors.collect():
            country = cleaned.get("country", settings.country)
            cleaned["vat_id"] = normalize_vat_id(data["vat_id"], "vat_id", country=country)
    if cleaned.get("invoice_number_format") and cleaned.get("invoice_number_format") == cleaned.get(
        "receipt_number_format"
    ):
        errors.add("receipt_number_format", "must differ from the invoice number format")
    credit_format = cleaned.get("credit_note_number_format")
    if credit_format and credit_format in (
        cleaned.get("invoice_number_format", settings.invoice_number_format),
        cleaned.get("receipt_number_format", settings.receipt_number_format),
    ):
        errors.add("credit_note_number_format", "must differ from the invoice and receipt number formats")
    errors.raise_if_any()
    changed = sorted(name for name, value in cleaned.items() if getattr(settings, name) != value)
    for name in changed:
        setattr(settings, name, cleaned[name])
    if REMINDER_SCHEDULE_FIELDS.intersection(changed):
        session.flush()  # the settings row first: the lock order of shared.messages.reminders.sweep_reminders
        # Every next reminder day is worked out again by the next sweep (shared/reminders.py), paid
        # and void invoices' too: a voided payment can make one live again under the new schedule.
        session.execute(
            update(Invoice)
            .where(Invoice.next_reminder_on.is_not(None))
            .values(next_reminder_on=None)
            .execution_options(synchronize_session=False)
        )
    if changed:
        record_activity(session, actor, "settings_changed", settings, summary="Changed " + ", ".join(changed))
    return settings


def check_iban(value: Any) -> str:
    """An IBAN as banks print it or as typed (spaces, lower case): checked by schwifty, stored compact; "" clears it."""
    from schwifty import IBAN
    from schwifty.exceptions import SchwiftyException

    text = clean_text(value, "iban", max_length=limits.IBAN_TYPED)
    if not text:
        return ""
    try:
        return IBAN(text).compact
    except SchwiftyException as exc:
        raise ValidationFailed.one("iban", f"is not a valid IBAN ({_reason(exc)})") from None


def check_bic(value: Any) -> str:
    """A BIC (SWIFT code) of 8 or 11 characters, checked by schwifty; optional, "" clears it."""
    from schwifty import BIC
    from schwifty.exceptions import SchwiftyException

    text = clean_text(value, "bic", max_length=limits.BIC_TYPED)
    if not text:
        return ""
    try:
        return BIC(text).compact
    except SchwiftyException as exc:
        raise ValidationFailed.one("bic", f"is not a valid BIC ({_reason(exc)})") from None


def _reason(exc: Exception) -> str:
    text = str(exc).strip().rstrip(".")
    return text[:1].lower() + text[1:] if text else "check the characters"


def _required_currency(value: Any) -> str:
    code = normalize_currency(value, "default_currency")
    if not code:
        raise ValidationFailed.one("default_currency", "is required")
    return code


def _einvoice_format(value: Any) -> str:
    value = value or EInvoiceFormat.NONE  # blank: no e-invoice in the e-mail
    if value not in EINVOICE_FORMATS:
        raise ValidationFailed.one("einvoice_format", f"must be one of {', '.join(EINVOICE_FORMATS)}")
    return value


def _paper_size(value: Any) -> str:
    if value not in PAPER_SIZES:
        raise ValidationFailed.one("paper_size", f"must be {' or '.join(PAPER_SIZES)}")
    return value


SETUP_FIELDS = ("company_name", "country", "default_currency", "time_zone")


@unit_of_work
def complete_setup(
    session: Session,
    *,
    actor: Actor,
    data: dict[str, Any],
    user_id: int | None = None,
    current_password: str = "",
    new_password: str = "",
) -> Settings:
    """The first-run setup: company name, country, currency and time zone, all required.

    With ``new_password``, the signed-in user's (generated) password is changed
    in the same transaction: a refusal of either changes nothing.
    """
    errors = FieldErrors()
    for name in SETUP_FIELDS:
        if not str(data.get(name) or "").strip():
            errors.add(name, "is required")
    unknown = set(data) - set(SETUP_FIELDS)
    for name in sorted(unknown):
        errors.add(name, "is not part of the setup")
    errors.raise_if_any()
    settings = update_settings(
        session, actor=actor, data=SettingsChanges(**{name: data[name] for name in SETUP_FIELDS})
    )
    if new_password:
        change_password(
            session,
            actor=actor,
            user_id=user_id,
            current_password=current_password,
            new_password=new_password,
        )
    settings.setup_completed_at = utcnow()
    record_activity(session, actor, "setup_completed", settings, summary="First-run setup completed")
    return settings


@unit_of_work
def skip_setup(session: Session, *, actor: Actor) -> Settings:
    """Keep the defaults: the first-run setup is not offered again (Settings still has every field)."""
    settings = get_settings(session)
    if settings.setup_completed_at is None:
        settings.setup_completed_at = utcnow()
        record_activity(session, actor, "setup_skipped", settings, summary="First-run setup skipped")
    return settings


def _tax_rounding(value: Any) -> str:
    if value not in TAX_ROUNDING_MODES:
        raise ValidationFailed.one("tax_rounding", "must be line or document")
    return value


def check_logo(data: bytes) -> str:
    """The MIME type of an acceptable logo, judged by its content, never its name.

    PNG or JPEG only (an SVG can carry script), at most 512 KB and 2000 px a
    side, and Pillow must be able to decode it fully.
    """
    if not data:
        raise ValidationFailed.one("logo", "choose an image file")
    if len(data) > MAX_LOGO_BYTES:
        raise ValidationFailed.one("logo", f"must be at most {MAX_LOGO_BYTES // 1024} KB")
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationFailed.one("logo", "is not a PNG or JPEG image") from None
    if kind not in LOGO_TYPES:
        raise ValidationFailed.one("logo", "must be a PNG or JPEG image")
    if width > MAX_LOGO_PIXELS or height > MAX_LOGO_PIXELS:
        raise ValidationFailed.one("logo", f"must be at most {MAX_LOGO_PIXELS} pixels wide and high")
    if not _decodes_fully(data):
        raise ValidationFailed.one("logo", "is not a PNG or JPEG image (its picture data is damaged)")
    return LOGO_TYPES[kind]


_truncated_switch = threading.Lock()


def _decodes_fully(data: bytes) -> bool:
    """Decode every pixel: ``verify()`` checks a PNG's checksums, not that its pixels inflate.

    Importing WeasyPrint sets ``ImageFile.LOAD_TRUNCATED_IMAGES`` for the whole
    process, under which Pillow pads a short image instead of failing; it is
    off while we decode (the lock keeps two uploads from restoring it out of
    order) and put back afterwards.
    """
    with _truncated_switch:
        before = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            with Image.open(io.BytesIO(data)) as image:
                image.load()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            return False
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = before
    return True


@unit_of_work
def set_logo(session: Session, *, actor: Actor, data: bytes) -> Settings:
    mime = check_logo(data)
    settings = get_settings(session)
    settings.logo = data
    settings.logo_mime = mime
    record_activity(session, actor, "logo_changed", settings, summary="Company logo replaced")
    return settings


@unit_of_work
def remove_logo(session: Session, *, actor: Actor) -> Settings:
    settings = get_settings(session)
    settings.logo = None
    settings.logo_mime = None
    record_activity(session, actor, "logo_removed", settings, summary="Company logo removed")
    return settings
