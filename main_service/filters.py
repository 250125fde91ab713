"""Jinja filters for money, dates and labels, shared by every admin and public page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import Flask, g, has_app_context
from markupsafe import Markup, escape

from shared.db import db
from shared.documents.formatting import (
    format_iban,
    format_money,
    format_number,
    format_phone,
    format_quantity,
    strip_bidi_controls,
)
from shared.models import Settings
from shared.regions import zone


def money(amount: Decimal | None, currency: str) -> str:
    return "" if amount is None else format_money(amount, currency)


def figure(amount: Decimal | None, currency: str) -> str:
    """``1,234.50``: an amount in a wide table whose currency the heading states once."""
    return "" if amount is None else format_number(amount, currency)


def number(value: Decimal | None) -> str:
    """``10``, ``7.5``, ``1,000``: a quantity or percentage without ``Decimal.normalize``'s ``1E+1``."""
    return "" if value is None else format_quantity(value)


def company_zone() -> dt.tzinfo:
    """The company's time zone (settings), read once per request; UTC before it is set."""
    if not has_app_context():
        return dt.UTC
    if "company_zone" not in g:
        settings = db.session.get(Settings, 1)
        g.company_zone = zone(settings.time_zone if settings is not None else None)
    return g.company_zone


def local(value: dt.datetime) -> dt.datetime:
    """A stored (UTC) time in the company's zone."""
    return value.astimezone(company_zone())


def date(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = local(value)
    return value.strftime("%-d %b %Y")


def when(value: dt.datetime | None) -> str:
    """``3 Mar 2026, 09:30 WAT``: a moment in the company's time zone, its abbreviation after it."""
    if value is None:
        return ""
    shown = local(value)
    return shown.strftime("%-d %b %Y, %H:%M ") + (shown.tzname() or "UTC")


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
        iban=format_iban,
    )
