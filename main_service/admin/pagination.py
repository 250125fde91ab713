"""Page-numbered lists for the admin UI."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from flask import request, url_for
from sqlalchemy import Select, func, select

from shared.db import db

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
    page = int(raw) if raw.isdigit() and int(raw) > 0 else 1
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(page, pages)
    items = list(db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).scalars())
    return Page(items=items, page=page, pages=pages, total=total)
