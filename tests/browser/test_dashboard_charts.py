"""The dashboard's charts in a real browser: real bars and lines, aligned labels, no overlaps.

On SQLite the test also saves a screenshot: to test-artifacts/dashboard.png, or,
with UPDATE_SCREENSHOTS=1, to the README's picture docs/dashboard.png (so a
plain test run never changes a tracked file).
"""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import Page, expect

from main_service.demo import bulk_invoices, seed_demo
from shared.db import db
from shared.models.enums import InvoiceStatus
from shared.services import Actor, create_user
from support import ROOT

# SQLite only: the browser sees pages; the figures are checked on both backends in tests/reports.
pytestmark = pytest.mark.backends("sqlite")

PASSWORD = "a-long-test-password"
WAIT = 10_000
SCREENSHOT = ROOT / ("docs" if os.environ.get("UPDATE_SCREENSHOTS") == "1" else "test-artifacts") / "dashboard.png"


@pytest.fixture
def site(live_app) -> str:
    with live_app.app_context():
        seed_demo(db.session, echo=lambda _: None)
        bulk_invoices(db.session, count=1500, seed=11)
        create_user(
            db.session, actor=Actor.system(), email="ada@example.com", name="Ada Admin", role="admin", password=PASSWORD
        )
        db.session.remove()
    return live_app.config["LIVE_URL"]


def boxes(page: Page, selector: str) -> list[dict]:
    return page.eval_on_selector_all(
        selector,
        """els => els.map(e => { const b = e.getBoundingClientRect();
            return {x: b.x, y: b.y, w: b.width, h: b.height, value: e.dataset.value ? Number(e.dataset.value) : null,
                    text: e.textContent}; })""",
    )


def overlapping(items: list[dict]) -> list[tuple[str, str]]:
    found = []
    for i, a in enumerate(items):
        for b in items[i + 1 :]:
            if (
                a["x"] < b["x"] + b["w"]
                and b["x"] < a["x"] + a["w"]
                and a["y"] < b["y"] + b["h"]
                and b["y"] < a["y"] + a["h"]
            ):
                found.append((a["text"], b["text"]))
    return found


def assert_proportional(bars: list[dict], size: str) -> None:
    largest = max(bars, key=lambda b: b["value"])
    scale = largest[size] / largest["value"]
    for bar in bars:
        assert abs(bar[size] - bar["value"] * scale) <= 1.0, bar


def test_dashboard_charts_are_real_and_readable(page: Page, site: str, backend: str) -> None:
    page.set_viewport_size({"width": 1360, "height": 900})
    page.goto(f"{site}/admin/login")
    page.get_by_label("E-mail").fill("ada@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible(timeout=WAIT)

    income = page.get_by_role("img", name="Money collected and approved expenses per month, NGN")
    expect(income).to_be_visible()
    expect(page.get_by_role("img", name="Receivables aging, NGN")).to_be_visible()
    expect(page.get_by_role("img", name="Invoices by status, NGN")).to_be_visible()
    expect(page.get_by_role("navigation", name="Currency").get_by_role("link", name="USD")).to_be_visible()

    # Columns: 12 months x (collected, expenses), heights in proportion to their values, on one baseline.
    columns = boxes(page, "#income-chart rect.bar")
    assert len(columns) == 24 and sum(1 for c in columns if c["h"] > 20) >= 12
    assert_proportional([c for c in columns if c["value"] >= 0], "h")
    baseline = {round(c["y"] + c["h"]) for c in columns if c["value"] > 0}
    assert max(baseline) - min(baseline) <= 1
    # The net line passes through a point per month, each centred on its month's pair of columns.
    points = boxes(page, "#income-chart circle.point")
    months = boxes(page, "#income-chart .x-axis text")
    month_names = [m for m in months if m["y"] == months[0]["y"]]
    assert len(points) == len(month_names) == 12
    for index, point in enumerate(points):
        pair = columns[2 * index : 2 * index + 2]
        centre = (pair[0]["x"] + pair[1]["x"] + pair[1]["w"]) / 2
        assert abs(point["x"] + point["w"] / 2 - centre) <= 1.5
        assert abs(month_names[index]["x"] + month_names[index]["w"] / 2 - centre) <= 1.5
    assert page.locator("#income-chart polyline.line").count() == 1
    # Labels never sit on top of one another.
    labels = boxes(page, "#income-chart .value-labels text") + month_names + boxes(page, "#income-chart .legend text")
    assert len(labels) > 30
    assert overlapping(labels) == []

    # Five aging buckets; a bar per invoice state (credited too, SPEC §11).
    for chart, count in (("#aging-chart", 5), ("#status-chart", len(InvoiceStatus))):
        bars = boxes(page, f"{chart} rect.bar")
        assert len(bars) == count and any(b["w"] > 50 for b in bars)
        assert_proportional(bars, "w")
        texts = boxes(page, f"{chart} text")
        assert overlapping(texts) == []
        # Each value label starts just after the end of its bar.
        values = boxes(page, f"{chart} text.value")
        for bar, value in zip(bars, values, strict=True):
            assert 0 <= value["x"] - (bar["x"] + bar["w"]) <= 8

    if backend == "sqlite":
        bottom = page.locator("section.chart-card").last.bounding_box()
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(
            path=str(SCREENSHOT),
            full_page=True,
            clip={"x": 0, "y": 0, "width": 1360, "height": bottom["y"] + bottom["height"] + 24},
        )
