"""Issue 12 item 16: no PDF is rendered in a request that does not return it; huge PDFs are bounded.

A 500-line invoice with long descriptions takes WeasyPrint about 40 s, past
gunicorn's 30 s worker timeout. Creating, issuing and sending an invoice only
queue a row (the worker renders the attachment); the admin review page used to
render the whole PDF just to count its pages. A request that does return the
PDF (or a picture of one of its pages) renders it only when the document is
within ``MAX_ROWS_ON_REQUEST`` printed rows; a longer one is a 409 that says
why and where to get it (the e-mail attachment, rendered by the worker).

Renders are counted by replacing ``shared.documents.pdf._write_pdf`` (the one
place every document goes through WeasyPrint) with a counter.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from shared.db import db
from shared.documents import pdf as documents_pdf
from shared.inputs import ClientInput, InvoiceDraft
from shared.messages.compose import build_email_parts
from shared.models import Invoice, QueuedMessage
from shared.services import Actor, Notify, create_client, create_draft, issue_invoice

# SQLite only: which requests render a PDF is decided in Python.
pytestmark = pytest.mark.backends("sqlite")

LONG = "Line of work described at length so it wraps across many printed rows in the PDF. " * 6  # ~500 chars
HUGE_ITEMS = [
    {"description": f"{i + 1}. {LONG}"[:500], "quantity": "1", "unit_price": "10.00", "tax_rate": "0"}
    for i in range(500)
]


@pytest.fixture
def renders(monkeypatch) -> list[str]:
    """Every PDF render, by its identifier; renders a stand-in instead of running WeasyPrint."""
    calls: list[str] = []

    def counting_write_pdf(html, settings, identifier, variant=None):
        calls.append(identifier)
        return b"%PDF-1.7 stand-in"

    monkeypatch.setattr(documents_pdf, "_write_pdf", counting_write_pdf)
    return calls


def make_invoice_in(app, items: list[dict], *, issue: bool) -> SimpleNamespace:
    with app.app_context():
        actor = Actor.system("tests")
        client = create_client(db.session, actor=actor, data=ClientInput(name="Ada", email="ada@example.com"))
        invoice = create_draft(
            db.session,
            actor=actor,
            data=InvoiceDraft.from_mapping(
                {"client_id": client.id, "currency": "USD", "issue_date": dt.date.today().isoformat(), "items": items}
            ),
        )
        if issue:
            invoice, _ = issue_invoice(db.session, actor=actor, invoice_id=invoice.id)
        made = SimpleNamespace(id=invoice.id, public_token=invoice.public_token)
        db.session.remove()
        return made


def api(api_app, keys, method: str, path: str, body: dict | None = None):
    client = api_app.test_client()
    return client.open(f"/api/v1{path}", method=method, json=body, headers={"Authorization": f"Bearer {keys['write']}"})


def test_creating_issuing_and_e_mailing_a_huge_invoice_through_the_api_renders_no_pdf(api_app, keys, renders):
    created = api(
        api_app,
        keys,
        "POST",
        "/invoices",
        {"client": {"name": "Ada", "email": "ada@example.com"}, "currency": "USD", "items": HUGE_ITEMS},
    )
    assert created.status_code == 201, created.get_data(as_text=True)[:300]
    assert created.json["status"] == "open" and len(created.json["notifications"]) == 1
    resent = api(api_app, keys, "POST", f"/invoices/{created.json['id']}/send", {"notify": {"email": True}})
    assert resent.status_code == 202
    draft = api(
        api_app,
        keys,
        "POST",
        "/invoices",
        {"client_id": created.json["client"]["id"], "items": HUGE_ITEMS, "issue": False},
    )
    issued = api(api_app, keys, "POST", f"/invoices/{draft.json['id']}/issue", {"notify": {"email": True}})
    assert issued.status_code == 200
    assert renders == []


def test_the_admin_review_page_and_send_render_no_pdf(admin, admin_app, renders):
    draft = make_invoice_in(admin_app, HUGE_ITEMS, issue=False)
    page = admin.get(f"/admin/invoices/{draft.id}/review")
    assert page.status_code == 200
    assert renders == []
    sent = admin.post_form(
        f"/admin/invoices/{draft.id}/review",
        {"email": "y", "intent": "issue"},
        to=f"/admin/invoices/{draft.id}/send",
    )
    assert sent.status_code == 302
    with admin_app.app_context():
        assert db.session.get(Invoice, draft.id).status == "open"
        db.session.remove()
    assert renders == []


def test_downloading_a_huge_invoice_is_refused_with_a_reason_and_renders_nothing(
    api_app, admin, admin_app, keys, renders
):
    invoice = make_invoice_in(admin_app, HUGE_ITEMS, issue=True)

    refused = api(api_app, keys, "GET", f"/invoices/{invoice.id}/pdf")
    assert refused.status_code == 409
    assert refused.mimetype == "application/problem+json"
    assert "too long to render on request" in refused.json["detail"]
    assert "attached to the e-mail" in refused.json["detail"]

    for url in (f"/admin/invoices/{invoice.id}/pdf", f"/admin/invoices/{invoice.id}/pages/1.png"):
        page = admin.get(url)
        assert page.status_code == 409, url
        assert "too long to render on request" in page.get_data(as_text=True)
    public = admin_app.test_client().get(f"/i/{invoice.public_token}.pdf")
    assert public.status_code == 409
    assert "too long to render on request" in public.get_data(as_text=True)
    assert "Traceback" not in public.get_data(as_text=True)

    review = admin.get(f"/admin/invoices/{invoice.id}/review")
    assert review.status_code in (200, 302)
    assert renders == []


def test_an_ordinary_invoice_still_downloads(api_app, admin, admin_app, keys, renders):
    items = [{"description": f"Item {i}", "quantity": "1", "unit_price": "10.00", "tax_rate": "0"} for i in range(100)]
    invoice = make_invoice_in(admin_app, items, issue=True)
    assert api(api_app, keys, "GET", f"/invoices/{invoice.id}/pdf").data.startswith(b"%PDF")
    assert admin.get(f"/admin/invoices/{invoice.id}/pdf").data.startswith(b"%PDF")
    assert admin_app.test_client().get(f"/i/{invoice.public_token}.pdf").data.startswith(b"%PDF")
    assert len(renders) == 3


def test_the_worker_still_attaches_the_pdf_of_a_huge_invoice(session, renders):
    actor = Actor.system("tests")
    client = create_client(session, actor=actor, data=ClientInput(name="Ada", email="ada@example.com"))
    draft = create_draft(
        session,
        actor=actor,
        data=InvoiceDraft.from_mapping({"client_id": client.id, "currency": "USD", "items": HUGE_ITEMS}),
    )
    _, rows = issue_invoice(session, actor=actor, invoice_id=draft.id, notify=Notify(email=True))
    row = session.get(QueuedMessage, rows[0].id)
    parts = build_email_parts(session, row, {"PUBLIC_BASE_URL": "https://invoices.example", "MAIL_FROM": "a@b.example"})
    assert parts["pdf"].startswith(b"%PDF")
    assert len(renders) == 1
