from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from shared.db import db, utcnow
from shared.models.enums import ROLES, one_of


class User(db.Model):
    """A member of staff who logs in to the admin UI."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(one_of("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[dt.datetime | None]
    # Moves on at sign-out, password change and deactivation; a session signed in with an
    # older version is over (shared/services/sign_in.py).
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")

    def set_password(self, password: str) -> None:
        # scrypt is werkzeug's default; memory-hard, salted per user.
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class SignInThrottle(db.Model):
    """Sign-in attempts counted per e-mail from one source address, and per source address.

    The brute-force brake of ``shared.services.sign_in``. ``email_digest`` is the
    SHA-256 of the lower-cased e-mail as typed (so a password typed into the
    e-mail field is not stored readable), or ``*`` for the row that counts every
    e-mail from ``source``. A row whose ``expires_at`` has passed counts as empty.
    """

    __tablename__ = "sign_in_throttle"
    __table_args__ = (Index("ix_sign_in_throttle_expires_at", "expires_at"),)

    email_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(100), primary_key=True)
    attempts: Mapped[int]
    expires_at: Mapped[dt.datetime]

    def __repr__(self) -> str:
        return f"<SignInThrottle {self.email_digest[:8]} from {self.source}: {self.attempts}>"
