"""Reports: income statement, aging, tax, payments and expenses, on screen and as CSV.

Figures come from :mod:`shared.reports` (computed in the database); this
module only reads the filters, draws the charts and writes the CSV files.
Every report is in one currency at a time: amounts in different currencies
are never added together.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from flask import Response, abort, render_template, request, url_for
from flask_login import login_required
from markupsafe import Markup

from main_service.admin import bp
from main_service.charts import Bar, Series, bar_chart, column_chart, compact
from shared import money, reports
from shared.db import db
from shared.errors import ValidationFailed
from shared.models.enums import InvoiceStatus
from shared.parsing import to_date
from shared.services import get_settings

MAX_MONTHS = 120
ON_SCREEN_CLIENTS = 25

COLLECTED = "#2456c7"
EXPENSES = "#c2410c"
NET = "#15233d"
AGING_COLOURS = ("#2456c7", "#d97706", "#c2410c", "#b42318", "#7f1d1d")
STATUS_COLOURS = {
    InvoiceStatus.DRAFT: ("#9aa5b1", "hatch"),
    InvoiceStatus.OPEN: ("#2456c7", "solid"),
    InvoiceStatus.PARTIALLY_PAID: ("#d97706", "hatch"),
    InvoiceStatus.PAID: ("#157347", "solid"),
    InvoiceStatus.VOID: ("#52606d", "hatch"),
    InvoiceStatus.CREDITED: ("#7c3aed", "solid"),
}


# ---------------------------------------------------------------- filters


@dataclass
class Filters:
    """The currency and date range a page or CSV file reports on, read from the query string."""

    currency: str
    currencies: list[str]
    period: reports.Period
    today: dt.date
    errors: list[str] = field(default_factory=list)

    def args(self, **extra) -> dict[str, str]:
        """Query-string arguments that reproduce these filters (for links and CSV downloads)."""
        return {
            "currency": self.currency,
            "from": self.period.start.isoformat(),
            "to": self.period.end.isoformat(),
            **extra,
        }


def choose_currency(requested: str | None) -> tuple[str, list[str]]:
    """The currency asked for if anything is in it, else the company default; and the choices."""
    default = get_settings(db.session).default_currency
    currencies = reports.currencies_in_use(db.session)
    if default not in currencies:
        currencies = sorted([*currencies, default])
    wanted = (requested or "").strip().upper()
    return (wanted if wanted in currencies else default), currencies


def _date(raw: str | None, name: str, errors: list[str]) -> dt.date | None:
    if not raw:
        return None
    try:
        return to_date(raw, name)
    except ValidationFailed as exc:
        errors.append(f"{name} {exc.errors[name][0]}, such as 2026-01-31; showing the last 12 months instead.")
        return None


def read_filters() -> Filters:
    today = dt.date.today()
    currency, currencies = choose_currency(request.args.get("currency"))
    errors: list[str] = []
    default = reports.Period.last_months(today)
    start = _date(request.args.get("from"), "From", errors)
    end = _date(request.args.get("to"), "To", errors)
    period = default
    if not errors and (start or end):
        period = reports.Period(start or default.start, end or today)
        if period.start > period.end:
            errors.append("From must be on or before To; showing the last 12 months instead.")
            period = default
        elif len(period.month_keys()) > MAX_MONTHS:
            errors.append(f"Choose at most {MAX_MONTHS // 12} years at a time; showing the last 12 months instead.")
            period = default
    return Filters(currency, currencies, period, today, errors)


# ---------------------------------------------------------------- charts


def _month_categories(months: list[reports.MonthRow]) -> list[tuple[str, str]]:
    categories = []
    for index, row in enumerate(months):
        year, month = row.month.split("-")
        label = reports.month_label(row.month).split(" ")[0]
        categories.append((label, year if index == 0 or month == "01" else ""))
    return categories


def income_chart(income: reports.IncomeStatement, chart_id: str = "income-chart") -> Markup:
    currency = income.currency
    first, last = income.months[0].label, income.months[-1].label
    return column_chart(
        chart_id=chart_id,
        title=f"Money collected and approved expenses per month, {currency}",
        desc=(
            f"Columns: payments received (solid) and approved expenses (hatched) in {currency} for each month "
            f"from {first} to {last}; dashed line: net (collected minus expenses). Totals: collected "
            f"{money.format_amount(income.collected, currency)}, expenses "
            f"{money.format_amount(income.expenses, currency)}, net {money.format_amount(income.net, currency)}."
        ),
        categories=_month_categories(income.months),
        bars=[
            Series("Collected", [m.collected for m in income.months], COLLECTED),
            Series("Approved expenses", [m.expenses for m in income.months], EXPENSES, "hatch"),
        ],
        line=Series("Net", [m.net for m in income.months], NET),
    )


def _invoices(count: int) -> str:
    return f"{count} invoice{'' if count == 1 else 's'}"


def aging_chart(aging: reports.Aging, chart_id: str = "aging-chart") -> Markup:
    currency = aging.currency
    return bar_chart(
        chart_id=chart_id,
        title=f"Receivables aging, {currency}",
        desc=(
            f"Balances of open and partly paid invoices in {currency} by days past the due date, as of "
            f"{aging.as_of.isoformat()}: "
            + "; ".join(f"{b.label} {money.format_amount(b.amount, currency)}" for b in aging.buckets)
            + ". Overdue buckets are hatched."
        ),
        rows=[
            Bar(
                b.label,
                b.amount,
                f"{currency} {compact(b.amount)} · {_invoices(b.count)}",
                colour,
                "solid" if b.key == "current" else "hatch",
            )
            for b, colour in zip(aging.buckets, AGING_COLOURS, strict=True)
        ],
    )


def status_chart(rows: list[reports.StatusRow], currency: str, chart_id: str = "status-chart") -> Markup:
    return bar_chart(
        chart_id=chart_id,
        title=f"Invoices by status, {currency}",
        desc=f"Number of {currency} invoices in each state, and their totals: "
        + "; ".join(f"{r.status.replace('_', ' ')} {r.count}" for r in rows)
        + ".",
        rows=[
            Bar(
                r.status.replace("_", " ").capitalize(),
                Decimal(r.count),
                f"{_invoices(r.count)} · {currency} {compact(r.total)}",
                *STATUS_COLOURS[r.status],
            )
            for r in rows
        ],
    )


# ---------------------------------------------------------------- CSV


def _text_cell(value: str) -> str:
    """A name or category as a CSV cell that a spreadsheet will not run as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _rate(rate: Decimal) -> Decimal:
    return Decimal(format(rate.normalize(), "f") if rate else "0")


