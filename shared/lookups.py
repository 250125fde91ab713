"""Loading one row: by id (or NotFound), and the company settings row."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import bindparam, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shared.db import python_default
from shared.errors import NotFound
from shared.models import Settings
from shared.prepared import prepared

T = TypeVar("T")


def get_or_404(session: Session, model: type, object_id: Any, *, lock: bool = False, label: str | None = None):
    """Load a row by id or raise NotFound naming what was missing."""
    name = label or model.__name__.lower()
    try:
        object_id = int(object_id)
    except (TypeError, ValueError):
        raise NotFound(f"{name} {object_id!r} does not exist") from None
    options = {"with_for_update": {"of": model}, "populate_existing": True} if lock else {}
    obj = session.get(model, object_id, **options)
    if obj is None:
        raise NotFound(f"{name} {object_id} does not exist")
    return obj


_WITH_SETTINGS: dict[type, Any] = {}


def get_with_settings(session: Session, model: type[T], object_id: int) -> tuple[T | None, Settings]:
    """``session.get(model, object_id)`` and :func:`get_settings`, in one round trip when both exist.

    For a use case that needs both (creating an invoice reads its client and
    the company's terms).
    """
    statement = _WITH_SETTINGS.get(model)
    if statement is None:  # built once per model: creating an invoice asks it on every request
        key = inspect(model).primary_key[0]
        statement = select(model, Settings).outerjoin(Settings, Settings.id == 1).where(key == bindparam("object_id"))
        statement = prepared(statement)
        _WITH_SETTINGS[model] = statement
    row = session.execute(statement, {"object_id": object_id}).first()
    if row is None:
        return None, get_settings(session)
    return row[0], row[1] if row[1] is not None else get_settings(session)


def get_settings(session: Session) -> Settings:
    """The company settings row, created with defaults on first use."""
    settings = session.get(Settings, 1)
    if settings is not None:
        return settings
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = {c.name: python_default(c) for c in Settings.__table__.columns if c.default is not None}
    values["id"] = 1
    session.execute(insert(Settings).values(**values).on_conflict_do_nothing(index_elements=["id"]))
    settings = session.execute(select(Settings).where(Settings.id == 1)).scalar_one()
    return settings
