"""Issue 12 item 12: directional control characters in user text cannot turn figures round.

U+202E (RIGHT-TO-LEFT OVERRIDE) and its kin (U+202A-U+202E, U+2066-U+2069)
typed into a name, title or description would display what follows them
reversed: ``500.00`` as ``00.005``. Pages, PDFs, e-mails and texts print user
text without them (Jinja ``finalize``), and pages set user text in ``<bdi>``
or ``dir="auto"`` so right-to-left names stay beside, not inside, the figures.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
from pathlib import Path

import pytest

from shared.documents import render_invoice_pdf
from shared.inputs import ExpenseInput, SettingsChanges
from shared.messages.delivery import drain_queue
from shared.services import Actor, Notify, request_expense
from shared.services.settings import update_settings
from support.delivery import make_config, pdf_text

RLO, PDF, RLI, PDI = "\u202e", "\u202c", "\u2067", "\u2069"
CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
NAME = f"{RLO}Evil Corp{RLI} شركة"
DESCRIPTION = f"Consulting {RLO}2 days at 15000.00"


@pytest.fixture
def hostile_invoice(session, make_invoice, make_client):
    client = make_client(name=NAME, billing_address=f"{RLO}12 Marina Road")
    return make_invoice(
        issue=True,
        client=client,
        notify=Notify(email=True, sms=True),
        notes=f"Thanks {RLO}for 30 days",
        items=[{"description": DESCRIPTION, "quantity": "1", "unit_price": "500.00", "tax_rate": "0"}],
    )


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_activity_line_shows_the_amount_in_order_with_the_user_text_isolated(admin, session):
    """Issue 12 item 12: an expense titled with U+202E; the timeline line keeps its figure and isolates the text."""
    expense = request_expense(
        session,
        actor=Actor.system("tests"),
        data=ExpenseInput(
            title=f"Taxi {RLO}to airport", category="Travel", amount="500.00", currency="USD", expense_date="2025-06-01"
        ),
    )
    for url in (f"/admin/expenses/{expense.id}", "/admin/"):
        html = admin.get(url).get_data(as_text=True)
        assert not CONTROLS.search(html), f"{url}: a directional control reached the page"
        assert re.search(r"<bdi>Taxi to airport: \$500\.00 requested</bdi>", html), url


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_public_page_and_the_invoice_page_carry_no_directional_controls(admin, admin_app, hostile_invoice):
    """Issue 12 item 12: the client's view and the staff view of the invoice."""
    public = admin_app.test_client().get(f"/i/{hostile_invoice.public_token}").get_data(as_text=True)
    staff_view = admin.get(f"/admin/invoices/{hostile_invoice.id}").get_data(as_text=True)
    for html in (public, staff_view):
        assert not CONTROLS.search(html)
        assert "Consulting 2 days at 15000.00" in html
    assert "<bdi>Evil Corp شركة</bdi>" in public


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_pdf_prints_user_text_in_its_own_order(session, hostile_invoice):
    """Issue 12 item 12: in the PDF the figures in a description read as typed, not reversed."""
    text = pdf_text(render_invoice_pdf(session, hostile_invoice), layout=False)
    assert "2 days at 15000.00" in text
    assert "00.00051" not in text
    assert "Evil Corp" in text  # (pdftotext marks Arabic runs with U+202B itself, so no check for controls here)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_emails_and_texts_carry_no_directional_controls(session, actor, database_url, tmp_path, hostile_invoice):
    """Issue 12 item 12: subject, addresses, text and HTML bodies, and the SMS, with a hostile company name too."""
    update_settings(session, actor=actor, data=SettingsChanges(company_name=f"Bright{RLO}path 500.00 Ltd"))
    config = make_config(database_url, tmp_path, MAIL_BACKEND="file", SMS_BACKEND="file")
    assert drain_queue(session, owner="security-tests", config=config) == {"sent": 2}
    outbox = Path(config["OUTBOX_DIR"])
    (eml,) = outbox.glob("*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    parts = [
        str(message["Subject"]),
        message["To"].addresses[0].display_name,
        message["From"].addresses[0].display_name,
        message.get_body(("plain",)).get_content(),
        message.get_body(("html",)).get_content(),
    ]
    for part in parts:
        assert not CONTROLS.search(part), part[:200]
    assert message["To"].addresses[0].display_name == "Evil Corp شركة"
    assert "Brightpath 500.00 Ltd" in parts[0]
    (sms,) = outbox.glob("*.json")
    assert not CONTROLS.search(json.loads(sms.read_text())["body"])
