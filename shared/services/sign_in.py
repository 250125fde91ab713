"""Signing in to the admin UI, and the brake on guessing passwords.

Every attempt is counted twice before its password is checked: once for the
e-mail as typed *from that source address*, once for the source address over
all e-mails. Each count is one atomic upsert committed before the (slow)
password check, so parallel guesses cannot slip past the limit: with a limit
of five, at most five passwords are ever checked for one e-mail from one
address in a window. The count does not depend on whether the e-mail has an
account, so the answers are the same for every e-mail; and it is kept per
source, so a stranger's guesses block the stranger, not the account's owner.
A successful sign-in clears its e-mail's count and gives back its attempt to
the source's count (many colleagues behind one office address must not use
it up). An admin can lift the blocks on an account (``unblock_sign_in``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import case, delete, func, literal, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from shared.activity import record_activity
from shared.actors import Actor
from shared.db import UTCDateTime, parse_id, utcnow
from shared.errors import Conflict, DomainError
from shared.lookups import get_or_404
from shared.models import SignInThrottle, User
from shared.services.users import end_sessions, find_user_by_email
from shared.transactions import atomic

SESSION_LIFETIME = dt.timedelta(hours=12)
MAX_ATTEMPTS_PER_EMAIL_AND_SOURCE = 5
MAX_ATTEMPTS_PER_SOURCE = 30
WINDOW = dt.timedelta(minutes=15)
ANY_EMAIL = "*"
_DUMMY_HASH = generate_password_hash("not a real password", method="scrypt")


class SignInRefused(DomainError):
    status = 401


@dataclass(frozen=True)
class _Count:
    attempts: int
    expires_at: dt.datetime
    limit: int

    @property
    def over(self) -> bool:
        return self.attempts > self.limit


def email_digest(email: str) -> str:
    return hashlib.sha256((email or "").strip().lower().encode("utf-8", "replace")).hexdigest()


def _source(address: str | None) -> str:
    return (address or "unknown")[:100]


def _count_attempt(session: Session, digest: str, source: str, limit: int, now: dt.datetime) -> _Count:
    """Add one attempt to a row and return the row as it is now, in one statement.

    A row past its ``expires_at`` starts again at 1. The attempt that reaches
    the limit starts the block: the row then expires one window later, and
    attempts past the limit are refused until it does.
    """
    table = SignInThrottle.__table__
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    renewed = literal(now + WINDOW, UTCDateTime())
    expired = table.c.expires_at <= literal(now, UTCDateTime())
    statement = (
        insert(table)
        .values(email_digest=digest, source=source, attempts=1, expires_at=now + WINDOW)
        .on_conflict_do_update(
            index_elements=[table.c.email_digest, table.c.source],
            set_={
                "attempts": case((expired, 1), else_=table.c.attempts + 1),
                "expires_at": case(
                    (expired, renewed), (table.c.attempts + 1 == limit, renewed), else_=table.c.expires_at
                ),
            },
        )
        .returning(table.c.attempts, table.c.expires_at)
    )
    attempts, expires_at = session.execute(statement).one()
    return _Count(attempts, expires_at, limit)


def _forget_expired(session: Session, source: str, now: dt.datetime) -> None:
    """Delete this address's expired rows, so the table holds at most one window of attempts per address.

    Rows another sign-in holds are skipped (``SKIP LOCKED``), never waited for: no deadlock.
    """
    expired = (
        select(SignInThrottle.email_digest, SignInThrottle.source)
        .where(SignInThrottle.source == source, SignInThrottle.expires_at <= now)
        .limit(100)
        .with_for_update(skip_locked=True)
    )
    session.execute(
        delete(SignInThrottle).where(tuple_(SignInThrottle.email_digest, SignInThrottle.source).in_(expired))
    )


def _minutes(until: dt.datetime, now: dt.datetime) -> str:
    minutes = max(1, -(-int((until - now).total_seconds()) // 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def sign_in(session: Session, *, email: str, password: str, source: str | None) -> User:
    """The active user with this e-mail and password, or SignInRefused.

    ``source`` is the client's address (``request.remote_addr``). The refusal
    never says whether the e-mail has an account: an unknown e-mail costs the
    same password hashing and is counted and blocked the same way.
    """
    now = utcnow()
    digest, source = email_digest(email), _source(source)
    with atomic(session):  # committed before the password check, so parallel attempts see each other's counts
        _forget_expired(session, source, now)
        # Always in this order (the e-mail's row, then the source's row): no two sign-ins deadlock.
        counts = [
            _count_attempt(session, digest, source, MAX_ATTEMPTS_PER_EMAIL_AND_SOURCE, now),
            _count_attempt(session, ANY_EMAIL, source, MAX_ATTEMPTS_PER_SOURCE, now),
        ]
    blocked = [count for count in counts if count.over]
    if blocked:
        until = max(count.expires_at for count in blocked)
        raise SignInRefused(f"Too many failed sign-ins. Try again in {_minutes(until, now)}.")
    user = find_user_by_email(session, email or "")
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")  # the same work either way: no timing hint
    valid = user is not None and user.check_password(password or "") and user.is_active
    user_id = user.id if valid else None
    session.rollback()  # end the read; nothing was written
    if not valid:
        raise SignInRefused("That e-mail and password do not match an active account.")
    with atomic(session):
        session.execute(
            delete(SignInThrottle).where(SignInThrottle.email_digest == digest, SignInThrottle.source == source)
        )
        session.execute(
            update(SignInThrottle)
            .where(SignInThrottle.email_digest == ANY_EMAIL, SignInThrottle.source == source)
            .where(SignInThrottle.attempts > 0)
            .values(attempts=SignInThrottle.attempts - 1)
        )
        user = session.get(User, user_id, populate_existing=True)
        user.last_login_at = now
    return user


def sign_in_blocks(session: Session, emails: list[str]) -> dict[str, tuple[int, dt.datetime]]:
    """For each e-mail that is blocked somewhere now: (how many source addresses, until when)."""
    digests = {email_digest(email): email for email in emails}
    if not digests:
        return {}
    rows = session.execute(
        select(SignInThrottle.email_digest, func.count(), func.max(SignInThrottle.expires_at))
        .where(
            SignInThrottle.email_digest.in_(digests),
            SignInThrottle.attempts >= MAX_ATTEMPTS_PER_EMAIL_AND_SOURCE,
            SignInThrottle.expires_at > utcnow(),
        )
        .group_by(SignInThrottle.email_digest)
    )
    return {digests[digest]: (sources, until) for digest, sources, until in rows}


def unblock_sign_in(session: Session, *, actor: Actor, user_id: int) -> User:
    """Lift every block on this user's e-mail (from every address); recorded on the timeline."""
    with atomic(session):
        user = get_or_404(session, User, user_id)
        lifted = session.execute(
            delete(SignInThrottle).where(SignInThrottle.email_digest == email_digest(user.email))
        ).rowcount
        if not lifted:
            raise Conflict(f"sign-in for {user.email} is not blocked")
        record_activity(session, actor, "unlocked", user, summary=f"Sign-in unblocked for {user.email}")
    return user


