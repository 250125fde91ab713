"""A quote from draft to invoice in a real browser (SPEC §13).

Staff write a quote in the admin and send it; the client opens its link in a
separate browser context (no session cookie), types their name and accepts;
staff convert it into an invoice with the same totals. With
UPDATE_SCREENSHOTS=1 the screenshots go to docs/screenshots/ (otherwise to
test-artifacts/screenshots/, so a plain run never changes a tracked file).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from shared.db import db
from shared.documents.formatting import format_money
from shared.inputs import ClientInput
from shared.money import Discount, LineInput, compute_totals
from shared.services import Actor, create_client, create_user
from support import ROOT

pytestmark = pytest.mark.backends("sqlite")

PASSWORD = "a-long-test-password"
WAIT = 10_000
SCREENSHOTS = ROOT / ("docs" if os.environ.get("UPDATE_SCREENSHOTS") == "1" else "test-artifacts") / "screenshots"


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def totals_cell(page: Page, label: str):
    section = page.locator("section").filter(has=page.get_by_role("heading", name="Totals", exact=True))
    row = section.get_by_role("row").filter(has=page.get_by_role("rowheader", name=label, exact=True))
    return row.get_by_role("cell")


def test_a_quote_is_written_accepted_by_the_client_and_converted(page: Page, new_context, live_app) -> None:
    site = live_app.config["LIVE_URL"]
    with live_app.app_context():
        create_user(
            db.session,
            actor=Actor.system(),
            email="staff@example.com",
            name="Sam Staff",
            role="staff",
            password=PASSWORD,
        )
        create_client(
            db.session,
            actor=Actor.system(),
            data=ClientInput(name="Brightpath Academy Ltd", email="ap@brightpath.example", default_currency="NGN"),
        )
        db.session.remove()
    year = dt.date.today().year
    lines = [("Consulting", "2", "15000.00", "7.5"), ("Training day", "1", "50000.00", "7.5")]
    expected = compute_totals(
        [LineInput(Decimal(q), Decimal(p), Decimal(t)) for _, q, p, t in lines], "NGN", Discount("percent", Decimal(10))
    )
    total = format_money(expected.total, "NGN")
    page.set_viewport_size({"width": 1366, "height": 900})

    # 1. Staff sign in and write a quote with the invoice's line editor.
    page.goto(f"{site}/admin/login")
    page.get_by_label("E-mail").fill("staff@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible(timeout=WAIT)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Quotes", exact=True).click()
    expect(page.get_by_role("heading", name="Quotes", exact=True)).to_be_visible(timeout=WAIT)
    page.get_by_role("link", name="New quote").click()
    expect(page.get_by_role("heading", name="New quote")).to_be_visible(timeout=WAIT)
    page.get_by_label("Client", exact=True).select_option(label="Brightpath Academy Ltd")
    for n, (description, quantity, price, tax) in enumerate(lines, start=1):
        page.get_by_label(f"Description, line {n}", exact=True).fill(description)
        page.get_by_label(f"Quantity, line {n}", exact=True).fill(quantity)
        page.get_by_label(f"Unit price, line {n}", exact=True).fill(price)
        page.get_by_label(f"Tax %, line {n}", exact=True).fill(tax)
    page.get_by_label("Discount", exact=True).select_option(label="Percent")
    page.get_by_label("Discount value", exact=True).fill("10")
    page.get_by_label("Purchase order", exact=True).fill("PO-778")
    expect(page.locator("[data-total=total]")).to_have_text(total, timeout=WAIT)  # live totals from the server
    page.get_by_role("button", name="Save draft and review").click()

    # 2. Review before sending: the totals, the PDF and the e-mail; then send.
    expect(page.get_by_role("heading", name="Review quote before sending")).to_be_visible(timeout=WAIT)
    expect(totals_cell(page, "Total")).to_have_text(total)
    expect(page.locator("[data-email-subject]")).to_have_text(f"Quote QUO-{year}-00001 from Your Company")
    page.wait_for_function(
        "() => { const img = document.querySelector('[data-pdf-pages] img'); return img && img.naturalWidth > 0; }",
        timeout=WAIT,
    )  # the exact PDF's first page, drawn by the server
    shot(page, "quote-review-1366")
    page.get_by_role("button", name="Send quote").click()
    number = f"QUO-{year}-00001"
    expect(page.get_by_role("heading", name=number)).to_be_visible(timeout=WAIT)
    expect(page.get_by_text(f"Sent as {number} and queued: email to ap@brightpath.example.")).to_be_visible()
    expect(page.get_by_role("heading", name=number).locator(".badge-sent")).to_have_text("sent")
    public_url = page.get_by_role("link", name="Public link").get_attribute("href")
    assert re.search(r"/q/[A-Za-z0-9_-]{43}$", public_url)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard", exact=True).click()
    open_quotes = page.locator("section.open-quotes")
    expect(open_quotes.get_by_role("link", name=number)).to_be_visible(timeout=WAIT)

    # 3. The client opens the link with no session, types a name and accepts.
    client_page = new_context().new_page()
    client_page.set_viewport_size({"width": 1366, "height": 900})
    client_page.goto(site + urlsplit(public_url).path)  # PUBLIC_BASE_URL names the default port, not the live one
    expect(client_page.get_by_role("heading", name=f"Quote {number}")).to_be_visible(timeout=WAIT)
    expect(client_page.get_by_text(total).first).to_be_visible()
    shot(client_page, "public-quote-1366")
    expect(client_page.get_by_label("Your full name")).to_have_attribute("required", "")  # a name, or no acceptance
    client_page.get_by_label("Your full name").fill("Adaeze Okafor")
    client_page.get_by_role("button", name="Accept quote").click()
    expect(client_page.get_by_text("Thank you: the quote is accepted.")).to_be_visible(timeout=WAIT)
    expect(client_page.get_by_role("heading", name="Accepted")).to_be_visible()
    expect(client_page.get_by_role("button", name="Accept quote")).to_have_count(0)
    shot(client_page, "public-quote-accepted-1366")

    # 4. Staff see the acceptance and convert the quote: an invoice with the same totals.
    open_quotes.get_by_role("link", name=number).click()
    expect(page.get_by_role("heading", name=number).locator(".badge-accepted")).to_have_text("accepted", timeout=WAIT)
    expect(page.locator(".flash-success")).to_contain_text("Accepted by Adaeze Okafor on")
    page.get_by_label("E-mail the invoice to the client").uncheck()
    shot(page, "quote-detail-accepted-1366")
    page.get_by_role("button", name="Convert to invoice").click()
    invoice_number = f"INV-{year}-00001"
    expect(page.get_by_role("heading", name=invoice_number)).to_be_visible(timeout=WAIT)
    expect(page.get_by_text(f"Converted to invoice {invoice_number}.")).to_be_visible()
    expect(totals_cell(page, "Total")).to_have_text(total)
    expect(page.get_by_text("PO PO-778")).to_be_visible()
    shot(page, "quote-converted-invoice-1366")

    # 5. The quote now reads invoiced and links its invoice; it is no longer open.
    page.goto(f"{site}/admin/quotes")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=number))
    expect(row.locator(".badge-invoiced")).to_have_text("invoiced", timeout=WAIT)
    shot(page, "quotes-1366")
