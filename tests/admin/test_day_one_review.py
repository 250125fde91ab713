"""Day-one fixes of issue 13: staff views, refusals worded for people, what the review page offers."""

from __future__ import annotations

import html
import re
import subprocess

import pytest
from sqlalchemy import select

from shared.db import db
from shared.inputs import ClientInput, InvoiceDraft
from shared.models import Activity, Invoice, Payment
from shared.services import Actor, Notify, create_client, create_draft, issue_invoice

# Pages, documents and messages read the same rows on either backend: SQLite only (the README's rule).
pytestmark = pytest.mark.backends("sqlite")


def issued_invoice(app, **client_fields) -> tuple[int, str]:
    """An issued USD invoice of 2086.95; its id and public token."""
    with app.app_context():
        client = create_client(
            db.session, actor=Actor.system(), data=ClientInput.from_mapping({"name": "Harbour Cafe", **client_fields})
        )
        draft = create_draft(
            db.session,
            actor=Actor.system(),
            data=InvoiceDraft.from_mapping(
                {
                    "client_id": client.id,
                    "currency": "USD",
                    "items": [{"description": "Design", "quantity": "1", "unit_price": "2086.95"}],
                }
            ),
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


def draft_for(app, **client_fields) -> int:
    with app.app_context():
        client = create_client(
            db.session, actor=Actor.system(), data=ClientInput.from_mapping({"name": "Harbour Cafe", **client_fields})
        )
        return create_draft(
            db.session,
            actor=Actor.system(),
            data=InvoiceDraft.from_mapping(
                {"client_id": client.id, "items": [{"description": "Design", "quantity": "1", "unit_price": "10"}]}
            ),
        ).id


def checkbox(page: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
    assert match, f"no {name} box on the page"
    return match.group(0)


def send_button(page: str) -> str:
    return " ".join(re.search(r"<button[^>]*data-send-button[^>]*>(.*?)</button>", page, re.S).group(1).split())


def test_review_page_unticks_and_disables_what_cannot_reach_the_client(admin_app, admin):
    page = admin.get(f"/admin/invoices/{draft_for(admin_app)}/review").get_data(as_text=True)
    for name in ("email", "sms"):
        assert "disabled" in checkbox(page, name) and "checked" not in checkbox(page, name)
    assert send_button(page) == "Issue without sending"


def test_review_page_offers_the_e_mail_a_client_has(admin_app, admin):
    page = admin.get(f"/admin/invoices/{draft_for(admin_app, email='cafe@example.com')}/review").get_data(as_text=True)
    assert "checked" in checkbox(page, "email") and "disabled" not in checkbox(page, "email")
    assert "disabled" in checkbox(page, "sms")
    assert send_button(page) == "Issue and send"


def test_sending_to_a_missing_address_is_refused_in_words_for_people(admin_app, admin):
    draft_id = draft_for(admin_app)
    review = f"/admin/invoices/{draft_id}/review"
    response = admin.post_form(review, {"email": "y", "intent": "issue"}, to=f"/admin/invoices/{draft_id}/send")
    page = admin.get(review).get_data(as_text=True)
    assert response.status_code == 302
    assert "The client has no e-mail address." in page
    assert "notify.email" not in page and "notify" not in html.unescape(re.sub(r"<[^>]+>", " ", page)).split()
    with admin_app.app_context():
        assert db.session.get(Invoice, draft_id).is_draft


def test_an_overpayment_names_the_currency_and_marks_the_amount(admin_app, admin):
    invoice_id, _ = issued_invoice(admin_app, email="cafe@example.com")
    new = f"/admin/invoices/{invoice_id}/payments/new"
    page = admin.post_form(new, {"amount": "3000.00", "method": "cash"}).get_data(as_text=True)
    amount = re.search(r'<div class="field[^"]*">\s*<label for="amount".*?</div>', page, re.S).group(0)
    assert "has-error" in amount and 'aria-invalid="true"' in amount
    assert "The payment of USD 3,000.00 is more than the balance due of USD 2,086.95." in html.unescape(amount)
    assert "Please correct the marked fields." in page
    with admin_app.app_context():
        assert db.session.scalars(select(Payment)).all() == []


def test_the_receipt_boxes_follow_what_the_invoice_was_billed_to(admin_app, admin):
    invoice_id, _ = issued_invoice(admin_app)
    page = admin.get(f"/admin/invoices/{invoice_id}/payments/new").get_data(as_text=True)
    for name in ("notify_email", "notify_sms"):
        assert "disabled" in checkbox(page, name) and "checked" not in checkbox(page, name)


def test_refusals_name_fields_by_their_labels_in_sentences(admin_app):
    from main_service.admin.forms import PaymentForm, refusal_message

    assert refusal_message(None, "items.0.quantity", "must be more than 0") == "Line 1, quantity must be more than 0."
    assert refusal_message(None, "notify.email", "the client has no e-mail address") == (
        "The client has no e-mail address."
    )
    assert refusal_message(None, "notify", "choose e-mail, SMS or both") == "Choose e-mail, SMS or both."
    with admin_app.test_request_context():
        form = PaymentForm(meta={"csrf": False})
        assert refusal_message(form, "paid_on", "cannot be in the future") == "Date received cannot be in the future."


def test_a_refusal_no_form_catches_is_flashed_as_a_sentence(admin_app, admin):
    invoice_id, _ = issued_invoice(admin_app, email="cafe@example.com")
    void = f"/admin/invoices/{invoice_id}/void"
    admin.post_form(void, {"reason": "Typo"})
    page = admin.post_form(void, {"reason": "Again"}, follow=True).get_data(as_text=True)
    with admin_app.app_context():
        number = db.session.get(Invoice, invoice_id).number
    assert f"Invoice {number} is already void." in html.unescape(page)
    assert f"invoice {number} is already void" not in html.unescape(page)
