"""Small things a new user notices on day one (issue 13 items 9, 10): favicon, logo, no empty table columns.

The browser checks of the same item (the gap under Settings' save button,
address boxes that show three lines) are in tests/browser/test_layout.py.
"""

from __future__ import annotations

import base64
import re

import pytest

import main_service
from background_service.worker import run_once
from shared.db import db
from shared.inputs import ClientInput, InvoiceDraft
from shared.services import Actor, Notify, create_client, create_draft, create_user, issue_invoice
from shared.services.settings import set_logo
from support import ADMIN_PASSWORD, app_config, finish_setup, sign_in

# Pages, documents and messages read the same rows on either backend: SQLite only (the README's rule).
pytestmark = pytest.mark.backends("sqlite")

LOGO = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)

ICON_LINK = re.compile(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">')


@pytest.fixture
def app(database_url, tmp_path):
    """The admin app with its outbox (e-mail and SMS files) under tmp_path."""
    app = main_service.create_app(
        app_config(database_url, MAIL_BACKEND="file", SMS_BACKEND="file", INSTANCE_PATH=str(tmp_path))
    )
    with app.app_context():
        create_user(
            db.session,
            actor=Actor.system(),
            email="admin@example.com",
            name="Ada",
            role="admin",
            password=ADMIN_PASSWORD,
        )
        finish_setup(db.session)  # an install in use: pages open without the first-run setup
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


def issue_with_email(app) -> None:
    """One more issued invoice whose e-mail to the client waits in the queue."""
    with app.app_context():
        actor = Actor.system("tests", is_admin=True)
        client = create_client(
            db.session, actor=actor, data=ClientInput.from_mapping({"name": "Ngozi", "email": "ngozi@example.com"})
        )
        items = [{"description": "Design", "quantity": "1", "unit_price": "100.00", "tax_rate": "0"}]
        draft = create_draft(
            db.session, actor=actor, data=InvoiceDraft.from_mapping({"client_id": client.id, "items": items})
        )
        issue_invoice(db.session, actor=actor, invoice_id=draft.id, notify=Notify(email=True))
        db.session.remove()


def deliver_everything(app) -> None:
    with app.app_context():
        engine = db.engine
        run_once(engine, dict(app.config), owner="worker layout-test")


def table_shape(html: str) -> tuple[int, list[int]]:
    """The delivery table's header count and each body row's cell count."""
    table = html[html.index("<table") : html.index("</table>")]
    head, body = table.split("<tbody>", 1)
    rows = body.split("<tr")[1:]
    return len(re.findall(r"<th[ >]", head)), [len(re.findall(r"<td[ >]", row)) for row in rows]


def test_the_favicon_is_served_at_the_site_root(app):
    with app.test_client().get("/favicon.ico") as response:
        assert response.status_code == 200
        assert response.mimetype == "image/vnd.microsoft.icon"
        assert response.data[:4] == b"\x00\x00\x01\x00"  # an ICO file's header


def test_admin_pages_link_a_favicon_that_is_served(app):
    anonymous, signed_in = app.test_client(), sign_in(app, "admin@example.com")
    for browser, page in ((anonymous, "/admin/login"), (signed_in, "/admin/")):
        html = browser.get(page).get_data(as_text=True)
        link = ICON_LINK.search(html)
        assert link, f"{page} links no favicon"
        with browser.get(link.group(1)) as icon:
            assert (icon.status_code, icon.mimetype) == (200, "image/svg+xml")


def test_delivery_table_has_no_actions_column_when_no_row_can_be_retried_or_cancelled(app):
    issue_with_email(app)
    deliver_everything(app)
    browser = sign_in(app, "admin@example.com")

    html = browser.get("/admin/delivery").get_data(as_text=True)
    assert "Actions" not in html and "Retry" not in html and ">Cancel<" not in html
    headers, cells = table_shape(html)
    assert cells == [headers]  # the one sent e-mail, with no empty cell left over

    issue_with_email(app)  # this one waits in the queue, so it can be cancelled
    html = browser.get("/admin/delivery").get_data(as_text=True)
    assert "Actions" in html and ">Cancel<" in html
    headers, cells = table_shape(html)
    assert cells == [headers, headers]


def test_the_public_page_logo_is_served_only_through_a_live_invoice_link(app):
    with app.app_context():
        actor = Actor.system("tests", is_admin=True)
        set_logo(db.session, actor=actor, data=LOGO)
        client = create_client(db.session, actor=actor, data=ClientInput.from_mapping({"name": "Ngozi"}))
        items = [{"description": "Design", "quantity": "1", "unit_price": "100.00", "tax_rate": "0"}]
        draft = create_draft(
            db.session, actor=actor, data=InvoiceDraft.from_mapping({"client_id": client.id, "items": items})
        )
        issued, _ = issue_invoice(db.session, actor=actor, invoice_id=draft.id)
        token = issued.public_token
        db.session.remove()
    anonymous = app.test_client()
    page = anonymous.get(f"/i/{token}").get_data(as_text=True)
    assert f'src="/i/{token}/logo"' in page
    logo = anonymous.get(f"/i/{token}/logo")
    assert (logo.status_code, logo.mimetype, logo.data) == (200, "image/png", LOGO)
    assert anonymous.get(f"/i/{'x' * 43}/logo").status_code == 404  # no invoice has this link
