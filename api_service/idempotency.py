"""Safe retries with ``Idempotency-Key`` (SPEC §7), after Stripe's design.

The first request with a key claims a record, does its work and stores its
response in one transaction (SPEC §17: one commit per API write), so a
record is either complete (replayed for 24 hours) or it never existed. A
concurrent request with the same key waits on the claim (Postgres holds the
second insert of a key until the first transaction ends; SQLite lets one
writer in at a time), then replays the stored response; the same key with a
different body is refused with 422.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Any

from flask import Response, request
from flask_restful.utils import unpack
from sqlalchemy import bindparam, select, text, update

from shared.db import UTCDateTime, db, utcnow
from shared.errors import Conflict, ValidationFailed
from shared.models import ApiKey, IdempotencyRecord
from shared.numbering import settled_text
from shared.prepared import prepared
from shared.services import atomic
from shared.transactions import at_commit, before_trailing_writes

HEADER = "Idempotency-Key"
KEEP_FOR = dt.timedelta(hours=24)
ABANDONED_AFTER = dt.timedelta(seconds=60)


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


# One statement, compiled once (sent prepared on Postgres): the same text runs on Postgres and SQLite (both have
# ON CONFLICT ... RETURNING).
_CLAIM = prepared(
    text(
        """
    INSERT INTO idempotency_records (api_key_id, "key", fingerprint, method, path, created_at)
    VALUES (:api_key_id, :key, :fingerprint, :method, :path, :created_at)
    ON CONFLICT (api_key_id, "key") DO UPDATE SET
        fingerprint = excluded.fingerprint, method = excluded.method, path = excluded.path,
        created_at = excluded.created_at, response_status = NULL, response_body = NULL, completed_at = NULL
    WHERE idempotency_records.created_at < :expired_before
       OR (idempotency_records.completed_at IS NULL AND idempotency_records.created_at < :abandoned_before)
    RETURNING id
    """
    ).bindparams(
        bindparam("created_at", type_=UTCDateTime()),
        bindparam("expired_before", type_=UTCDateTime()),
        bindparam("abandoned_before", type_=UTCDateTime()),
    )
)


_STORE = (
    update(IdempotencyRecord)
    .where(IdempotencyRecord.id == bindparam("record_id"))
    .values(
        response_status=bindparam("answer_status"),
        response_body=bindparam("answer_body"),
        completed_at=bindparam("answered_at", type_=UTCDateTime()),
    )
)


def _claim(session, api_key: ApiKey, key: str, digest: str) -> int | IdempotencyRecord:
    """Own the key in the request's transaction (the record's id), or the record that owns it.

    One ``INSERT ... ON CONFLICT``: a new key is claimed; a record past its
    24 hours (or an unfinished one left by an older version of this code,
    which claimed in a transaction of its own) is claimed afresh. On Postgres
    the insert waits while another transaction holds the same key, until that
    one commits (the record is then complete) or rolls back (the key is free).
    On SQLite the write lock already lets one request in at a time.
    """
    now = utcnow()
    claimed = session.execute(
        _CLAIM,
        {
            "api_key_id": api_key.id,
            "key": key,
            "fingerprint": digest,
            "method": request.method,
            "path": request.path,
            "created_at": now,
            "expired_before": now - KEEP_FOR,
            "abandoned_before": now - ABANDONED_AFTER,
        },
    ).scalar()
    if claimed is not None:
        return claimed
    return session.execute(
        select(IdempotencyRecord).where(IdempotencyRecord.api_key_id == api_key.id, IdempotencyRecord.key == key)
    ).scalar_one()


class _Answer:
    """A handler's (body, status, headers); a body given as a function is made at commit (see run_idempotent)."""

    def __init__(self, returned: Any) -> None:
        self.payload, self.status, self.headers = unpack(returned)

    def settle_at_commit(self, session, then: Callable[[], None] = lambda: None) -> None:
        if callable(self.payload):
            make = self.payload

            def settle(_session) -> None:
                self.payload = make()
                then()

            before_trailing_writes(session, settle)
        else:
            then()

    def settled(self, session) -> Any:
        """The payload with the numbers its commit's last statement took (``shared.numbering.settled_text``)."""
        text = json.dumps(self.payload)
        done = settled_text(session, text)
        return self.payload if done == text else json.loads(done)


def run_idempotent(api_key: ApiKey, body: Any, handler: Callable[[], Any]) -> Any:
    """Run a POST handler in one transaction, once per key; without the header it simply runs.

    A handler may return its body as a function of no arguments: it is called
    in the commit, once the transaction's numbers are final
    (``shared.numbering.number_at_commit``), and before anything is expired.
    """
    key = request.headers.get(HEADER)
    session = db.session
    if key is None:
        with atomic(session):
            returned = handler()
            if isinstance(returned, Response):  # a finished response (none of today's POSTs) goes out as it is
                return returned
            answer = _Answer(returned)
            answer.settle_at_commit(session)
        return answer.settled(session), answer.status, answer.headers
    key = _check_key(key)
    digest = fingerprint(request.method, request.path, body)
    # The claim, the work and the stored answer are one transaction: a failure
    # anywhere rolls all three back, which leaves the key free for a corrected retry.
    with atomic(session):
        claimed = _claim(session, api_key, key, digest)
        if isinstance(claimed, IdempotencyRecord):
            if claimed.fingerprint != digest:
                raise ValidationFailed.one(
                    HEADER, "was already used with a different request; send a new key for a new request"
                )
            if claimed.completed_at is None:  # only an older version of this code leaves one unfinished
                raise Conflict("a request with this Idempotency-Key is still being processed; retry shortly")
            return _replay(claimed)
        # A handler may return a bare body (status 200) as well as (body, status).
        answer = _Answer(handler())

        def store() -> None:
            answer.stored = json.dumps(answer.payload) + "\n"  # as Flask-RESTful ends the bodies it writes
            at_commit(
                session,
                _STORE,
                {
                    "record_id": claimed,
                    "answer_status": answer.status,
                    "answer_body": answer.stored,
                    "answered_at": utcnow(),
                },
            )

        answer.settle_at_commit(session, then=store)
    # The first answer is the stored bytes too, so every replay is byte-identical to it.
    return _json_response(settled_text(session, answer.stored), answer.status)
