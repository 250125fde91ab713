"""Day-one fixes of issue 13: staff views, refusals worded for people, what the review page offers."""

from __future__ import annotations

import subprocess

from sqlalchemy import select

from shared.db import db
from shared.models import Activity, Invoice, Payment
from shared.services import Actor, Notify, create_client, create_draft, issue_invoice


def issued_invoice(app, **client_fields) -> tuple[int, str]:
    """An issued USD invoice of 2086.95; its id and public token."""
    with app.app_context():
        client = create_client(db.session, actor=Actor.system(), data={"name": "Harbour Cafe", **client_fields})
        draft = create_draft(
            db.session,
            actor=Actor.system(),
            data={
                "client_id": client.id,
                "currency": "USD",
                "items": [{"description": "Design", "quantity": "1", "unit_price": "2086.95"}],
            },
        )
        invoice, _ = issue_invoice(db.session, actor=Actor.system(), invoice_id=draft.id, notify=Notify())
        return invoice.id, invoice.public_token


def views_of(app, invoice_id: int) -> tuple[object, list[str]]:
    with app.app_context():
        invoice = db.session.get(Invoice, invoice_id)
        verbs = db.session.scalars(
            select(Activity.summary).where(Activity.invoice_id == invoice_id, Activity.verb == "viewed")
        ).all()
        return invoice.viewed_at, list(verbs)


def test_staff_opening_the_public_link_is_not_a_client_view(admin_app, staff):
    invoice_id, token = issued_invoice(admin_app, email="cafe@example.com")
    assert staff.get(f"/i/{token}").status_code == 200
    assert views_of(admin_app, invoice_id) == (None, [])


def test_a_visitor_who_is_not_signed_in_is_counted_as_the_client(admin_app, staff):
    invoice_id, token = issued_invoice(admin_app, email="cafe@example.com")
    assert admin_app.test_client().get(f"/i/{token}").status_code == 200
    viewed_at, views = views_of(admin_app, invoice_id)
    assert viewed_at is not None
    assert views == ["Viewed by the client for the first time"]


def test_staff_who_signed_out_count_as_a_visitor_again(admin_app, staff):
    invoice_id, token = issued_invoice(admin_app, email="cafe@example.com")
    staff.post_form("/admin/", {}, to="/admin/logout")
    staff.get(f"/i/{token}")
    assert views_of(admin_app, invoice_id)[1] == ["Viewed by the client for the first time"]


def receipt_text(pdf: bytes) -> str:
    result = subprocess.run(["pdftotext", "-raw", "-", "-"], input=pdf, capture_output=True, check=True, timeout=60)
    return " ".join(result.stdout.decode().split())


def test_the_payment_form_says_which_note_the_client_sees(admin_app, admin):
    invoice_id, _ = issued_invoice(admin_app, email="cafe@example.com")
    page = admin.get(f"/admin/invoices/{invoice_id}/payments/new").get_data(as_text=True)
    assert "Note on the receipt (the client sees it)" in page
    assert "Internal note (staff only, never on the receipt)" in page


def test_the_internal_note_stays_off_the_receipt(admin_app, admin):
    invoice_id, _ = issued_invoice(admin_app, email="cafe@example.com")
    form = {
        "amount": "100.00",
        "method": "cash",
        "note": "Thank you for the deposit",
        "internal_note": "Owner paid from his own pocket",
    }
    response = admin.post_form(f"/admin/invoices/{invoice_id}/payments/new", form)
    assert response.status_code == 302, response.get_data(as_text=True)
    with admin_app.app_context():
        payment = db.session.scalars(select(Payment)).one()
        assert (payment.note, payment.internal_note) == ("Thank you for the deposit", "Owner paid from his own pocket")
        payment_id = payment.id
    detail = admin.get(f"/admin/payments/{payment_id}").get_data(as_text=True)
    assert "Note on the receipt" in detail and "Internal note" in detail
    assert "Owner paid from his own pocket" in detail
    receipt = receipt_text(admin.get(f"/admin/payments/{payment_id}/receipt.pdf").data)
    assert "Thank you for the deposit" in receipt
    assert "Owner paid" not in receipt
