"""A new staff member's first day in the admin, in a real browser (SPEC §5.2-§5.6, §6, §8).

Each step asserts what the user sees: headings, flashes, badges, table rows and
the totals box. The worker runs once in-process between two page loads, and
the client's public link is opened from a separate browser context with no
session cookie.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Locator, Page, expect

import background_service
from background_service.worker import run_once
from shared.db import db
from shared.documents.formatting import format_money
from shared.money import Discount, LineInput, compute_totals
from shared.services import Actor, create_user
from support import app_config

# SQLite only: the browser sees pages; what the database decides is checked on both backends elsewhere.
pytestmark = pytest.mark.backends("sqlite")

PASSWORD = "a-long-test-password"
STAFF = ("staff@example.com", "Sam Staff")
ADMIN = ("admin@example.com", "Ada Admin")
CURRENCY = "NGN"  # the company default; the client below has none of its own
WAIT = 10_000  # ms: generous but bounded, for each page load or DOM change

# pytest-playwright 0.10 (without pytest-base-url) declares its fallback
# ``base_url`` fixture as a method of a plugin object, which pytest 9 deprecates
# with this warning on every test that uses ``page``. Not ours to fix.


@pytest.fixture
def site(live_app) -> str:
    """The live admin's base URL, with a staff user and an admin user in its database."""
    with live_app.app_context():
        for email, name in (STAFF, ADMIN):
            role = "admin" if email == ADMIN[0] else "staff"
            create_user(db.session, actor=Actor.system(), email=email, name=name, role=role, password=PASSWORD)
        db.session.remove()
    return live_app.config["LIVE_URL"]