def _amount(x: Decimal, currency: str) -> Decimal:
    """An amount as a CSV number with exactly the currency's decimals (``29025.00``)."""
    return Decimal(money.format_amount(x, currency))


def write_csv(header: list[str], rows: Iterable[list]) -> str:
    """The one CSV writer of the reports: numbers bare, every text cell quoted and neutralised.

    A text cell is always quoted, so a ``;`` or ``,`` in a client name or
    category never splits it into two cells, whichever separator the
    spreadsheet assumes; and no text cell can start a formula. Numbers
    (``int`` and ``Decimal``) are written bare so spreadsheets read them as numbers.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_text_cell(cell) if isinstance(cell, str) else cell for cell in row])
    return buffer.getvalue()


def csv_download(name: str, header: list[str], rows: Iterable[list], *, today: dt.date) -> Response:
    """``rows`` as a CSV attachment (``invoices-2026-11-29.csv``), written by :func:`write_csv`."""
    return Response(
        write_csv(header, rows),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{name}-{today.isoformat()}.csv"',
            "Cache-Control": "no-store",
        },
    )


_PAGE_ARGS = ("page", "before", "after", "oldest")


def export_url(endpoint: str) -> str:
    """The CSV export of the list on screen: the same filters, every page."""
    return url_for(endpoint, **{k: v for k, v in request.args.items() if k not in _PAGE_ARGS})


def csv_amount(x: Decimal, currency: str) -> Decimal:
    """An amount as a CSV number with exactly the currency's decimals (``29025.00``)."""
    return _amount(x, currency)


