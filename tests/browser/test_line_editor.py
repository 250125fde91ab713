"""The invoice line editor in a real browser, at 1366 px and on a 390 px phone (issue 13 item 3).

Typing lines shows the totals the server works out (POST preview-totals,
shared.money's §5.1 function); headers stay apart, descriptions are not cut,
and saved figures come back formatted ("1,200.00", "8.625").

On SQLite the test also saves screenshots: to test-artifacts/, or, with
UPDATE_SCREENSHOTS=1, to docs/screenshots/ (so a plain run never changes a tracked file).
"""

from __future__ import annotations

import os
import re
from decimal import Decimal

import pytest
from playwright.sync_api import Locator, Page, expect

from shared.db import db
from shared.documents.formatting import format_money, format_number
from shared.inputs import ClientInput
from shared.money import LineInput, compute_totals
from shared.services import Actor, create_client, create_user
from support import ROOT

# Pages, documents and messages read the same rows on either backend: SQLite only (the README's rule).
pytestmark = pytest.mark.backends("sqlite")

PASSWORD = "a-long-test-password"
WAIT = 10_000
SCREENSHOTS = ROOT / ("docs/screenshots" if os.environ.get("UPDATE_SCREENSHOTS") == "1" else "test-artifacts")
LONG = "Quarterly maintenance of the school's network, with two site visits and a written report"
VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def site(live_app) -> str:
    with live_app.app_context():
        create_user(
            db.session, actor=Actor.system(), email="sam@example.com", name="Sam Staff", role="staff", password=PASSWORD
        )
        create_client(
            db.session,
            actor=Actor.system(),
            data=ClientInput.from_mapping({"name": "Brightpath Academy", "default_currency": "USD"}),
        )
        db.session.commit()
        db.session.remove()
    return live_app.config["LIVE_URL"]


def live_total(page: Page, label: str) -> Locator:
    box = page.locator("[data-live-totals]")
    return box.get_by_role("row").filter(has=page.get_by_role("rowheader", name=label, exact=True)).get_by_role("cell")


def fill_line(page: Page, n: int, description: str, quantity: str, unit_price: str, tax: str) -> None:
    page.get_by_label(f"Description, line {n}", exact=True).fill(description)
    page.get_by_label(f"Quantity, line {n}", exact=True).fill(quantity)
    page.get_by_label(f"Unit price, line {n}", exact=True).fill(unit_price)
    page.get_by_label(f"Tax %, line {n}", exact=True).fill(tax)


def overflows(page: Page, selector: str) -> list[str]:
    """The elements under ``selector`` whose content is wider (or, for text boxes, taller) than their box."""
    return page.eval_on_selector_all(
        selector,
        """els => els.filter(e => e.offsetParent !== null && (e.scrollWidth > e.clientWidth + 1
                || (e.tagName === 'TEXTAREA' && e.scrollHeight > e.clientHeight + 1)))
             .map(e => e.id || e.textContent.trim())""",
    )


