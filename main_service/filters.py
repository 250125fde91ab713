"""Jinja filters for money, dates and labels, shared by every admin and public page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import Flask
from markupsafe import Markup, escape

from shared.documents.formatting import (
    format_money,
    format_number,
    format_phone,
    format_quantity,
    strip_bidi_controls,
)


def money(amount: Decimal | None, currency: str) -> str:
    return "" if amount is None else format_money(amount, currency)


def figure(amount: Decimal | None, currency: str) -> str:
    """``1,234.50``: an amount in a wide table whose currency the heading states once."""
    return "" if amount is None else format_number(amount, currency)


def number(value: Decimal | None) -> str:
    """``10``, ``7.5``, ``1,000``: a quantity or percentage without ``Decimal.normalize``'s ``1E+1``."""
    return "" if value is None else format_quantity(value)


def date(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return ""
    return value.strftime("%-d %b %Y")


def when(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(dt.UTC).strftime("%-d %b %Y, %H:%M UTC")


def nice(value: str | None) -> str:
    return (value or "").replace("_", " ")


def status_badge(status: str) -> Markup:
    return Markup('<span class="badge badge-{0}">{1}</span>').format(escape(status), escape(nice(status)))


def register(app: Flask) -> None:
    # Every printed value loses its directional controls (a name cannot turn an amount round);
    # user text is also set in <bdi> where it sits beside figures (timeline, public page).
    app.jinja_env.finalize = strip_bidi_controls
    app.jinja_env.filters.update(
        money=money,
        figure=figure,
        number=number,
        date=date,
        when=when,
        nice=nice,
        badge=status_badge,
        phone=format_phone,
    )
