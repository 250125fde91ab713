"""The dashboard's figures and charts, the SVG chart module, and the activity timelines (SPEC §5.7)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from main_service.charts import Bar, Series, bar_chart, column_chart, compact, nice_ticks
from shared.inputs import PaymentInput
from shared.models import Expense, Payment
from shared.services import Actor, Notify, queue_statement, record_payment

# SQLite only: the page around the figures; the figures run on both backends in test_report_figures.
pytestmark = pytest.mark.backends("sqlite")

D = Decimal


def svg_charts(html: str) -> dict[str, str]:
    """Each inline chart's markup by its id."""
    return {m.group(2): m.group(1) for m in re.finditer(r'(<svg[^>]* id="([^"]+)".*?</svg>)', html, re.S)}


def test_dashboard_shows_the_default_currency_and_switches(admin, books):
    html = admin.get("/admin/").get_data(as_text=True).replace("\xa0", " ")
    # Every NGN balance in the books is long overdue by now: outstanding and overdue are both 57,800.00.
    assert "Outstanding · NGN" in html and html.count("NGN 57,800.00") == 2
    assert "4 open invoices" in html and "3 overdue invoices" not in html
    assert 'href="/admin/?currency=USD"' in html
    usd = admin.get("/admin/?currency=USD").get_data(as_text=True)
    assert "Outstanding · USD" in usd and "$470.00" in usd and "NGN 57,800.00" not in usd.replace("\xa0", " ")


def test_dashboard_has_three_labelled_svg_charts(admin, books):
    html = admin.get("/admin/").get_data(as_text=True)
    charts = svg_charts(html)
    assert set(charts) == {"income-chart", "aging-chart", "status-chart"}
    for chart_id, svg in charts.items():
        assert 'role="img"' in svg and f'aria-labelledby="{chart_id}-title {chart_id}-desc"' in svg
        assert "<title" in svg and "<desc" in svg and " style=" not in svg
    assert "Approved expenses" in charts["income-chart"] and "Net" in charts["income-chart"]
    for label in ("Current", "1–30 days", "31–60 days", "61–90 days", "Over 90 days"):
        assert f">{label}</text>" in charts["aging-chart"]
    assert "NGN 58K · 4 invoices" in charts["aging-chart"]
    assert "3 invoices · NGN 24K" in charts["status-chart"]
    assert "<script" not in html.split("</head>")[1]  # charts are markup, not script


def test_dashboard_figures_for_this_month(admin, session, books):
    actor = Actor.system("tests")
    today = dt.date.today()
    payment, _ = record_payment(
        session, actor=actor, invoice_id=books.invoices["N4"], data=PaymentInput(amount="150.00", paid_on=today)
    )
    html = admin.get("/admin/").get_data(as_text=True).replace("\xa0", " ")
    assert f"Collected in {today:%B} · NGN" in html
    assert "NGN 150.00" in html and "1 payment<" in html
    # The income chart's newest month holds the payment as a real bar.
    bars = re.findall(r'<rect[^>]*class="bar" data-value="([^"]+)"', svg_charts(html)["income-chart"])
    assert len(bars) == 24 and D(bars[-2]) == D("150.00")
    assert session.get(Payment, payment.id).amount == D("150.00")


def test_compact_figures():
    assert [compact(D(v)) for v in ("0", "5", "12.5", "950", "1234", "99999", "999950", "1250000", "-4500")] == [
        "0",
        "5",
        "13",
        "950",
        "1.2K",
        "100K",
        "1M",
        "1.3M",
        "−4.5K",
    ]
    assert nice_ticks(0, 545000) == [0, 200000, 400000, 600000]
    assert nice_ticks(-432125, 335057)[0] < -432125 and nice_ticks(-432125, 335057)[-1] > 335057


def heights(svg: str) -> list[float]:
    return [float(h) for h in re.findall(r'<rect[^>]*height="([\d.]+)"[^>]*class="bar"', svg)]


def test_columns_and_bars_are_proportional_with_labels_and_a_legend():
    svg = str(
        column_chart(
            chart_id="t",
            title="Test <chart>",
            desc="d",
            categories=[("Jan", "2025"), ("Feb", ""), ("Mar", "")],
            bars=[Series("In", [D(300), D(150), D(0)], "#00f"), Series("Out", [D(100), D(50), D(75)], "#f00", "hatch")],
            line=Series("Net", [D(200), D(100), D(-75)], "#000"),
        )
    )
    inn, out = heights(svg)[0::2], heights(svg)[1::2]
    assert abs(inn[0] / inn[1] - 2) < 0.02 and inn[2] == 0
    assert abs(out[0] / out[2] - 100 / 75) < 0.02
    assert "Test &lt;chart&gt;" in svg and 'fill="url(#t-p1)"' in svg and "<pattern" in svg
    assert ">300</text>" in svg and ">75</text>" in svg  # value labels
    assert "<polyline" in svg and svg.count('class="point"') == 3
    assert ">In</text>" in svg and ">Out</text>" in svg and ">Net</text>" in svg  # the legend

    bars = str(
        bar_chart(
            chart_id="b",
            title="t",
            desc="d",
            rows=[Bar("<b>Big</b>", D(40), "40", "#00f"), Bar("Small", D(10), "10", "#f00", "hatch")],
        )
    )
    widths = [float(w) for w in re.findall(r'<rect[^>]*\swidth="([\d.]+)"[^>]*class="bar"', bars)]
    assert abs(widths[0] / widths[1] - 4) < 0.02
    assert "&lt;b&gt;Big&lt;/b&gt;" in bars and "<b>" not in bars


def test_payment_page_has_its_timeline(admin, session, books):
    bounced = session.scalars(select(Payment).where(Payment.voided_at.is_not(None))).one()
    html = admin.get(f"/admin/payments/{bounced.id}").get_data(as_text=True)
    timeline = html.split("<h2>Activity</h2>")[1]
    assert ">payment recorded<" in timeline and ">payment voided<" in timeline
    assert bounced.receipt_number in timeline and "Cheque bounced" in timeline
    other = session.scalars(select(Payment).where(Payment.method == "cash")).one()
    assert (
        bounced.receipt_number
        not in admin.get(f"/admin/payments/{other.id}").get_data(as_text=True).split("<h2>Activity</h2>")[1]
    )


def test_client_invoice_and_expense_pages_show_their_timelines(admin, session, books):
    queue_statement(session, actor=Actor.system("tests"), client_id=books.ada, notify=Notify(email=True))
    client = admin.get(f"/admin/clients/{books.ada}").get_data(as_text=True).split("<h2>Activity</h2>")[1]
    assert "Client Ada Obi created" in client and "Statement of account queued" in client
    invoice = admin.get(f"/admin/invoices/{books.invoices['N1']}").get_data(as_text=True).split("<h2>Activity</h2>")[1]
    # Receipts are numbered in the year they are recorded (today), not the payment date's year.
    assert "Issued as INV-2025-" in invoice and f"receipt RCT-{dt.date.today().year}-" in invoice
    expense = session.scalars(select(Expense).where(Expense.title == "Lunch")).one()
    page = admin.get(f"/admin/expenses/{expense.id}").get_data(as_text=True).split("<h2>Activity</h2>")[1]
    assert "declined" in page.lower()