def sign_in(page: Page, site: str, email: str, name: str) -> None:
    page.goto(f"{site}/admin/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=WAIT)
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible(timeout=WAIT)
    expect(page.get_by_text(name, exact=True)).to_be_visible()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible(timeout=WAIT)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def nav(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible(timeout=WAIT)


def card(page: Page, heading: str) -> Locator:
    """The page section whose heading is ``heading`` (Totals, Delivery, Activity...)."""
    return page.locator("section").filter(has=page.get_by_role("heading", name=heading, exact=True))


def total_cell(page: Page, label: str) -> Locator:
    """The figure next to ``label`` in the Totals box."""
    row = card(page, "Totals").get_by_role("row").filter(has=page.get_by_role("rowheader", name=label, exact=True))
    return row.get_by_role("cell")


def fill_line(page: Page, n: int, description: str, quantity: str, unit_price: str, tax: str) -> None:
    page.get_by_label(f"Description, line {n}", exact=True).fill(description)
    page.get_by_label(f"Quantity, line {n}", exact=True).fill(quantity)
    page.get_by_label(f"Unit price, line {n}", exact=True).fill(unit_price)
    page.get_by_label(f"Tax %, line {n}", exact=True).fill(tax)


def expected_totals(lines: list[tuple[str, str, str, str]], discount_percent: str):
    return compute_totals(
        [LineInput(Decimal(q), Decimal(p), Decimal(t)) for _, q, p, t in lines],
        CURRENCY,
        Discount("percent", Decimal(discount_percent)),
    )


def money(amount: Decimal) -> str:
    return format_money(amount, CURRENCY)


def delivery_row(page: Page, channel: str) -> Locator:
    return card(page, "Delivery").get_by_role("row").filter(has_text=f"invoice · {channel}")


def run_worker_once(database_url: str, instance: Path) -> None:
    """``python -m background_service --once``, in-process, against the test database."""
    worker = background_service.create_app(
        app_config(database_url, MAIL_BACKEND="file", SMS_BACKEND="file", INSTANCE_PATH=str(instance))
    )
    with worker.app_context():
        engine = db.engine
        try:
            run_once(engine, dict(worker.config), owner="worker walkthrough-test")
        finally:
            engine.dispose()


def test_staff_walkthrough(page: Page, new_context, site: str, database_url: str, tmp_path: Path) -> None:
    year = dt.date.today().year
    number = f"INV-{year}-00001"

    # 1. Sign in as the new staff member.
    sign_in(page, site, *STAFF)

    # 2. Clients -> New client.
    nav(page, "Clients")
    page.get_by_role("link", name="New client").click()
    expect(page.get_by_role("heading", name="New client")).to_be_visible(timeout=WAIT)
    page.get_by_label("Name", exact=True).fill("Adaeze Okafor")
    page.get_by_label("E-mail", exact=True).fill("adaeze@example.com")
    page.get_by_label("Phone", exact=True).fill("+2348031234567")
    page.get_by_role("button", name="Save client").click()
    expect(page.get_by_text("Client Adaeze Okafor created.")).to_be_visible(timeout=WAIT)
    expect(page.get_by_role("heading", name="Adaeze Okafor")).to_be_visible()
    expect(page.get_by_text("adaeze@example.com · +234 803 123 4567")).to_be_visible()

    # 3. Invoices -> New invoice: three lines, 10 % off, save -> the review page.
    nav(page, "Invoices")
    page.get_by_role("link", name="New invoice").click()
    expect(page.get_by_role("heading", name="New invoice")).to_be_visible(timeout=WAIT)
    expect(page.get_by_role("button", name=re.compile(r"^Remove line \d+$"))).to_have_count(3)
    lines = [
        ("Consulting", "2", "15000.00", "7.5"),
        ("Travel", "1", "2500.50", "0"),
        ("Materials", "3", "333.33", "7.5"),
    ]
    page.get_by_label("Client", exact=True).select_option(label="Adaeze Okafor")
    for n, line in enumerate(lines, start=1):
        fill_line(page, n, *line)
    page.get_by_label("Discount", exact=True).select_option(label="Percent")
    page.get_by_label("Discount value", exact=True).fill("10")
    page.get_by_role("button", name="Save draft and review").click()
    expect(page.get_by_role("heading", name="Review before sending")).to_be_visible(timeout=WAIT)
    expect(page.get_by_text("Draft saved. Check it below, then send it.")).to_be_visible()
    first_draft_url = page.url
    first_draft_id = int(re.search(r"/invoices/(\d+)/review$", first_draft_url).group(1))
    totals = expected_totals(lines, "10")
    expect(total_cell(page, "Subtotal")).to_have_text(money(totals.subtotal))
    expect(total_cell(page, "Discount (10 %)")).to_have_text("−" + money(totals.discount_total))
    expect(total_cell(page, "Total")).to_have_text(money(totals.total))

    # 4. Change a quantity on the review page and save: the Totals box follows.
    lines[1] = ("Travel", "10", "2500.50", "0")
    page.get_by_label("Quantity, line 2", exact=True).fill("10")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Draft saved.", exact=True)).to_be_visible(timeout=WAIT)
    expect(page.get_by_label("Quantity, line 2", exact=True)).to_have_value("10")
    totals = expected_totals(lines, "10")
    expect(total_cell(page, "Subtotal")).to_have_text(money(totals.subtotal))
    for rate in totals.tax_by_rate:  # two rates (7.5 % and 0 %): the tax line is broken down by rate
        expect(total_cell(page, f"Tax {rate.rate.normalize():f}%")).to_have_text(money(rate.tax))
    expect(total_cell(page, "Total")).to_have_text(money(totals.total))

    # 5. A second draft, deleted through its confirmation page.
    nav(page, "Invoices")
    page.get_by_role("link", name="New invoice").click()
    expect(page.get_by_role("heading", name="New invoice")).to_be_visible(timeout=WAIT)
    page.get_by_label("Client", exact=True).select_option(label="Adaeze Okafor")
    fill_line(page, 1, "Mistake", "1", "100.00", "0")
    page.get_by_role("button", name="Save draft and review").click()
    expect(page.get_by_role("heading", name="Review before sending")).to_be_visible(timeout=WAIT)
    second_draft_id = int(re.search(r"/invoices/(\d+)/review$", page.url).group(1))
    assert second_draft_id != first_draft_id
    page.get_by_role("link", name="Delete draft").click()
    expect(page.get_by_role("heading", name="Delete this draft?")).to_be_visible(timeout=WAIT)
    page.get_by_role("button", name="Delete draft").click()
    expect(page.get_by_text("Draft deleted.")).to_be_visible(timeout=WAIT)
    expect(page.get_by_role("heading", name="Invoices", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name=f"Draft #{first_draft_id}", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name=f"Draft #{second_draft_id}", exact=True)).to_have_count(0)

    # 6. Back to the first draft: issue it and send it by e-mail and SMS.
    page.get_by_role("link", name=f"Draft #{first_draft_id}", exact=True).click()
    page.get_by_role("link", name="Review and send").click()
    expect(page.get_by_role("heading", name="Review before sending")).to_be_visible(timeout=WAIT)
    assert page.url == first_draft_url
    page.get_by_label("E-mail with the PDF attached").check()
    page.get_by_label("SMS with the link").check()
    page.get_by_role("button", name="Issue and send").click()
    expect(page.get_by_role("heading", name=number)).to_be_visible(timeout=WAIT)
    expect(page.get_by_text(f"Issued as {number} and queued:")).to_be_visible()
    expect(page.get_by_role("heading", name=number).locator(".badge-open")).to_have_text("open")
    expect(delivery_row(page, "email")).to_have_count(1)
    expect(delivery_row(page, "sms")).to_have_count(1)
    expect(delivery_row(page, "email").locator(".badge")).to_have_text("queued")
    expect(delivery_row(page, "sms").locator(".badge")).to_have_text("queued")
    expect(delivery_row(page, "email")).to_contain_text("adaeze@example.com")
    expect(delivery_row(page, "sms")).to_contain_text("+2348031234567")
    expect(total_cell(page, "Total")).to_have_text(money(totals.total))
    travel = card(page, "Lines").get_by_role("row").filter(has_text="Travel").get_by_role("cell")
    expect(travel).to_have_text(["2", "Travel", "10", money(Decimal("2500.50")), "0", money(Decimal("25005.00"))])
    invoice_url = page.url

    # 7. The worker runs once; a reload shows both messages sent, and the outbox has them.
    run_worker_once(database_url, tmp_path)
    page.reload()
    expect(delivery_row(page, "email").locator(".badge")).to_have_text("sent", timeout=WAIT)
    expect(delivery_row(page, "sms").locator(".badge")).to_have_text("sent")
    outbox = tmp_path / "outbox"
    assert len(list(outbox.glob("*.eml"))) == 1, sorted(p.name for p in outbox.iterdir())
    assert len(list(outbox.glob("*.json"))) == 1, sorted(p.name for p in outbox.iterdir())

    # 8. A part payment, then the rest (the amount field starts at the balance due).
    page.get_by_role("link", name="Record payment").click()
    expect(page.get_by_role("heading", name="Record a payment")).to_be_visible(timeout=WAIT)
    expect(page.get_by_label("Amount", exact=True)).to_have_value(format(totals.total, "f"))
    part = Decimal("10000.00")
    page.get_by_label("Amount", exact=True).fill(format(part, "f"))
    page.get_by_label("Reference", exact=True).fill("TRX-1")
    page.get_by_role("button", name="Record payment").click()
    expect(page.get_by_role("heading", name=f"Receipt RCT-{year}-00001")).to_be_visible(timeout=WAIT)
    expect(page.get_by_text(f"{money(totals.total - part)} (partially paid)")).to_be_visible()
    page.get_by_role("paragraph").get_by_role("link", name=number, exact=True).click()  # the timeline links it too
    expect(page.get_by_role("heading", name=number).locator(".badge-partially_paid")).to_be_visible(timeout=WAIT)
    expect(total_cell(page, "Balance due")).to_have_text(money(totals.total - part))

    page.get_by_role("link", name="Record payment").click()
    expect(page.get_by_role("heading", name="Record a payment")).to_be_visible(timeout=WAIT)
    expect(page.get_by_label("Amount", exact=True)).to_have_value(format(totals.total - part, "f"))
    page.get_by_role("button", name="Record payment").click()
    expect(page.get_by_role("heading", name=f"Receipt RCT-{year}-00002")).to_be_visible(timeout=WAIT)
    expect(page.get_by_text(f"{money(Decimal(0))} (paid)")).to_be_visible()
    receipt_href = page.get_by_role("link", name="Receipt PDF").get_attribute("href")
    receipt = page.request.get(site + receipt_href)
    assert receipt.ok, receipt.status
    assert receipt.headers["content-type"] == "application/pdf"
    assert receipt.body().startswith(b"%PDF-")
    page.goto(invoice_url)
    expect(page.get_by_role("heading", name=number).locator(".badge-paid")).to_have_text("paid", timeout=WAIT)
    expect(total_cell(page, "Balance due")).to_have_text(money(Decimal(0)))
    expect(page.get_by_role("link", name="Record payment")).to_have_count(0)

    # 9. Staff ask for an expense; an admin approves it with a note.
    nav(page, "Expenses")
    page.get_by_role("link", name="Request an expense").click()
    expect(page.get_by_role("heading", name="Request an expense")).to_be_visible(timeout=WAIT)
    page.get_by_label("Title", exact=True).fill("Printer toner")
    page.get_by_label("Category", exact=True).fill("Supplies")
    page.get_by_label("Amount", exact=True).fill("45000")
    page.get_by_label("Payee", exact=True).fill("Office Mart")
    page.get_by_role("button", name="Send for approval").click()
    expect(page.get_by_text("Expense requested; an admin will approve or decline it.")).to_be_visible(timeout=WAIT)
    expect(page.get_by_role("heading", name="Printer toner").locator(".badge")).to_have_text("pending")
    expect(page.get_by_role("heading", name="Waiting for an admin")).to_be_visible()

    sign_out(page)
    sign_in(page, site, *ADMIN)
    nav(page, "Expenses")
    page.get_by_role("link", name="Printer toner").click()
    expect(page.get_by_role("heading", name="Decide")).to_be_visible(timeout=WAIT)
    page.get_by_label("Note to the requester").fill("Approved: within the supplies budget.")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Expense approved.")).to_be_visible(timeout=WAIT)
    expect(page.get_by_role("heading", name="Printer toner").locator(".badge")).to_have_text("approved")
    expect(page.get_by_text("“Approved: within the supplies budget.”")).to_be_visible()
    expect(page.get_by_role("heading", name="Decide")).to_have_count(0)

    # 10. The client opens the public link (no session); staff then see "viewed".
    page.goto(invoice_url)
    expect(page.get_by_role("heading", name=number)).to_be_visible(timeout=WAIT)
    expect(page.get_by_role("heading", name=number).locator(".badge-viewed")).to_have_count(0)
    public_path = urlsplit(page.get_by_role("link", name="Public link").get_attribute("href")).path
    assert re.fullmatch(r"/i/[A-Za-z0-9_-]{22,}", public_path), public_path
    visitor = new_context()
    assert visitor.cookies() == []
    public = visitor.new_page()
    public.goto(site + public_path)
    expect(public.get_by_role("heading", name=f"Invoice {number}")).to_be_visible(timeout=WAIT)
    expect(public.get_by_role("button", name="Sign out")).to_have_count(0)
    visitor.close()

    page.reload()
    expect(page.get_by_role("heading", name=number).locator(".badge-viewed")).to_have_text("viewed", timeout=WAIT)
    expect(
        card(page, "Activity").get_by_role("listitem").filter(has_text="Viewed by the client for the first time")
    ).to_have_count(1)


def row_count(page: Page) -> Locator:
    return page.get_by_role("button", name=re.compile(r"^Remove line \d+$"))


def test_line_editor_with_and_without_javascript(page: Page, new_context, site: str) -> None:
    # With JavaScript: Add line and Remove change the table in place, no page load.
    sign_in(page, site, *STAFF)
    page.goto(f"{site}/admin/invoices/new")
    expect(page.get_by_role("heading", name="New invoice")).to_be_visible(timeout=WAIT)
    expect(row_count(page)).to_have_count(3)
    page.evaluate("window.__sameDocument = true")
    page.get_by_label("Description, line 1", exact=True).fill("Kept")

    page.get_by_role("button", name="Add line").click()
    expect(row_count(page)).to_have_count(4)
    expect(page.get_by_label("Description, line 4", exact=True)).to_be_focused()
    expect(page.get_by_label("Quantity, line 4", exact=True)).to_have_value("1")
    page.get_by_label("Description, line 2", exact=True).fill("Goes away")
    page.get_by_role("button", name="Remove line 2").click()
    expect(row_count(page)).to_have_count(3)
    expect(page.get_by_role("button", name="Remove line 4")).to_have_count(0)
    expect(page.get_by_label("Description, line 1", exact=True)).to_have_value("Kept")
    expect(page.get_by_label("Description, line 2", exact=True)).to_have_value("")
    assert page.evaluate("window.__sameDocument") is True  # still the same document: no reload happened

    # Without JavaScript: the same buttons submit the form and the server redraws it.
    plain = new_context(java_script_enabled=False).new_page()
    sign_in(plain, site, *STAFF)
    plain.goto(f"{site}/admin/invoices/new")
    expect(plain.get_by_role("heading", name="New invoice")).to_be_visible(timeout=WAIT)
    expect(row_count(plain)).to_have_count(3)
    plain.get_by_label("Description, line 1", exact=True).fill("Typed before adding")
    with plain.expect_navigation(timeout=WAIT):
        plain.get_by_role("button", name="Add line").click()
    expect(row_count(plain)).to_have_count(4)
    expect(plain.get_by_label("Description, line 1", exact=True)).to_have_value("Typed before adding")
    expect(plain.get_by_label("Description, line 4", exact=True)).to_have_value("")
    with plain.expect_navigation(timeout=WAIT):
        plain.get_by_role("button", name="Remove line 1").click()
    expect(row_count(plain)).to_have_count(3)
    expect(plain.get_by_label("Description, line 1", exact=True)).to_have_value("")
