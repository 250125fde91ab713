"""Staff accounts and API keys."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared import limits
from shared.activity import record_activity
from shared.actors import Actor
from shared.db import utcnow
from shared.errors import Conflict, PermissionDenied, ValidationFailed
from shared.lookups import get_or_404
from shared.models import ApiKey, User
from shared.models.enums import API_SCOPES, ROLES
from shared.parsing import FieldErrors, clean_text
from shared.prepared import prepared
from shared.services.clients import normalize_email
from shared.transactions import unit_of_work

MIN_PASSWORD_LENGTH = limits.MIN_PASSWORD
API_KEY_PREFIX = "inv"


def check_password_strength(password: str, field: str = "password") -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed.one(field, f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > limits.MAX_PASSWORD:
        raise ValidationFailed.one(field, f"must be at most {limits.MAX_PASSWORD} characters")
    if password.strip() != password:
        raise ValidationFailed.one(field, "must not start or end with spaces")


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.execute(select(User).where(func.lower(User.email) == email.strip().lower())).scalar_one_or_none()


@unit_of_work
def create_user(session: Session, *, actor: Actor, email: str, name: str, role: str, password: str) -> User:
    errors = FieldErrors()
    with errors.collect():
        email = normalize_email(email)
        if not email:
            raise ValidationFailed.one("email", "is required")
    with errors.collect():
        name = clean_text(name, "name", max_length=limits.USER_NAME, required=True)
    if role not in ROLES:
        errors.add("role", f"must be one of {', '.join(ROLES)}")
    with errors.collect():
        check_password_strength(password)
    errors.raise_if_any()
    taken = Conflict(f"a user with e-mail {email} already exists")
    if find_user_by_email(session, email):
        raise taken
    user = User(email=email, name=name, role=role)
    user.set_password(password)
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        # Another request inserted this e-mail after our check (both passed it at the same
        # moment): the unique index decides, and the loser gets the same refusal as a plain
        # duplicate. Role and lengths were checked above, so the e-mail is the only thing
        # left that can collide. The caller's unit of work rolls back.
        raise taken from None
    record_activity(session, actor, "created", user, summary=f"User {email} ({role}) created")
    return user


def hash_api_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@unit_of_work
def create_api_key(session: Session, *, actor: Actor, name: str, scope: str = "write") -> tuple[ApiKey, str]:
    """Make a key; the secret is returned once and only its hash is kept."""
    name = clean_text(name, "name", max_length=limits.API_KEY_NAME, required=True)
    if scope not in API_SCOPES:
        raise ValidationFailed.one("scope", f"must be one of {', '.join(API_SCOPES)}")
    prefix = secrets.token_hex(4)
    secret = f"{API_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(name=name, prefix=prefix, key_hash=hash_api_key(secret), scope=scope, created_by=actor.label[:200])
    session.add(key)
    record_activity(session, actor, "created", key, summary=f"API key {name} ({scope}) created")
    return key, secret


# Every API request: built once, sent prepared.
_KEY_BY_HASH = prepared(select(ApiKey).where(ApiKey.key_hash == bindparam("presented_hash")))


def find_api_key(session: Session, secret: str) -> ApiKey | None:
    """The active key for a presented secret, or None."""
    if not secret or len(secret) > 200:
        return None
    key = session.execute(_KEY_BY_HASH, {"presented_hash": hash_api_key(secret)}).scalar_one_or_none()
    if key is None or key.revoked_at is not None:
        return None
    return key


@unit_of_work
def revoke_api_key(session: Session, *, actor: Actor, key_id: int) -> ApiKey:
    key = get_or_404(session, ApiKey, key_id, label="API key")
    if key.revoked_at is not None:
        raise Conflict(f"API key {key.name} is already revoked")
    key.revoked_at = utcnow()
    record_activity(session, actor, "revoked", key, summary=f"API key {key.name} revoked")
    return key


@unit_of_work
def set_user_active(session: Session, *, actor: Actor, user_id: int, active: bool) -> User:
    _lock_admins(session)
    user = get_or_404(session, User, user_id)
    if actor.type == "user" and actor.id == user.id and not active:
        raise Conflict("you cannot deactivate your own account")
    if not active and user.is_admin and not _other_active_admins(session, user):
        raise Conflict("this is the last active admin; make another admin first")
    user.is_active = active
    if not active:
        end_sessions(user)
    record_activity(session, actor, "activated" if active else "deactivated", user, summary=f"User {user.email}")
    return user


def _other_active_admins(session: Session, user: User) -> int:
    """How many other active admins there are, their rows locked.

    Two admins demoting or deactivating each other at once: the second waits for
    the first, then no longer counts it, so one admin always remains.
    """
    query = select(User.id).where(User.role == "admin", User.is_active, User.id != user.id).with_for_update()
    return len(session.execute(query).all())


def _lock_admins(session: Session) -> None:
    """Lock every active admin's row in id order before any one user's row.

    Two admins demoting each other at once would otherwise each lock their
    target and then wait for the other's: a deadlock that fails one of them.
    In one order, the second waits for the first and then sees it done.
    """
    session.execute(select(User.id).where(User.role == "admin", User.is_active).order_by(User.id).with_for_update())


def end_sessions(user: User) -> None:
    """Every session signed in before now stops working at its next request (SPEC §6)."""
    user.session_version = User.session_version + 1  # in SQL: two changes at once both count


@unit_of_work
def change_password(session: Session, *, actor: Actor, user_id: int, current_password: str, new_password: str) -> User:
    """Set a new password after checking the current one; every session of the user ends."""
    user = get_or_404(session, User, user_id, lock=True)
    if not user.check_password(current_password or ""):
        raise ValidationFailed.one("current_password", "is not your current password")
    check_password_strength(new_password, "new_password")
    user.set_password(new_password)
    end_sessions(user)
    record_activity(session, actor, "password changed", user, summary=f"Password of {user.email} changed")
    return user


def _admin_only(actor: Actor, action: str) -> None:
    if not actor.is_admin:
        raise PermissionDenied(f"only an admin can {action}")


@unit_of_work
def reset_password(session: Session, *, actor: Actor, user_id: int, new_password: str) -> User:
    """An admin sets another user's password; every session of that user ends.

    One's own password is changed with the current one (:func:`change_password`).
    """
    _admin_only(actor, "reset a password")
    user = get_or_404(session, User, user_id, lock=True)
    if actor.type == "user" and actor.id == user.id:
        raise Conflict("change your own password on the Your password page (it asks for the current one)")
    check_password_strength(new_password, "new_password")
    user.set_password(new_password)
    end_sessions(user)
    record_activity(session, actor, "password reset", user, summary=f"Password of {user.email} reset by an admin")
    return user


@unit_of_work
def change_role(session: Session, *, actor: Actor, user_id: int, role: str) -> User:
    """An admin makes another user admin or staff; the last active admin stays one."""
    _admin_only(actor, "change a role")
    if role not in ROLES:
        raise ValidationFailed.one("role", f"must be one of {', '.join(ROLES)}")
    _lock_admins(session)
    user = get_or_404(session, User, user_id, lock=True)
    if actor.type == "user" and actor.id == user.id:
        raise Conflict("another admin must change your own role")
    if user.role == role:
        return user
    if user.is_admin and user.is_active and not _other_active_admins(session, user):
        raise Conflict("this is the last active admin; make another admin first")
    before = user.role
    user.role = role
    record_activity(
        session, actor, "role changed", user, summary=f"Role of {user.email} changed from {before} to {role}"
    )
    return user
