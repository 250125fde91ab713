from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import JSON, CheckConstraint, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import db, utcnow
from shared.models.enums import EINVOICE_FORMATS, PAPER_SIZES, TAX_ROUNDING_MODES, EInvoiceFormat, one_of

DEFAULT_REMINDER_OFFSETS = [-3, 0, 3]


class Settings(db.Model):
    """The company profile and business settings: a single row, id 1."""

    __tablename__ = "settings"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint(one_of("tax_rounding", TAX_ROUNDING_MODES), name="tax_rounding"),
        CheckConstraint("payment_terms_days >= 0", name="terms_not_negative"),
        CheckConstraint("reminder_repeat_days >= 0", name="repeat_not_negative"),
        CheckConstraint("reminder_max >= 0", name="max_not_negative"),
        CheckConstraint(one_of("paper_size", PAPER_SIZES), name="paper_size"),
        CheckConstraint(one_of("einvoice_format", EINVOICE_FORMATS), name="einvoice_format"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    company_name: Mapped[str] = mapped_column(String(200), default="Your Company")
    company_address: Mapped[str] = mapped_column(Text, default="")
    company_email: Mapped[str] = mapped_column(String(254), default="")
    company_phone: Mapped[str] = mapped_column(String(40), default="")
    company_tax_id: Mapped[str] = mapped_column(String(60), default="")
    company_website: Mapped[str] = mapped_column(String(200), default="")
    payment_instructions: Mapped[str] = mapped_column(Text, default="")
    # Bank details for transfers and the EPC payment QR (SPEC §14); "" until set. IBAN and BIC stored compact.
    iban: Mapped[str] = mapped_column(String(34), default="", server_default="")
    bic: Mapped[str] = mapped_column(String(11), default="", server_default="")
    account_holder: Mapped[str] = mapped_column(String(70), default="", server_default="")
    logo: Mapped[bytes | None] = mapped_column(LargeBinary)
    logo_mime: Mapped[str | None] = mapped_column(String(40))
    invoice_number_format: Mapped[str] = mapped_column(String(60), default="INV-{year}-{seq:05d}")
    receipt_number_format: Mapped[str] = mapped_column(String(60), default="RCT-{year}-{seq:05d}")
    credit_note_number_format: Mapped[str] = mapped_column(
        String(60), default="CN-{year}-{seq:05d}", server_default="CN-{year}-{seq:05d}"
    )
    quote_number_format: Mapped[str] = mapped_column(
        String(60), default="QUO-{year}-{seq:05d}", server_default="QUO-{year}-{seq:05d}"
    )
    default_currency: Mapped[str] = mapped_column(String(3), default="NGN")
    # ISO 3166-1 alpha-2; "" until someone sets it (national phone numbers need it).
    country: Mapped[str] = mapped_column(String(2), default="", server_default="")
    # SPEC §16: the seller of an e-invoice (EN 16931 BT-31 and BG-5); "" until someone sets them.
    vat_id: Mapped[str] = mapped_column(String(30), default="", server_default="")
    street: Mapped[str] = mapped_column(String(200), default="", server_default="")
    city: Mapped[str] = mapped_column(String(100), default="", server_default="")
    postal_code: Mapped[str] = mapped_column(String(20), default="", server_default="")
    # What the invoice e-mail carries (SPEC §16): the plain PDF, the Factur-X PDF, or the plain PDF and UBL.
    einvoice_format: Mapped[str] = mapped_column(
        String(10), default=EInvoiceFormat.NONE.value, server_default=EInvoiceFormat.NONE.value
    )
    # An IANA zone name; times are stored in UTC and shown in this zone.
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    paper_size: Mapped[str] = mapped_column(String(10), default="A4", server_default="A4")
    payment_terms_days: Mapped[int] = mapped_column(default=14)
    tax_rounding: Mapped[str] = mapped_column(String(10), default="line")
    # Days relative to the due date (negative = before), then every
    # reminder_repeat_days after the last offset, reminder_max stages in all.
    reminder_offsets: Mapped[list] = mapped_column(JSON, default=lambda: list(DEFAULT_REMINDER_OFFSETS))
    reminder_repeat_days: Mapped[int] = mapped_column(default=7)
    reminder_max: Mapped[int] = mapped_column(default=6)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # A new random value whenever a webhook endpoint is added, changed or removed
    # (shared.webhooks.events): processes cache the enabled endpoints under it.
    webhook_endpoints_version: Mapped[str] = mapped_column(
        String(32), default=lambda: uuid.uuid4().hex, server_default=""
    )
    # When an admin finished (or skipped) the first-run setup; None on a new install.
    setup_completed_at: Mapped[dt.datetime | None]

    @property
    def needs_setup(self) -> bool:
        """The first-run setup (company, country, currency, time zone) was never completed."""
        return self.setup_completed_at is None

    @property
    def initials(self) -> str:
        """Up to two letters standing for the company where it has no logo (the sidebar)."""
        words = [word for word in self.company_name.split() if word[:1].isalnum()]
        return "".join(word[0] for word in words[:2]).upper() or "?"


class NumberCounter(db.Model):
    """The last number handed out per series and year; locked while issuing."""

    __tablename__ = "number_counters"
    __table_args__ = (CheckConstraint("last_value >= 0", name="last_value_not_negative"),)

    series: Mapped[str] = mapped_column(String(20), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_value: Mapped[int] = mapped_column(default=0)
