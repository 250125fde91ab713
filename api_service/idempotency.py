"""Safe retries with ``Idempotency-Key`` (SPEC §7), after Stripe's design.

The first request with a key claims a record in its own short transaction
(one ``INSERT ... ON CONFLICT DO NOTHING``; an expired record is purged only
when a claim runs into it). Its work and the stored response then commit together, so a record is either
complete (replayed for 24 hours) or its work never happened. A request that
finds the key in progress waits for the first to finish and replays it; the
same key with a different body is refused with 422.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

from flask import Response, request
from flask_restful.utils import unpack
from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from shared.db import db, utcnow
from shared.errors import Conflict, ValidationFailed
from shared.models import ApiKey, IdempotencyRecord
from shared.services import atomic

HEADER = "Idempotency-Key"
KEEP_FOR = dt.timedelta(hours=24)
ABANDONED_AFTER = dt.timedelta(seconds=60)
WAIT_SECONDS = 15.0
POLL_SECONDS = 0.05


def fingerprint(method: str, path: str, body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def _check_key(key: str) -> str:
    if not 1 <= len(key) <= 255 or not key.isprintable():
        raise ValidationFailed.one(HEADER, "must be 1 to 255 printable characters")
    return key


def _json_response(body: str, status: int) -> Response:
    return Response(body, status=status, mimetype="application/json")


def _replay(record: IdempotencyRecord) -> Response:
    response = _json_response(record.response_body, record.response_status)
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _claim(api_key: ApiKey, key: str, digest: str) -> tuple[int, dt.datetime] | Response:
    """Own the key (returns the record's id and claim time) or replay its finished response."""
    session = db.session
    deadline = time.monotonic() + WAIT_SECONDS
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    while True:
        now = utcnow()
        with atomic(session):
            claimed = session.execute(
                insert(IdempotencyRecord)
                .values(
                    api_key_id=api_key.id,
                    key=key,
                    fingerprint=digest,
                    method=request.method,
                    path=request.path,
                    created_at=now,
                )
                .on_conflict_do_nothing(index_elements=["api_key_id", "key"])
                .returning(IdempotencyRecord.id, IdempotencyRecord.created_at)
            ).first()
        if claimed is not None:
            return claimed.id, claimed.created_at
        record = session.execute(
            select(IdempotencyRecord).where(IdempotencyRecord.api_key_id == api_key.id, IdempotencyRecord.key == key)
        ).scalar_one_or_none()
        session.commit()
        if record is None:
            continue  # expired and purged between our statements; try again
        if record.created_at < now - KEEP_FOR:
            # Past its 24 hours: purge it (only if still that record) and claim the key afresh.
            with atomic(session):
                session.execute(
                    delete(IdempotencyRecord)
                    .where(IdempotencyRecord.id == record.id, IdempotencyRecord.created_at == record.created_at)
                    .execution_options(synchronize_session=False)
                )
            continue
        if record.fingerprint != digest:
            raise ValidationFailed.one(
                HEADER, "was already used with a different request; send a new key for a new request"
            )
        if record.completed_at is not None:
            return _replay(record)
        if now - record.created_at > ABANDONED_AFTER:
            # Its work never committed (work and completion commit together): take it over.
            with atomic(session):
                taken = session.execute(
                    update(IdempotencyRecord)
                    .where(IdempotencyRecord.id == record.id, IdempotencyRecord.created_at == record.created_at)
                    .values(created_at=now)
                    .execution_options(synchronize_session=False)
                ).rowcount
            if taken:
                session.expire(record)
                return record.id, record.created_at
        if time.monotonic() > deadline:
            raise Conflict("a request with this Idempotency-Key is still being processed; retry shortly")
        session.expire_all()
        time.sleep(POLL_SECONDS)


def run_idempotent(api_key: ApiKey, body: Any, handler: Callable[[], Any]) -> Any:
    """Run a POST handler once per key; without the header it simply runs."""
    key = request.headers.get(HEADER)
    if key is None:
        return handler()
    key = _check_key(key)
    claimed = _claim(api_key, key, fingerprint(request.method, request.path, body))
    if isinstance(claimed, Response):
        return claimed
    record_id, claimed_at = claimed
    ours = (IdempotencyRecord.id == record_id, IdempotencyRecord.created_at == claimed_at)
    session = db.session
    try:
        with atomic(session):
            # A handler may return a bare body (status 200) as well as (body, status).
            payload, status, _ = unpack(handler())
            stored = json.dumps(payload) + "\n"  # as Flask-RESTful ends the bodies it writes
            completed = session.execute(
                update(IdempotencyRecord)
                .where(*ours)
                .values(response_status=status, response_body=stored, completed_at=utcnow())
                .execution_options(synchronize_session=False)
            ).rowcount
            if not completed:
                # A retry took the key over while this request was slow (see
                # ABANDONED_AFTER); only one of the two may commit its work.
                raise Conflict("a retry with this Idempotency-Key took over this request; its answer stands")
    except BaseException:
        # Nothing of the work committed; free the key (if still ours) so a corrected retry can run.
        session.rollback()
        with atomic(session):
            session.execute(delete(IdempotencyRecord).where(*ours))
        raise
    # The first answer is the stored bytes too, so every replay is byte-identical to it.
    return _json_response(stored, status)
