"""Every main page fits a 390 px phone, and each kind of page a 1366 px laptop, in a real browser (issue 13 items 9, 10).

"Fits" means what a person would notice: the page never scrolls sideways, and
the things they came for (the heading, the main action, the figures) sit inside
the window. A wide table may scroll inside its own box; the page around it may not.

On SQLite the test also saves screenshots: under test-artifacts/screenshots/,
or, with UPDATE_SCREENSHOTS=1, under docs/screenshots/ for the README (a plain
test run never changes a tracked file). The layout does not depend on the
database, so these tests run on SQLite only.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass

import pytest
from PIL import Image, ImageDraw, ImageFont
from playwright.sync_api import Page, expect
from sqlalchemy import select

from main_service.demo import seed_demo
from shared.db import db
from shared.inputs import InvoiceDraft
from shared.models import Client, Invoice
from shared.models.enums import InvoiceStatus
from shared.services import Actor, Notify, create_draft, create_user, issue_invoice
from shared.services.settings import set_logo
from support import ROOT

PASSWORD = "a-long-test-password"
WAIT = 10_000
LAPTOP, PHONE = 1366, 390
SCREENSHOTS = ROOT / ("docs" if os.environ.get("UPDATE_SCREENSHOTS") == "1" else "test-artifacts") / "screenshots"
# The pages kept as pictures for the README (name -> path key below).
PICTURED = {"public-invoice", "dashboard", "invoices", "invoice-detail", "settings"}

LINE = [{"description": "Consulting, per hour", "quantity": "2", "unit_price": "30000.00", "tax_rate": "7.5"}]

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


def logo_png() -> bytes:
    """A 160 x 48 logo, a wordmark on the company's blue, as a person would upload it."""
    logo = Image.new("RGB", (160, 48), (36, 86, 199))
    draw = ImageDraw.Draw(logo)
    draw.ellipse((10, 10, 38, 38), fill=(255, 255, 255))
    draw.text((48, 14), "LAGOON", fill=(255, 255, 255), font=ImageFont.load_default(size=20))
    buffer = io.BytesIO()
    logo.save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass
class Demo:
    url: str
    client_id: int
    invoice_id: int
    draft_id: int
    token: str


@pytest.fixture
def demo(live_app) -> Demo:
    """The demo company with a logo, an admin to sign in as, and the records the pages show."""
    with live_app.app_context():
        seed_demo(db.session, echo=lambda _: None)
        actor = Actor.system("test", is_admin=True)
        set_logo(db.session, actor=actor, data=logo_png())
        create_user(
            db.session, actor=Actor.system(), email="ada@example.com", name="Ada Admin", role="admin", password=PASSWORD
        )
        # The widest figures the demo has: an NGN invoice with several lines and a payment on it.
        issued = db.session.scalars(
            select(Invoice).where(Invoice.status == InvoiceStatus.PARTIALLY_PAID, Invoice.currency == "NGN").limit(1)
        ).one()
        draft = db.session.scalars(select(Invoice).where(Invoice.status == InvoiceStatus.DRAFT).limit(1)).one()
        client = db.session.scalars(select(Client).where(Client.id == issued.client_id)).one()
        # Rows for the delivery queue: the e-mail and SMS of one more invoice, to a client who has both.
        reachable = db.session.scalars(select(Client).where(Client.name == "Adaeze Okafor")).one()
        sent = create_draft(
            db.session, actor=actor, data=InvoiceDraft.from_mapping({"client_id": reachable.id, "items": LINE})
        )
        issue_invoice(db.session, actor=actor, invoice_id=sent.id, notify=Notify(email=True, sms=True))
        found = Demo(live_app.config["LIVE_URL"], client.id, issued.id, draft.id, issued.public_token)
        db.session.remove()
    return found


def admin_pages(demo: Demo) -> dict[str, tuple[str, list[str]]]:
    """name -> (path, selectors of elements that must sit inside the window)."""
    return {
        "dashboard": ("/admin/", ["h1", ".stat-value"]),
        "clients": ("/admin/clients", ["h1", "main .page-head .button", "main tbody tr:first-child td:first-child"]),
        "client-detail": (f"/admin/clients/{demo.client_id}", ["h1", "main .page-head .button"]),
        "invoices": ("/admin/invoices", ["h1", "main .page-head .button", "main tbody tr:first-child td:first-child"]),
        "invoice-detail": (f"/admin/invoices/{demo.invoice_id}", ["h1", "main .page-head .button", "table.totals"]),
        "invoice-new": ("/admin/invoices/new", ["h1", "main form button[value=save]"]),
        "invoice-review": (f"/admin/invoices/{demo.draft_id}/review", ["h1", "table.totals"]),
        "payments": ("/admin/payments", ["h1", "main tbody tr:first-child td:first-child"]),
        "expenses": ("/admin/expenses", ["h1", "main .page-head .button", "main tbody tr:first-child td:first-child"]),
        "delivery": ("/admin/delivery", ["h1", "main tbody tr:first-child td:first-child"]),
        "reports": ("/admin/reports", ["h1"]),
        "settings": ("/admin/settings", ["h1", "main form button[type=submit]"]),
        "users": ("/admin/users", ["h1", "main tbody tr:first-child td:first-child"]),
        # and a few more that a bookkeeper opens in the first week
        "client-new": ("/admin/clients/new", ["h1", "main form button[type=submit]"]),
        "statement": (f"/admin/clients/{demo.client_id}/statement", ["h1", "table.totals"]),
        "payment-new": (f"/admin/invoices/{demo.invoice_id}/payments/new", ["h1", "main form button[type=submit]"]),
        "expense-new": ("/admin/expenses/new", ["h1", "main form button[type=submit]"]),
        "api-keys": ("/admin/api-keys", ["h1"]),
        "account": ("/admin/account", ["h1"]),
    }