# ---------------------------------------------------------------- sessions (SPEC §6)


def session_token(user: User) -> str:
    """What a session remembers of its user: the id and the session version it was signed in with."""
    return f"{user.id}:{user.session_version}"


def session_user(session: Session, token: str | None, signed_in_at: object) -> User | None:
    """The user a session belongs to, or None when that session is over.

    Over: the user is gone or deactivated, signed out, changed the password
    (each moves ``session_version`` on), or the sign-in was more than
    ``SESSION_LIFETIME`` ago. ``signed_in_at`` is the sign-in time the session
    carries (seconds since the epoch).
    """
    user_id, _, version = (token or "").partition(":")
    if parse_id(user_id) is None or not (version.isascii() and version.isdigit()):
        return None
    if not isinstance(signed_in_at, int | float) or isinstance(signed_in_at, bool):
        return None
    age = utcnow().timestamp() - signed_in_at
    if not -60 <= age < SESSION_LIFETIME.total_seconds():  # a minute's grace for clocks between servers
        return None
    user = session.get(User, parse_id(user_id))
    if user is None or not user.is_active or str(user.session_version) != version:
        return None
    return user


def sign_out(session: Session, *, user_id: int) -> None:
    """End every session of this user, in every browser (the cookie a thief copied included)."""
    with atomic(session):
        user = session.get(User, user_id)
        if user is not None:
            end_sessions(user)
