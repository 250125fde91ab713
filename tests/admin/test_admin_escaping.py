"""Script and HTML typed into every text field come back escaped on every page."""

import datetime as dt

import pytest
from sqlalchemy import select

from shared.db import db
from shared.inputs import ClientInput, ExpenseInput, InvoiceDraft, PaymentInput, SettingsChanges
from shared.models import Invoice, Payment
from shared.services import (
    Actor,
    Notify,
    create_api_key,
    create_client,
    create_draft,
    create_user,
    issue_invoice,
    record_payment,
    request_expense,
)
from shared.services.settings import update_settings

# SQLite only: escaping is rendering.
pytestmark = pytest.mark.backends("sqlite")

PAYLOAD = '<script>alert(1)</script><img src=x onerror="alert(2)">'
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def seed_hostile_data(app) -> dict:
    actor = Actor.system(PAYLOAD)
    with app.app_context():
        s = db.session
        update_settings(
            s,
            actor=actor,
            data=SettingsChanges(
                company_name="Co " + PAYLOAD,
                company_address=PAYLOAD,
                company_phone="+1 " + PAYLOAD[:30],
                company_website=PAYLOAD,
                payment_instructions=PAYLOAD,
            ),
        )
        client = create_client(
            s,
            actor=actor,
            data=ClientInput(
                name="Client " + PAYLOAD,
                email="hostile@example.com",
                phone="+2348031234567",
                billing_address=PAYLOAD,
                postal_address=PAYLOAD,
            ),
        )
        draft = create_draft(
            s,
            actor=actor,
            data=InvoiceDraft.from_mapping(
                {
                    "client_id": client.id,
                    "currency": "USD",
                    "purchase_order": PAYLOAD[:100],
                    "notes": PAYLOAD,
                    "items": [{"description": "Line " + PAYLOAD, "quantity": "1", "unit_price": "10.00"}],
                }
            ),
        )
        other = create_draft(
            s,
            actor=actor,
            data=InvoiceDraft.from_mapping(
                {
                    "client_id": client.id,
                    "currency": "USD",
                    "items": [{"description": PAYLOAD, "quantity": "1", "unit_price": "5"}],
                }
            ),
        )
        invoice, _ = issue_invoice(s, actor=actor, invoice_id=draft.id, notify=Notify(email=True, sms=True))
        payment, _ = record_payment(
            s,
            actor=actor,
            invoice_id=invoice.id,
            data=PaymentInput(amount="1.00", reference=PAYLOAD[:200], note=PAYLOAD),
        )
        expense = request_expense(
            s,
            actor=actor,
            data=ExpenseInput(title=PAYLOAD, category=PAYLOAD[:100], payee=PAYLOAD, description=PAYLOAD, amount="5"),
        )
        create_api_key(s, actor=actor, name=PAYLOAD[:100], scope="read")
        create_user(s, actor=actor, email="hostile@example.com", name=PAYLOAD, role="staff", password="x" * 12)
        ids = {
            "client": client.id,
            "invoice": invoice.id,
            "draft": other.id,
            "payment": payment.id,
            "expense": expense.id,
            "token": invoice.public_token,
        }
        s.remove()
        return ids


def test_hostile_text_is_escaped_everywhere(admin_app, admin):
    ids = seed_hostile_data(admin_app)
    pages = [
        "/admin/",
        "/admin/clients",
        f"/admin/clients/{ids['client']}",
        f"/admin/clients/{ids['client']}/edit",
        "/admin/invoices",
        f"/admin/invoices/{ids['invoice']}",
        f"/admin/invoices/{ids['draft']}/review",
        f"/admin/invoices/{ids['draft']}/delete",
        f"/admin/invoices/{ids['invoice']}/payments/new",
        "/admin/payments",
        f"/admin/payments/{ids['payment']}",
        f"/admin/payments/{ids['payment']}/void",
        "/admin/expenses",
        f"/admin/expenses/{ids['expense']}",
        f"/admin/expenses/{ids['expense']}/edit",
        "/admin/delivery",
        "/admin/settings",
        "/admin/users",
        "/admin/api-keys",
        f"/i/{ids['token']}",
    ]
    for url in pages:
        response = admin.get(url)
        body = response.get_data(as_text=True)
        assert response.status_code == 200, (url, response.status_code)
        assert "<script>alert" not in body, url
        assert 'onerror="alert' not in body, url
        if not url.endswith(("/void", "/delivery")):  # these show only numbers and addresses
            assert "&lt;script&gt;" in body, f"{url} does not show the text at all"


def test_hostile_search_terms_are_escaped(admin):
    for url in ("/admin/clients?q=", "/admin/invoices?q=", "/admin/payments?q="):
        body = admin.get(url + PAYLOAD).get_data(as_text=True)
        assert "<script>alert" not in body and ESCAPED in body


def test_form_errors_echo_input_escaped(admin):
    response = admin.post_form("/admin/clients/new", {"name": PAYLOAD, "email": PAYLOAD, "client_type": "individual"})
    body = response.get_data(as_text=True)
    assert "<script>alert" not in body
    assert "not a valid e-mail" in body


def test_public_page_escapes_and_records_viewed(admin_app, admin):
    ids = seed_hostile_data(admin_app)
    client = admin_app.test_client()
    body = client.get(f"/i/{ids['token']}").get_data(as_text=True)
    assert "<script>alert" not in body and ESCAPED in body
    with admin_app.app_context():
        invoice = db.session.get(Invoice, ids["invoice"])
        assert invoice.viewed_at is not None
        assert db.session.scalars(select(Payment)).first() is not None
    assert dt.date.today()