def csv_text(value: object) -> str:
    """A cell of an exported list: ``None`` as an empty cell, dates as ISO 8601."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


@dataclass(frozen=True)
class CsvReport:
    title: str
    build: Callable[[Filters], tuple[list[str], Iterable[list]]]
    dated: bool = True  # False: as of today, the date range does not apply


def _income_csv(f: Filters):
    income = reports.income_statement(db.session, f.currency, f.period)
    amount = lambda x: _amount(x, f.currency)  # noqa: E731
    return (
        ["month", "currency", "collected", "approved_expenses", "net"],
        ([m.month, f.currency, amount(m.collected), amount(m.expenses), amount(m.net)] for m in income.months),
    )


def _aging_by_client_csv(f: Filters):
    rows = reports.aging_by_client(db.session, f.currency, today=f.today)
    header = ["client_id", "client", "currency", *(key for key, _ in reports.AGING_BUCKETS), "total", "invoices"]
    return header, (
        [
            r.client_id,
            r.client_name,
            f.currency,
            *(_amount(b.amount, f.currency) for b in r.buckets),
            _amount(r.total, f.currency),
            r.count,
        ]
        for r in rows
    )


def _aging_csv(f: Filters):
    aging = reports.aging(db.session, f.currency, today=f.today)
    return (
        ["bucket", "as_of", "currency", "balance", "invoices"],
        ([b.key, f.today.isoformat(), f.currency, _amount(b.amount, f.currency), b.count] for b in aging.buckets),
    )


def _status_csv(f: Filters):
    rows = reports.invoices_by_status(db.session, f.currency)
    return (
        ["status", "currency", "invoices", "total"],
        ([r.status, f.currency, r.count, _amount(r.total, f.currency)] for r in rows),
    )


def _tax_csv(f: Filters):
    tax = reports.tax_by_rate(db.session, f.currency, f.period)
    amount = lambda x: _amount(x, f.currency)  # noqa: E731
    rows = [[_rate(r.rate), f.currency, r.invoices, amount(r.taxable), amount(r.tax)] for r in tax.rows]
    if tax.rounding:
        rows.append(["rounding", f.currency, "", "", amount(tax.rounding)])
    return ["tax_rate_percent", "currency", "invoices", "taxable_amount", "tax"], rows


def _methods_csv(f: Filters):
    rows = reports.payments_by_method(db.session, f.currency, f.period)
    return (
        ["method", "currency", "payments", "amount"],
        ([r.key, f.currency, r.count, _amount(r.amount, f.currency)] for r in rows),
    )


def _categories_csv(f: Filters):
    rows = reports.expenses_by_category(db.session, f.currency, f.period)
    return (
        ["category", "currency", "expenses", "amount"],
        ([r.key, f.currency, r.count, _amount(r.amount, f.currency)] for r in rows),
    )


CSV_REPORTS: dict[str, CsvReport] = {
    "income-statement": CsvReport("Income statement", _income_csv),
    "aging-by-client": CsvReport("Aging by client", _aging_by_client_csv, dated=False),
    "aging": CsvReport("Receivables aging", _aging_csv, dated=False),
    "invoice-status": CsvReport("Invoices by status", _status_csv, dated=False),
    "tax-by-rate": CsvReport("Tax by rate", _tax_csv),
    "payments-by-method": CsvReport("Payments by method", _methods_csv),
    "expenses-by-category": CsvReport("Expenses by category", _categories_csv),
}


def csv_url(name: str, filters: Filters) -> str:
    return url_for("admin.report_csv", name=name, **filters.args())


@bp.get("/reports/<name>.csv")
@login_required
def report_csv(name: str):
    report = CSV_REPORTS.get(name)
    if report is None:
        abort(404)
    filters = read_filters()
    header, rows = report.build(filters)
    if report.dated:
        span = f"{filters.period.start.isoformat()}-to-{filters.period.end.isoformat()}"
    else:
        span = f"as-of-{filters.today.isoformat()}"
    filename = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{name}-{filters.currency}-{span}.csv")
    return Response(
        write_csv(header, rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


# ---------------------------------------------------------------- the page


@bp.get("/reports")
@login_required
def reports_page():
    filters = read_filters()
    session, currency, period = db.session, filters.currency, filters.period
    income = reports.income_statement(session, currency, period)
    aging = reports.aging(session, currency, today=filters.today)
    tax = reports.tax_by_rate(session, currency, period)
    methods = reports.payments_by_method(session, currency, period)
    categories = reports.expenses_by_category(session, currency, period)
    return render_template(
        "admin/reports.html",
        filters=filters,
        currency=currency,
        currency_links=[(c, url_for("admin.reports_page", **filters.args(currency=c))) for c in filters.currencies],
        income=income,
        income_chart=income_chart(income),
        aging=aging,
        clients=reports.aging_by_client(session, currency, today=filters.today, limit=ON_SCREEN_CLIENTS),
        clients_owing=reports.count_clients_owing(session, currency),
        on_screen_clients=ON_SCREEN_CLIENTS,
        tax=tax,
        methods=methods,
        methods_total=reports.group_total(methods),
        categories=categories,
        categories_total=reports.group_total(categories),
        csv_url=lambda name: csv_url(name, filters),
        rate=_rate,
    )
