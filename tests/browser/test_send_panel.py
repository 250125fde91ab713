"""The review page's send panel in a real browser: what cannot be sent is off, the button says what will happen.

At 1366 and 390 px wide. On SQLite the test saves screenshots of the panel to
test-artifacts/, or with UPDATE_SCREENSHOTS=1 to docs/screenshots/.
"""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import Page, expect

from shared.db import db
from shared.inputs import ClientInput, InvoiceDraft
from shared.services import Actor, create_client, create_draft, create_user
from support import ROOT

# Pages, documents and messages read the same rows on either backend: SQLite only (the README's rule).
pytestmark = pytest.mark.backends("sqlite")

PASSWORD = "a-long-test-password"
WAIT = 10_000
SHOTS = ROOT / ("docs/screenshots" if os.environ.get("UPDATE_SCREENSHOTS") == "1" else "test-artifacts")


@pytest.fixture
def drafts(live_app) -> dict[str, str]:
    """Review-page addresses of a draft for a client with an e-mail address only, and one with neither."""
    with live_app.app_context():
        create_user(
            db.session, actor=Actor.system(), email="ada@example.com", name="Ada", role="admin", password=PASSWORD
        )
        made = {}
        for key, fields in (("email_only", {"email": "cafe@example.com"}), ("unreachable", {})):
            client = create_client(
                db.session, actor=Actor.system(), data=ClientInput.from_mapping({"name": f"Cafe {key}", **fields})
            )
            draft = create_draft(
                db.session,
                actor=Actor.system(),
                data=InvoiceDraft.from_mapping(
                    {
                        "client_id": client.id,
                        "items": [{"description": "Design", "quantity": "1", "unit_price": "10"}],
                    }
                ),
            )
            made[key] = f"{live_app.config['LIVE_URL']}/admin/invoices/{draft.id}/review"
        db.session.remove()
    return made


@pytest.mark.parametrize("width", [1366, 390])
def test_the_send_button_says_what_will_happen(page: Page, drafts, backend, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(drafts["email_only"].split("/admin/")[0] + "/admin/login")
    page.get_by_label("E-mail").fill("ada@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible(timeout=WAIT)

    page.goto(drafts["email_only"])
    email, sms = page.get_by_label("E-mail with the PDF attached"), page.get_by_label("SMS with the link")
    expect(email).to_be_checked()
    expect(sms).to_be_disabled()
    send = page.locator("[data-send-button]")
    expect(send).to_have_text("Issue and send")
    email.uncheck()
    expect(send).to_have_text("Issue without sending")
    email.check()
    expect(send).to_have_text("Issue and send")

    page.goto(drafts["unreachable"])
    expect(page.get_by_label("E-mail with the PDF attached")).to_be_disabled()
    expect(page.get_by_label("E-mail with the PDF attached")).not_to_be_checked()
    expect(page.locator("[data-send-button]")).to_have_text("Issue without sending")
    if backend == "sqlite":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.locator(".send-panel").screenshot(path=str(SHOTS / f"send-panel-no-contact-{width}.png"))
