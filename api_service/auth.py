"""API keys: ``Authorization: Bearer <key>``, scopes read < write < admin (SPEC §7)."""

from __future__ import annotations

import collections
import datetime as dt
import threading
import time

from flask import current_app, request
from sqlalchemy import or_, update

from shared.db import db, utcnow
from shared.errors import DomainError, PermissionDenied
from shared.models import ApiKey
from shared.services import atomic
from shared.services.users import find_api_key

LAST_USED_RESOLUTION = dt.timedelta(seconds=60)
# Brute force on keys: this many wrong keys from one client address within the window, and that
# address gets 429 for every keyed request until the oldest miss leaves the window.
MAX_FAILED_KEYS = 10
FAILED_KEY_WINDOW_SECONDS = 300


class Unauthorized(DomainError):
    status = 401


class TooManyRequests(DomainError):
    status = 429

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class FailedKeyLimiter:
    """Wrong API keys per client address in a sliding window, in this process's memory.

    Per process on purpose: no table or Redis to run, nothing written on the
    hot path, and a key has 256 random bits so the limit only needs to stop a
    flood, not a patient guesser (with N worker processes an address gets at
    most N times the limit). Behind a reverse proxy, configure
    ``werkzeug.middleware.proxy_fix.ProxyFix`` so ``remote_addr`` is the client.
    """

    def __init__(self, limit: int, window: float, clock=time.monotonic) -> None:
        self.clock = clock
        self.limit = limit
        self.window = window
        self._misses: dict[str, collections.deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, address: str, now: float) -> collections.deque[float]:
        misses = self._misses.get(address)
        if misses is None:
            return collections.deque()
        while misses and misses[0] <= now - self.window:
            misses.popleft()
        if not misses:
            del self._misses[address]
        return misses

    def retry_after(self, address: str) -> int:
        """Seconds until ``address`` may try again (0: it may now)."""
        now = self.clock()
        with self._lock:
            misses = self._recent(address, now)
            if len(misses) < self.limit:
                return 0
            return max(1, int(misses[0] + self.window - now) + 1)

    def failed(self, address: str) -> None:
        now = self.clock()
        with self._lock:
            if len(self._misses) > 100_000:  # a flood from many addresses must not grow memory without bound
                self._misses.clear()
            self._recent(address, now)
            self._misses.setdefault(address, collections.deque()).append(now)


def key_limiter() -> FailedKeyLimiter:
    limiter = current_app.extensions.get("api_key_limiter")
    if limiter is None:
        limiter = current_app.extensions["api_key_limiter"] = FailedKeyLimiter(
            current_app.config.get("API_MAX_FAILED_KEYS", MAX_FAILED_KEYS),
            current_app.config.get("API_FAILED_KEY_WINDOW_SECONDS", FAILED_KEY_WINDOW_SECONDS),
        )
    return limiter


def authenticate(header: str | None) -> ApiKey:
    """The active key named by an Authorization header, or Unauthorized (TooManyRequests after a flood)."""
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send an API key as 'Authorization: Bearer <key>'")
    limiter = key_limiter()
    address = request.remote_addr or "unknown"
    wait = limiter.retry_after(address)
    if wait:
        raise TooManyRequests(f"too many invalid API keys from this address; retry in {wait} s", wait)
    key = find_api_key(db.session, token.strip())
    if key is None:
        limiter.failed(address)
        raise Unauthorized("the API key is not valid or has been revoked")
    _touch(key)
    return key


def _touch(key: ApiKey) -> None:
    """Keep ``last_used_at`` to the minute without a write on every request."""
    now = utcnow()
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_RESOLUTION:
        return
    # A write transaction from the start (BEGIN IMMEDIATE on SQLite): upgrading the read that found
    # the key would fail at once, not wait, when another request with the same key wrote first.
    with atomic(db.session):
        db.session.execute(
            update(ApiKey)
            .where(
                ApiKey.id == key.id,
                or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < now - LAST_USED_RESOLUTION),
            )
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )


def require_scope(key: ApiKey, scope: str) -> None:
    if not key.allows(scope):
        raise PermissionDenied(f"this API key has the {key.scope} scope; this request needs {scope}")
