"""API keys: ``Authorization: Bearer <key>``, scopes read < write < admin (SPEC §7)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, update

from shared.db import db, utcnow
from shared.errors import DomainError, PermissionDenied
from shared.models import ApiKey
from shared.services.users import find_api_key

LAST_USED_RESOLUTION = dt.timedelta(seconds=60)


class Unauthorized(DomainError):
    status = 401


def authenticate(header: str | None) -> ApiKey:
    """The active key named by an Authorization header, or Unauthorized."""
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send an API key as 'Authorization: Bearer <key>'")
    key = find_api_key(db.session, token.strip())
    if key is None:
        raise Unauthorized("the API key is not valid or has been revoked")
    _touch(key)
    return key


def _touch(key: ApiKey) -> None:
    """Keep ``last_used_at`` to the minute without a write on every request."""
    now = utcnow()
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_RESOLUTION:
        return
    db.session.execute(
        update(ApiKey)
        .where(
            ApiKey.id == key.id, or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < now - LAST_USED_RESOLUTION)
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def require_scope(key: ApiKey, scope: str) -> None:
    if not key.allows(scope):
        raise PermissionDenied(f"this API key has the {key.scope} scope; this request needs {scope}")