# At the laptop width one page of each kind: a page that fits 390 px has room to spare at
# 1366 px unless its kind lays out differently there (the sidebar, wide tables, the line
# editor, figures side by side). The pictured pages are among them, for the README.
LAPTOP_PAGES = {
    "dashboard",  # figures and charts
    "invoices",  # a list
    "invoice-detail",  # a document with its totals and timeline
    "invoice-new",  # the line editor
    "invoice-review",  # a review before confirming
    "settings",  # a long form with the logo card
    "statement",  # a statement table
    "reports",
}


def sign_in(page: Page, url: str) -> None:
    page.goto(f"{url}/admin/login")
    page.get_by_label("E-mail").fill("ada@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible(timeout=WAIT)


def layout_problems(page: Page, selectors: list[str]) -> list[str]:
    """What a person would see wrong: sideways scrolling, or a key element missing or cut off by the window."""
    problems = []
    scroll_width, inner_width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if scroll_width > inner_width:
        problems.append(f"the page scrolls sideways ({scroll_width} px wide in a {inner_width} px window)")
    for selector in selectors:
        boxes = page.eval_on_selector_all(
            selector,
            """els => els.map(e => { const b = e.getBoundingClientRect();
                return {left: b.left, right: b.right, w: b.width, text: e.textContent.trim().slice(0, 40)}; })""",
        )
        if not boxes or all(box["w"] == 0 for box in boxes):
            problems.append(f"{selector}: not shown")
        for box in boxes:
            if box["w"] and (box["left"] < 0 or box["right"] > inner_width + 0.5):
                problems.append(f"{selector} {box['text']!r}: {box['left']:.0f}..{box['right']:.0f} px")
    return problems


def keep_picture(page: Page, name: str, width: int) -> None:
    """The window as the person sees it, in 256 colours to keep the README's PNGs small."""
    if name in PICTURED:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shot = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
        shot.quantize(colors=256).save(SCREENSHOTS / f"{name}-{width}.png", optimize=True)


@pytest.mark.parametrize("width", [LAPTOP, PHONE])
def test_admin_pages_fit_the_window_without_sideways_scrolling(page: Page, demo: Demo, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, demo.url)
    problems = {}
    for name, (path, selectors) in admin_pages(demo).items():
        if width == LAPTOP and name not in LAPTOP_PAGES:
            continue
        page.goto(demo.url + path)
        page.wait_for_load_state("networkidle")
        found = layout_problems(page, selectors)
        if found:
            problems[name] = found
        keep_picture(page, name, width)
    assert not problems, "\n".join(f"{name}: {problem}" for name, found in problems.items() for problem in found)


@pytest.mark.parametrize("width", [LAPTOP, PHONE])
def test_public_invoice_page_shows_the_logo_amounts_and_total_inside_the_window(
    page: Page, demo: Demo, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{demo.url}/i/{demo.token}")
    logo = page.get_by_role("img", name="Lagoon Digital Services Ltd")
    expect(logo).to_be_visible(timeout=WAIT)
    assert page.evaluate("img => img.naturalWidth", logo.element_handle()) == 160
    # On a phone each line shows "quantity × price · tax" under its description instead of three more columns.
    line_tax = "table.invoice-lines tbody td.tax" if width == LAPTOP else "table.invoice-lines tbody .line-detail"
    selectors = [
        "h1",
        ".public-invoice img.company-logo",
        ".public-invoice .page-head .button",
        "table.invoice-lines tbody td.amount",
        line_tax,
        "table.totals tr.grand td",
    ]
    assert layout_problems(page, selectors) == []
    keep_picture(page, "public-invoice", width)


THREE_LINES = "Plot 22 Aminu Kano Crescent\nWuse II\nAbuja 900288"


def shows_all_of(page: Page, label: str) -> bool:
    """The text box shows its whole text without scrolling."""
    return page.get_by_label(label, exact=True).evaluate("box => box.scrollHeight <= box.clientHeight")


@pytest.mark.parametrize("width", [LAPTOP, PHONE])
def test_settings_save_button_stands_apart_from_the_logo_card(page: Page, demo: Demo, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, demo.url)
    page.goto(f"{demo.url}/admin/settings")
    save = page.get_by_role("button", name="Save settings").bounding_box()
    logo = page.locator("section").filter(has=page.get_by_role("heading", name="Logo", exact=True)).bounding_box()
    assert logo["y"] - (save["y"] + save["height"]) >= 16


@pytest.mark.parametrize("width", [LAPTOP, PHONE])
def test_address_boxes_show_three_lines_without_scrolling(page: Page, demo: Demo, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, demo.url)
    for path, label in [
        ("/admin/settings", "Address"),
        ("/admin/clients/new", "Billing address"),
        ("/admin/clients/new", "Postal address"),
    ]:
        page.goto(demo.url + path)
        page.get_by_label(label, exact=True).fill(THREE_LINES)
        assert shows_all_of(page, label), f"{path}: {label}"
