"""SPEC §11 in a real browser: a credit note from the invoice page, then a refund of client credit from the client page.

Saves its screenshots (credit-note-*.png) under test-artifacts/, or with
UPDATE_SCREENSHOTS=1 under docs/screenshots/ (so a plain run never changes a tracked file).
"""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import Page, expect

from shared.db import db
from shared.inputs import ClientInput, InvoiceDraft, PaymentInput
from shared.services import Actor, create_client, create_draft, create_user, issue_invoice, record_payment
from support import ROOT

pytestmark = pytest.mark.backends("sqlite")

PASSWORD = "a-long-test-password"
WAIT = 10_000
SHOTS = ROOT / ("docs/screenshots" if os.environ.get("UPDATE_SCREENSHOTS") == "1" else "test-artifacts")


@pytest.fixture
def paid_invoice_site(live_app) -> tuple[str, int, int]:
    """A staff user and an NGN invoice of 32,250.00 paid in full."""
    with live_app.app_context():
        actor = Actor.system("tests")
        create_user(
            db.session, actor=actor, email="staff@example.com", name="Sam Staff", role="staff", password=PASSWORD
        )
        client = create_client(
            db.session, actor=actor, data=ClientInput(name="Brightpath Academy", email="ap@brightpath.example")
        )
        draft = create_draft(
            db.session,
            actor=actor,
            data=InvoiceDraft.from_mapping(
                {
                    "client_id": client.id,
                    "currency": "NGN",
                    "items": [
                        {"description": "Consulting", "quantity": "2", "unit_price": "15000.00", "tax_rate": "7.5"},
                        {
                            "description": "Workshop materials",
                            "quantity": "1",
                            "unit_price": "2000.00",
                            "tax_rate": "0",
                        },
                    ],
                }
            ),
        )
        invoice, _ = issue_invoice(db.session, actor=actor, invoice_id=draft.id)
        record_payment(db.session, actor=actor, invoice_id=invoice.id, data=PaymentInput(amount="34250.00"))
        ids = (invoice.id, client.id)
        db.session.remove()
    return live_app.config["LIVE_URL"], *ids


def test_credit_note_from_the_invoice_page_then_refund_from_the_client_page(page: Page, paid_invoice_site) -> None:
    site, invoice_id, client_id = paid_invoice_site
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{site}/admin/login")
    page.get_by_label("E-mail").fill("staff@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible(timeout=WAIT)

    page.goto(f"{site}/admin/invoices/{invoice_id}")
    page.get_by_role("link", name="Issue credit note").click()
    expect(page.get_by_role("heading", name="Issue a credit note")).to_be_visible(timeout=WAIT)
    page.get_by_label("Chosen lines and amounts").check()
    page.get_by_label("Credit for line 1").fill("10,000.00")
    page.get_by_label("Reason (printed on the credit note)").fill("One consulting session was cancelled")
    page.get_by_role("button", name="Show totals").click()
    preview = page.get_by_role("region", name="Credit note totals")
    expect(preview).to_contain_text("NGN 10,750.00", timeout=WAIT)  # 10,000.00 + 7.5 % tax
    page.screenshot(path=str(SHOTS / "credit-note-confirm-1366.png"), full_page=True)
    page.get_by_role("button", name="Confirm and issue credit note").click()
    expect(page.get_by_role("heading", name="Credit note CN-")).to_be_visible(timeout=WAIT)
    expect(page.get_by_text("One consulting session was cancelled")).to_be_visible()
    page.screenshot(path=str(SHOTS / "credit-note-detail-1366.png"), full_page=True)

    page.get_by_role("link", name="Client page").click()
    credit = page.locator(".stat.credit[data-currency='NGN']")
    expect(credit).to_contain_text("10,750.00", timeout=WAIT)
    page.screenshot(path=str(SHOTS / "credit-note-client-credit-1366.png"), full_page=True)
    credit.get_by_role("link", name="Refund").click()
    expect(page.get_by_role("heading", name="Refund client credit")).to_be_visible(timeout=WAIT)
    page.get_by_label("Amount to refund").fill("750.00")
    page.get_by_label("Method").select_option("bank_transfer")
    page.get_by_label("Reference").fill("TRF-REF-1")
    page.get_by_label("I have paid this amount back to the client").check()
    page.get_by_role("button", name="Record refund").click()
    expect(page.get_by_text("Refund of 750.00 NGN recorded.")).to_be_visible(timeout=WAIT)
    expect(page.locator(".stat.credit[data-currency='NGN']")).to_contain_text("10,000.00")
    page.screenshot(path=str(SHOTS / "credit-note-after-refund-1366.png"), full_page=True)
    assert client_id
