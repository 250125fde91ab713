"""The dashboard: what is owed, what is late, what is waiting to go out."""

from __future__ import annotations

import datetime as dt

from flask import render_template
from flask_login import login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from main_service.admin import bp
from shared.db import db
from shared.models import Activity, Invoice, QueuedMessage
from shared.models.enums import INVOICE_STATES, LIVE_INVOICE_STATES


@bp.get("/")
@login_required
def dashboard():
    today = dt.date.today()
    counts = dict(db.session.execute(select(Invoice.status, func.count()).group_by(Invoice.status)).all())
    live = Invoice.status.in_(LIVE_INVOICE_STATES)
    outstanding = db.session.execute(
        select(
            Invoice.currency,
            func.sum(Invoice.total),
            func.sum(Invoice.amount_paid),
            func.count(),
        )
        .where(live)
        .group_by(Invoice.currency)
        .order_by(Invoice.currency)
    ).all()
    overdue = dict(
        (currency, (total - paid, n))
        for currency, total, paid, n in db.session.execute(
            select(Invoice.currency, func.sum(Invoice.total), func.sum(Invoice.amount_paid), func.count())
            .where(live, Invoice.due_date < today)
            .group_by(Invoice.currency)
        ).all()
    )
    queue = dict(db.session.execute(select(QueuedMessage.state, func.count()).group_by(QueuedMessage.state)).all())
    overdue_list = db.session.scalars(
        select(Invoice)
        .options(selectinload(Invoice.client))
        .where(live, Invoice.due_date < today)
        .order_by(Invoice.due_date)
        .limit(8)
    ).all()
    recent = db.session.scalars(select(Activity).order_by(Activity.id.desc()).limit(12)).all()
    return render_template(
        "admin/dashboard.html",
        counts=[(state, counts.get(state, 0)) for state in INVOICE_STATES],
        outstanding=[(c, total - paid, n, overdue.get(c)) for c, total, paid, n in outstanding],
        queue=queue,
        overdue_list=overdue_list,
        recent=recent,
        today=today,
    )
