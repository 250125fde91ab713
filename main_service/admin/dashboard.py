"""The dashboard: what is owed and late, what came in and went out, in one currency at a time."""

from __future__ import annotations

import datetime as dt

from flask import render_template, request, url_for
from flask_login import login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from main_service.admin import bp
from main_service.admin.reports import Filters, aging_chart, choose_currency, csv_url, income_chart, status_chart
from shared import reports
from shared.db import db
from shared.models import Invoice, QueuedMessage
from shared.models.enums import WAITING_MESSAGE_STATES, MessageState
from shared.queries import next_recurring_runs, open_quotes, recent_activity

ATTENTION_STATES = (*WAITING_MESSAGE_STATES, MessageState.FAILED)  # the delivery queue line of the dashboard


@bp.get("/")
@login_required
def dashboard():
    today = dt.date.today()
    session = db.session
    currency, currencies = choose_currency(request.args.get("currency"))
    period = reports.Period.last_months(today)
    filters = Filters(currency, currencies, period, today)
    income = reports.income_statement(session, currency, period)
    aging = reports.aging(session, currency, today=today)
    statuses = reports.invoices_by_status(session, currency)
    # Only the states that need attention, read from the index on state: sent rows pile up for ever.
    queue = dict(
        session.execute(
            select(QueuedMessage.state, func.count())
            .where(QueuedMessage.state.in_(ATTENTION_STATES))
            .group_by(QueuedMessage.state)
        ).all()
    )
    # Read in the order of the partial index ix_invoices_live_currency_due_date: no sort of all overdue invoices.
    overdue_list = session.scalars(
        select(Invoice)
        .options(selectinload(Invoice.client))
        .where(Invoice.currency == currency, Invoice.overdue_clause(today))
        .order_by(Invoice.due_date, Invoice.id)
        .limit(8)
    ).all()
    recent = recent_activity(session, limit=12)
    next_runs = next_recurring_runs(session, limit=6)
    return render_template(
        "admin/dashboard.html",
        currency=currency,
        currency_links=[(c, url_for("admin.dashboard", currency=c)) for c in currencies],
        headline=reports.headline(session, currency, today=today),
        month_name=today.strftime("%B"),
        income=income,
        income_chart=income_chart(income),
        income_csv=csv_url("income-statement", filters),
        aging_chart=aging_chart(aging),
        aging_csv=csv_url("aging", filters),
        status_chart=status_chart(statuses, currency),
        status_csv=csv_url("invoice-status", filters),
        queue_waiting=sum(queue.get(state, 0) for state in WAITING_MESSAGE_STATES),
        queue_failed=queue.get(MessageState.FAILED, 0),
        failed_state=MessageState.FAILED.value,
        overdue_list=overdue_list,
        recent=recent,
        next_runs=next_runs,
        open_quotes=open_quotes(session, limit=8),
        today=today,
    )
