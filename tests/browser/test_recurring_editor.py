"""Creating a recurring invoice in the admin in a real browser (SPEC §12): the editor shows the next five run dates.

On SQLite the test saves screenshots of the editor and of the saved recurring
invoice to test-artifacts/screenshots/, or with UPDATE_SCREENSHOTS=1 to docs/screenshots/.
"""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import Page, expect

from shared.db import db
from shared.inputs import ClientInput
from shared.services import Actor, create_client, create_user
from support import ROOT

PASSWORD = "a-long-test-password"
WAIT = 10_000
SHOTS = ROOT / ("docs" if os.environ.get("UPDATE_SCREENSHOTS") == "1" else "test-artifacts") / "screenshots"

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


@pytest.fixture
def base_url_of(live_app) -> str:
    with live_app.app_context():
        create_user(
            db.session, actor=Actor.system(), email="ada@example.com", name="Ada", role="admin", password=PASSWORD
        )
        create_client(
            db.session,
            actor=Actor.system(),
            data=ClientInput(name="Greenfield School", email="bursar@example.com", default_currency="NGN"),
        )
        db.session.remove()
    return live_app.config["LIVE_URL"]


def test_a_recurring_invoice_is_created_in_the_admin(page: Page, base_url_of, backend):
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(base_url_of + "/admin/login")
    page.get_by_label("E-mail").fill("ada@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible(timeout=WAIT)

    page.get_by_role("link", name="Recurring").first.click()
    page.get_by_role("link", name="New recurring invoice").click()
    page.get_by_label("Client", exact=True).select_option(label="Greenfield School")
    page.get_by_label("Every", exact=True).fill("1")
    page.get_by_label("Interval", exact=True).select_option("month")
    page.get_by_label("First run").fill("2099-01-31")
    page.get_by_label("Description, line 1").fill("School fees, per month")
    page.get_by_label("Unit price, line 1").fill("150,000.00")
    expect(page.locator("[data-total='total']")).to_have_text("NGN 150,000.00", timeout=WAIT)
    page.get_by_role("button", name="Show the run dates for these values").click()
    dates = page.locator("[data-upcoming-runs] time")
    expect(dates).to_have_count(5, timeout=WAIT)
    assert [dates.nth(i).get_attribute("datetime") for i in range(5)] == [
        "2099-01-31",
        "2099-02-28",
        "2099-03-31",
        "2099-04-30",
        "2099-05-31",
    ]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "recurring-editor-1366.png"), full_page=True)

    page.get_by_role("button", name="Save recurring invoice").click()
    expect(page.get_by_role("heading", name="Recurring invoice for Greenfield School")).to_be_visible(timeout=WAIT)
    expect(page.get_by_text("Recurring invoice saved. Its first run is on 2099-01-31.")).to_be_visible()
    expect(page.locator(".run-dates time").first).to_have_attribute("datetime", "2099-01-31")
    page.screenshot(path=str(SHOTS / "recurring-detail-1366.png"), full_page=True)

    page.get_by_role("link", name="Recurring").first.click()
    expect(page.get_by_role("link", name="Greenfield School")).to_be_visible(timeout=WAIT)
    expect(page.get_by_text("Issued and e-mailed")).to_be_visible()
    page.screenshot(path=str(SHOTS / "recurring-list-1366.png"), full_page=True)
    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name="Next recurring runs")).to_be_visible(timeout=WAIT)