def no_two_headers_touch(page: Page) -> None:
    boxes = page.eval_on_selector_all(
        "table.lines thead th",
        """els => els.map(e => { const r = document.createRange(); r.selectNodeContents(e);
               const b = r.getBoundingClientRect(); return {text: e.textContent.trim(), left: b.left, right: b.right}; })""",
    )
    shown = [b for b in boxes if b["text"] and b["right"] > b["left"]]
    for a, b in zip(shown, shown[1:], strict=False):
        assert a["right"] + 4 <= b["left"], f"{a['text']!r} runs into {b['text']!r}"


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=VIEWPORTS)
def test_typed_lines_show_the_server_totals_live(page: Page, site: str, viewport: str, backend: str) -> None:
    page.set_viewport_size(VIEWPORTS[viewport])
    page.goto(f"{site}/admin/login")
    page.get_by_label("E-mail").fill("sam@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible(timeout=WAIT)

    page.goto(f"{site}/admin/invoices/new")
    expect(page.get_by_role("heading", name="New invoice")).to_be_visible(timeout=WAIT)
    page.get_by_label("Client", exact=True).select_option(label="Brightpath Academy")
    if viewport == "desktop":
        no_two_headers_touch(page)

    # Each change is sent to the server; the figures shown are its answer.
    with page.expect_response(re.compile(r"/admin/invoices/preview-totals$")) as answer:
        fill_line(page, 1, "Consulting", "2", "1,200.00", "7.5")
    assert answer.value.ok
    expect(live_total(page, "Total")).to_have_text("$2,580.00", timeout=WAIT)
    expect(page.locator("#lines-0-amount")).to_have_text("2,400.00")

    fill_line(page, 2, LONG, "3", "8.625", "7.5")
    lines = [
        LineInput(Decimal("2"), Decimal("1200"), Decimal("7.5")),
        LineInput(Decimal(3), Decimal("8.625"), Decimal("7.5")),
    ]
    totals = compute_totals(lines, "USD")
    expect(live_total(page, "Subtotal")).to_have_text(format_money(totals.subtotal, "USD"), timeout=WAIT)
    expect(live_total(page, "Tax")).to_have_text(format_money(totals.tax_total, "USD"))
    expect(live_total(page, "Total")).to_have_text(format_money(totals.total, "USD"))
    expect(page.locator("#lines-1-amount")).to_have_text(format_number(totals.lines[1].amount, "USD"))

    # A line that cannot be totalled yet says why, and no stale figure stays.
    page.get_by_label("Unit price, line 1", exact=True).fill("1,20.00")
    expect(page.locator("[data-totals-problem]")).to_contain_text("Unit price, line 1", timeout=WAIT)
    expect(live_total(page, "Total")).to_have_text("—")
    page.get_by_label("Unit price, line 1", exact=True).fill("1,200.00")
    expect(live_total(page, "Total")).to_have_text(format_money(totals.total, "USD"), timeout=WAIT)

    # Nothing is cut or run together, and the editor fits the screen.
    assert overflows(page, "table.lines textarea, table.lines input, table.lines th, table.lines output") == []
    editor_fits = page.eval_on_selector("#invoice-editor", "e => e.scrollWidth <= e.clientWidth + 1")
    assert editor_fits, "the line editor scrolls sideways"
    shoot(page, backend, f"line-editor-new-invoice-{viewport}.png")

    page.get_by_role("button", name="Save draft and review").click()
    expect(page.get_by_role("heading", name="Review before sending")).to_be_visible(timeout=WAIT)
    # Saved figures come back as the pages show them, and the live totals match the saved ones.
    expect(page.get_by_label("Unit price, line 1", exact=True)).to_have_value("1,200.00")
    expect(page.get_by_label("Unit price, line 2", exact=True)).to_have_value("8.625")
    expect(page.get_by_label("Description, line 2", exact=True)).to_have_value(LONG)
    expect(live_total(page, "Total")).to_have_text(format_money(totals.total, "USD"), timeout=WAIT)
    if viewport == "desktop":
        no_two_headers_touch(page)
    assert overflows(page, "table.lines textarea, table.lines input, table.lines th, table.lines output") == []

    # Adding a line on the review page changes the totals before saving.
    page.get_by_role("button", name="Add line").click()
    fill_line(page, 3, "Travel", "1", "100", "0")
    grown = compute_totals([*lines, LineInput(Decimal(1), Decimal(100), Decimal(0))], "USD")
    expect(live_total(page, "Total")).to_have_text(format_money(grown.total, "USD"), timeout=WAIT)

    shoot(page, backend, f"line-editor-review-{viewport}.png")


def shoot(page: Page, backend: str, name: str) -> None:
    """The editor as it looks (one backend is enough): a small PNG for docs/screenshots/."""
    if backend == "sqlite":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.locator("#invoice-editor").screenshot(path=str(SCREENSHOTS / name))
