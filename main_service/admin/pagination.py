"""Lists for the admin UI: page-numbered, and keyset pages (by id) for lists that grow without bound."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from flask import request, url_for
from sqlalchemy import Select, case, func, literal, select

from shared.db import db, parse_id

PER_PAGE = 25


@dataclass
class Page:
    items: list[Any]
    page: int
    pages: int
    total: int

    def url(self, page: int) -> str:
        args = {**request.view_args, **request.args.to_dict(), "page": page}
        return url_for(request.endpoint, **args)


def paginate(query: Select, *, per_page: int = PER_PAGE) -> Page:
    raw = request.args.get("page", "1")
    page = parse_id(raw) or 1
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(page, pages)
    items = list(db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).scalars())
    return Page(items=items, page=page, pages=pages, total=total)


# -------------------------------------------------------------- keyset pages for long lists

COUNT_CAP = 10_000
_CURSOR_ARGS = ("page", "before", "after", "oldest")


@dataclass
class KeysetPage:
    """One page of a newest-first list, found by id rather than by OFFSET.

    ``total`` is exact up to ``count_cap``; past it ``capped`` is set and ``total``
    is the cap. ``first`` is the 1-based position of the first item, or None when
    finding it would mean counting past the cap.
    """

    items: list[Any]
    has_newer: bool
    has_older: bool
    total: int
    capped: bool
    first: int | None
    id_key: str = "id"

    def url(self, **cursor: Any) -> str:
        """This list with the current filters and ``cursor`` (none: the newest page)."""
        args = {
            key: value
            for key, value in request.args.to_dict().items()
            if key not in _CURSOR_ARGS and not key.startswith("_") and value != ""
        }
        return url_for(request.endpoint, **request.view_args, **args, **cursor)

    @property
    def newest_url(self) -> str | None:
        return self.url() if self.has_newer else None

    @property
    def newer_url(self) -> str | None:
        return self.url(after=getattr(self.items[0], self.id_key)) if self.has_newer and self.items else None

    @property
    def older_url(self) -> str | None:
        return self.url(before=getattr(self.items[-1], self.id_key)) if self.has_older and self.items else None

    @property
    def oldest_url(self) -> str | None:
        return self.url(oldest=1) if self.has_older else None

    def summary(self, one: str, many: str) -> str:
        """``3 invoices``, ``Showing 26–50 of 1,234 invoices``, ``Showing 25 of 10,000+ invoices``."""
        shown = len(self.items)
        if not self.has_newer and not self.has_older:
            return f"{shown:,} {one if shown == 1 else many}"
        total = f"{self.total:,}+" if self.capped else f"{self.total:,}"
        noun = one if self.total == 1 and not self.capped else many
        if self.first is None or not shown:
            return f"Showing {shown:,} of {total} {noun}"
        last = self.first + shown - 1
        span = f"{self.first:,}–{last:,}" if last > self.first else f"{self.first:,}"
        return f"Showing {span} of {total} {noun}"


def keyset_paginate(
    query: Select, id_column: Any, *, per_page: int | None = None, count_cap: int | None = None
) -> KeysetPage:
    """A newest-first page of ``query`` chosen by ``?before=<id>``, ``?after=<id>`` or ``?oldest=1``.

    Every page, the first and the last alike, is an index range scan on ``id_column``
    with a LIMIT, plus a count that stops at ``count_cap`` rows: its cost does not
    grow with the table. ``?page=`` is not read; without a cursor this is the newest page.
    """
    per_page = per_page or PER_PAGE
    cap = count_cap or COUNT_CAP
    query = query.order_by(None)
    before, after = _cursor_arg("before"), _cursor_arg("after")
    oldest = before is None and after is None and request.args.get("oldest") == "1"

    def fetch(ordered: Select) -> list[Any]:
        return list(db.session.execute(ordered.limit(per_page + 1)).scalars())

    if before is not None:
        rows = fetch(query.where(id_column < before).order_by(id_column.desc()))
        items, has_older = rows[:per_page], len(rows) > per_page
        has_newer = _any(query.where(id_column >= before), id_column.asc())
    elif after is not None:
        rows = fetch(query.where(id_column > after).order_by(id_column.asc()))
        items, has_newer = rows[:per_page][::-1], len(rows) > per_page
        has_older = _any(query.where(id_column <= after), id_column.desc())
    elif oldest:
        rows = fetch(query.order_by(id_column.asc()))
        items, has_newer, has_older = rows[:per_page][::-1], len(rows) > per_page, False
    else:
        rows = fetch(query.order_by(id_column.desc()))
        items, has_newer, has_older = rows[:per_page], False, len(rows) > per_page

    total, capped, first = len(items), False, 1 if items else None
    if has_newer or has_older:
        newer_than = getattr(items[0], id_column.key) if items and has_newer else None
        counted, newer = _capped_count(query, id_column, cap, newer_than=newer_than)
        total, capped = min(counted, cap), counted > cap
        if has_newer:
            first = newer + 1 if items and newer <= cap else None
    return KeysetPage(
        items=items,
        has_newer=has_newer,
        has_older=has_older,
        total=total,
        capped=capped,
        first=first,
        id_key=id_column.key,
    )


def _cursor_arg(name: str) -> int | None:
    """A row id from the query string; anything else (``-3``, ``x``, ``²``, 30 digits) is ignored."""
    raw = request.args.get(name, "")
    return parse_id(raw)


def _capped_count(query: Select, id_column: Any, cap: int, *, newer_than: int | None = None) -> tuple[int, int]:
    """How many rows ``query`` matches, and how many of them have an id above ``newer_than``.

    Only the newest ``cap + 1`` matching ids are read. The second figure is exact
    whenever it is ``cap`` or less: that many rows above ``newer_than`` are all
    among the newest ``cap + 1``.
    """
    window = query.with_only_columns(id_column).order_by(id_column.desc()).limit(cap + 1).subquery()
    (window_id,) = window.c
    newer = literal(0) if newer_than is None else func.coalesce(func.sum(case((window_id > newer_than, 1), else_=0)), 0)
    counted, newer_count = db.session.execute(select(func.count(), newer).select_from(window)).one()
    return counted or 0, newer_count or 0


def _any(query: Select, ordered: Any) -> bool:
    """Whether ``query`` matches a row; ordering by the id (``ordered``) lets its index find the nearest."""
    return db.session.scalar(query.with_only_columns(ordered.element).order_by(ordered).limit(1)) is not None
