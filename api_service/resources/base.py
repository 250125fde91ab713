"""The base resource: key authentication, scopes, body parsing, lookup, pagination."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from flask import g, request
from flask_restful import Resource
from pydantic import BaseModel, ValidationError
from sqlalchemy import Select
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from api_service.auth import authenticate, require_scope
from api_service.idempotency import run_idempotent
from shared.db import MAX_ID, db
from shared.errors import NotFound, ValidationFailed
from shared.lookups import get_or_404
from shared.parsing import refuse_nul
from shared.services import Actor

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
SCOPE_BY_METHOD = {"GET": "read", "HEAD": "read", "POST": "write", "PATCH": "write", "PUT": "write", "DELETE": "write"}


# The deepest request shape (an invoice's client or items) nests three levels.
# Python's json parser and encoder recurse once per level, so a body nested
# near the interpreter's limit must be refused before anything walks it again.
MAX_JSON_DEPTH = 16


def _too_deeply_nested(value: Any) -> bool:
    """Whether arrays and objects in a parsed body nest past MAX_JSON_DEPTH (walked without recursion)."""
    level = [value]
    for _ in range(MAX_JSON_DEPTH):
        level = [
            child
            for node in level
            if isinstance(node, (dict, list))
            for child in (node.values() if isinstance(node, dict) else node)
        ]
        if not level:
            return False
    return any(isinstance(node, (dict, list)) for node in level)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def read_json() -> Any:
    """The request body as JSON, numbers as Decimal (never float); {} when empty."""
    raw = request.get_data(cache=True)  # 413 past MAX_CONTENT_LENGTH
    if not raw.strip():
        return {}
    mimetype = request.mimetype or ""
    if mimetype and mimetype != "application/json" and not mimetype.endswith("+json"):
        raise UnsupportedMediaType("send the body as application/json")
    too_deep = BadRequest(f"the body is nested more than {MAX_JSON_DEPTH} levels deep")
    try:
        body = json.loads(raw.decode("utf-8"), parse_float=Decimal, parse_constant=_refuse_constant)
    except RecursionError:
        raise too_deep from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}") from None
    if _too_deeply_nested(body):
        raise too_deep
    return body


def validate(model: type[BaseModel], body: Any) -> dict[str, Any]:
    """Check the body's shape; returns only the fields the client sent."""
    if not isinstance(body, dict):
        raise ValidationFailed.one("body", "must be a JSON object")
    try:
        parsed = model.model_validate(body)
    except ValidationError as exc:
        errors: dict[str, list[str]] = {}
        for error in exc.errors():
            location = ".".join(
                str(part) for part in error["loc"] if not str(part).startswith(("function-", "str", "decimal"))
            )
            message = error["msg"]
            if error["type"] == "extra_forbidden":
                message = "is not a known field"
            elif error["type"] == "missing":
                message = "is required"
            errors.setdefault(location or "body", []).append(message)
        raise ValidationFailed(errors) from None
    return parsed.model_dump(exclude_unset=True)


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"before": last_id}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        before = json.loads(base64.urlsafe_b64decode(padded.encode()))["before"]
        if isinstance(before, int) and not isinstance(before, bool) and before > 0:
            return before
    except (ValueError, KeyError, TypeError, binascii.Error):
        pass
    raise ValidationFailed.one("cursor", "is not a cursor returned by this API")


def query_int(name: str, *, low: int, high: int, default: int | None = None) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise ValidationFailed.one(name, f"must be a whole number from {low} to {high}")
    return int(raw)


def query_bool(name: str) -> bool | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise ValidationFailed.one(name, "must be true or false")


def query_choice(name: str, choices: tuple[str, ...]) -> str | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if raw not in choices:
        raise ValidationFailed.one(name, f"must be one of {', '.join(choices)}")
    return raw


class BaseResource(Resource):
    """Every resource authenticates, checks scope, and runs POSTs idempotently."""

    #: Per-method scope overrides, e.g. {"POST": "admin"}.
    scopes: dict[str, str] = {}

    def dispatch_request(self, *args, **kwargs):
        key = authenticate(request.headers.get("Authorization"))
        method = request.method.upper()
        require_scope(key, self.scopes.get(method, SCOPE_BY_METHOD.get(method, "admin")))
        g.api_key = key
        g.actor = Actor.api_key(key)
        for name, value in kwargs.items():
            # Ids past the id columns' range name no object (and would overflow the database driver).
            if isinstance(value, int) and not 1 <= value <= MAX_ID:
                raise NotFound(f"{name.removesuffix('_id')} {value} does not exist")
        # NUL never reaches a query (PostgreSQL refuses it): refused in every parameter and JSON string.
        refuse_nul({name: "".join(request.args.getlist(name)) for name in request.args})
        if method == "POST":
            body = read_json()
            refuse_nul(body)
            g.body = body
            return run_idempotent(key, body, lambda: super(BaseResource, self).dispatch_request(*args, **kwargs))
        if method in ("PATCH", "PUT"):
            g.body = read_json()
            refuse_nul(g.body)
        return super().dispatch_request(*args, **kwargs)

    @property
    def actor(self) -> Actor:
        return g.actor

    @staticmethod
    def body(model: type[BaseModel]) -> dict[str, Any]:
        return validate(model, g.get("body", {}))

    @staticmethod
    def get_object_or_404(model: type, object_id: Any, label: str | None = None):
        return get_or_404(db.session, model, object_id, label=label)

    @staticmethod
    def paginate(query: Select, id_column, serialize: Callable[[Any], dict]) -> dict:
        limit = query_int("limit", low=1, high=MAX_LIMIT, default=DEFAULT_LIMIT)
        cursor = request.args.get("cursor")
        if cursor:
            query = query.where(id_column < decode_cursor(cursor))
        rows = list(db.session.execute(query.order_by(id_column.desc()).limit(limit + 1)).scalars())
        more = len(rows) > limit
        rows = rows[:limit]
        return {
            "data": [serialize(row) for row in rows],
            "next_cursor": encode_cursor(rows[-1].id) if more and rows else None,
        }
