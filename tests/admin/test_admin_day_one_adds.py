"""Issue 13 "Add" in the admin: own expenses, CSV exports, invoice links, statements, paper size."""

import csv
import io
import re

import pytest
from sqlalchemy import select

from shared.db import db
from shared.inputs import ClientInput, InvoiceDraft, PaymentInput, SettingsChanges
from shared.lookups import get_settings
from shared.models import Expense
from shared.services import Actor, Notify, create_client, create_draft, issue_invoice, record_payment
from shared.services.settings import update_settings

# Pages, documents and messages read the same rows on either backend: SQLite only (the README's rule).
pytestmark = pytest.mark.backends("sqlite")


def _request_expense(admin) -> int:
    response = admin.post_form(
        "/admin/expenses/new",
        {"title": "Taxi", "category": "Travel", "amount": "40.00", "currency": "NGN", "expense_date": "2026-11-20"},
        follow=True,
    )
    assert "Expense requested" in response.get_data(as_text=True)
    return int(re.search(r"/admin/expenses/(\d+)", response.request.path).group(1))


def test_a_signed_in_admin_is_not_offered_and_cannot_approve_their_own_expense(admin_app, admin):
    expense_id = _request_expense(admin)
    page = admin.get(f"/admin/expenses/{expense_id}").get_data(as_text=True)
    assert "Approve" not in page
    response = admin.post_form(
        f"/admin/expenses/{expense_id}", {"note": "ok"}, to=f"/admin/expenses/{expense_id}/approve", follow=True
    )
    assert "You cannot approve or decline an expense you requested" in response.get_data(as_text=True)
    with admin_app.app_context():
        assert db.session.scalars(select(Expense.status).where(Expense.id == expense_id)).one() == "pending"


TWO_RATES = [
    {"description": "Design", "quantity": "1", "unit_price": "1000.00", "tax_rate": "7.5"},
    {"description": "Hosting", "quantity": "2", "unit_price": "250.00", "tax_rate": "19"},
]


def _issued(admin_app, *, items=TWO_RATES, **client_fields):
    """An issued USD invoice; returns (invoice id, number, public token, client id)."""
    with admin_app.app_context():
        who = Actor.system("tests", is_admin=True)
        client = create_client(
            db.session,
            actor=who,
            data=ClientInput.from_mapping({"name": "Ada Obi", "email": "ada@example.com", **client_fields}),
        )
        draft = create_draft(
            db.session,
            actor=who,
            data=InvoiceDraft.from_mapping({"client_id": client.id, "currency": "USD", "items": items}),
        )
        invoice, _ = issue_invoice(db.session, actor=who, invoice_id=draft.id, notify=Notify())
        found = (invoice.id, invoice.number, invoice.public_token, client.id)
        db.session.remove()
        return found


def test_admin_and_public_page_break_the_tax_down_by_rate(admin_app, admin):
    invoice_id, _, token, _ = _issued(admin_app)
    for page in (admin.get(f"/admin/invoices/{invoice_id}"), admin_app.test_client().get(f"/i/{token}")):
        text = " ".join(re.sub(r"<[^>]+>", " ", page.get_data(as_text=True)).replace("\xa0", " ").split())
        assert "Tax 7.5% $75.00" in text and "Tax 19% $95.00" in text, text


def test_public_page_shows_the_company_address_and_tax_id(admin_app, admin):
    with admin_app.app_context():
        update_settings(
            db.session,
            actor=Actor.system("tests", is_admin=True),
            data=SettingsChanges(company_address="12 Marina Road, Lagos", company_tax_id="TIN 01234567-0001"),
        )
        db.session.remove()
    _, _, token, _ = _issued(admin_app)
    page = admin_app.test_client().get(f"/i/{token}").get_data(as_text=True)
    assert "12 Marina Road, Lagos" in page and "TIN 01234567-0001" in page


def test_paper_size_is_a_setting_on_the_settings_page(admin_app, admin):
    page = admin.get("/admin/settings").get_data(as_text=True)
    assert 'name="paper_size"' in page and ">Letter<" in page
    form = {
        name: value for name, value in re.findall(r'name="([a-z_]+)"[^>]*value="([^"]*)"', page) if name != "csrf_token"
    }
    form.update(
        company_name="Lagoon Digital",
        default_currency="USD",
        tax_rounding="line",
        paper_size="Letter",
        invoice_number_format="INV-{year}-{seq:05d}",
        receipt_number_format="RCT-{year}-{seq:05d}",
    )
    response = admin.post_form("/admin/settings", form, follow=True)
    assert "Settings saved." in response.get_data(as_text=True)
    with admin_app.app_context():
        assert get_settings(db.session).paper_size == "Letter"


