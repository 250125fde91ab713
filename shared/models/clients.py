from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import db, utcnow
from shared.models.enums import CLIENT_TYPES, one_of

# The client fields an e-invoice names its buyer with (SPEC §16), frozen with the rest at issue.
EINVOICE_PARTY_FIELDS = ("country", "vat_id", "street", "city", "postal_code")


class Client(db.Model):
    """Someone the company invoices: a student, an individual or a company."""

    __tablename__ = "clients"
    __table_args__ = (
        CheckConstraint(one_of("client_type", CLIENT_TYPES), name="client_type"),
        Index("ix_clients_name", "name"),
        Index("ix_clients_email", "email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    client_type: Mapped[str] = mapped_column(String(20), default="individual")
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    billing_address: Mapped[str] = mapped_column(Text, default="")
    postal_address: Mapped[str] = mapped_column(Text, default="")
    default_currency: Mapped[str | None] = mapped_column(String(3))
    # SPEC §16: the buyer of an e-invoice (EN 16931 BT-48, BG-8); existing clients have none until set.
    country: Mapped[str] = mapped_column(String(2), default="", server_default="")
    vat_id: Mapped[str] = mapped_column(String(30), default="", server_default="")
    street: Mapped[str] = mapped_column(String(200), default="", server_default="")
    city: Mapped[str] = mapped_column(String(100), default="", server_default="")
    postal_code: Mapped[str] = mapped_column(String(20), default="", server_default="")
    sms_opt_in: Mapped[bool] = mapped_column(default=False)
    reminders_opt_out: Mapped[bool] = mapped_column(default=False)
    archived_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    def snapshot(self) -> dict:
        """The client details frozen onto an invoice when it is issued."""
        return {
            "name": self.name,
            "client_type": self.client_type,
            "email": self.email,
            "phone": self.phone,
            "billing_address": self.billing_address,
            "postal_address": self.postal_address,
            **{name: getattr(self, name) for name in EINVOICE_PARTY_FIELDS},
        }

    def __repr__(self) -> str:
        return f"<Client {self.id} {self.name!r}>"