HOSTILE = '=HYPERLINK("http://evil.example";"x")'


def _csv(response) -> list[dict]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_the_invoice_list_exports_its_filtered_rows_as_csv(admin_app, admin):
    first_id, first_number, _, ada = _issued(admin_app, name=HOSTILE)
    _, second_number, _, _ = _issued(admin_app, email="bo@example.com")
    page = admin.get(f"/admin/invoices?client_id={ada}&page=2").get_data(as_text=True)
    assert f'href="/admin/invoices.csv?client_id={ada}"' in page
    rows = _csv(admin.get(f"/admin/invoices.csv?client_id={ada}"))
    assert [r["number"] for r in rows] == [first_number]
    assert rows[0]["client"] == "'" + HOSTILE  # never run as a formula
    assert (rows[0]["tax"], rows[0]["total"], rows[0]["balance_due"]) == ("170.00", "1670.00", "1670.00")
    everything = _csv(admin.get("/admin/invoices.csv"))
    assert [r["number"] for r in everything] == [first_number, second_number]


def test_the_payment_and_client_lists_export_their_filtered_rows_as_csv(admin_app, admin):
    invoice_id, number, _, _ = _issued(admin_app, name=HOSTILE)
    _issued(admin_app, name="Bola Ade")
    with admin_app.app_context():
        who = Actor.system("tests", is_admin=True)
        cash, _ = record_payment(
            db.session, actor=who, invoice_id=invoice_id, data=PaymentInput(amount="70.00", method="cash")
        )
        card, _ = record_payment(
            db.session,
            actor=who,
            invoice_id=invoice_id,
            data=PaymentInput(amount="100.00", method="card", reference="-1+2"),
        )
        cash_receipt, card_receipt = cash.receipt_number, card.receipt_number
        db.session.remove()
    assert 'href="/admin/payments.csv?method=card"' in admin.get("/admin/payments?method=card").get_data(as_text=True)
    rows = _csv(admin.get("/admin/payments.csv?method=card"))
    assert [(r["receipt_number"], r["invoice_number"], r["amount"]) for r in rows] == [(card_receipt, number, "100.00")]
    assert rows[0]["reference"] == "'-1+2" and rows[0]["client"] == "'" + HOSTILE
    assert [r["receipt_number"] for r in _csv(admin.get("/admin/payments.csv"))] == [cash_receipt, card_receipt]

    assert 'href="/admin/clients.csv?q=bola"' in admin.get("/admin/clients?q=bola").get_data(as_text=True)
    assert [r["name"] for r in _csv(admin.get("/admin/clients.csv?q=bola"))] == ["Bola Ade"]
    assert [r["name"] for r in _csv(admin.get("/admin/clients.csv"))] == ["'" + HOSTILE, "Bola Ade"]  # by name


def test_a_bad_filter_in_an_export_is_ignored_with_a_message_not_a_500(admin_app, admin):
    _issued(admin_app)
    response = admin.get("/admin/invoices.csv?issued_from=yesterday&client_id=abc")
    assert response.status_code == 200 and len(_csv(response)) == 1


def test_invoice_numbers_are_links_wherever_the_admin_shows_them(admin_app, admin):
    invoice_id, number, _, client_id = _issued(admin_app)
    with admin_app.app_context():
        payment, _ = record_payment(
            db.session,
            actor=Actor.system("tests", is_admin=True),
            invoice_id=invoice_id,
            data=PaymentInput(amount="70.00"),
        )
        payment_id = payment.id
        db.session.remove()
    link = f'href="/admin/invoices/{invoice_id}">{number}</a>'
    expected = {
        "/admin/": 1,  # recent activity
        "/admin/payments": 1,
        f"/admin/payments/{payment_id}": 2,  # heading and the timeline
        f"/admin/payments/{payment_id}/void": 1,
        f"/admin/invoices/{invoice_id}/payments/new": 1,
        f"/admin/clients/{client_id}": 3,  # invoices, payments, activity
        f"/admin/clients/{client_id}/statement": 2,  # the invoice and the payment against it
        "/admin/delivery": 0,
    }
    for url, at_least in expected.items():
        page = admin.get(url)
        assert page.status_code == 200, url
        assert page.get_data(as_text=True).count(link) >= at_least, url
