"""Admin pages of SPEC §11: issue a credit note from the invoice page, list and see it, apply and refund credit."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shared.db import db
from shared.inputs import ClientInput, InvoiceDraft, PaymentInput
from shared.models import CreditNote, Refund
from shared.services import Actor, create_client, create_draft, issue_invoice, record_payment

pytestmark = pytest.mark.backends("sqlite")


@pytest.fixture
def paid_invoice(admin_app):
    """A USD invoice of 2 lines (100.00 at 10 %, 50.00 at 0 %): total 160.00, paid in full."""
    with admin_app.app_context():
        actor = Actor.system("tests")
        client = create_client(
            db.session,
            actor=actor,
            data=ClientInput(name="Kemi Stores", email="kemi@example.com", default_currency="USD"),
        )
        draft = create_draft(
            db.session,
            actor=actor,
            data=InvoiceDraft.from_mapping(
                {
                    "client_id": client.id,
                    "currency": "USD",
                    "items": [
                        {"description": "Shelves", "quantity": "1", "unit_price": "100.00", "tax_rate": "10"},
                        {"description": "Delivery", "quantity": "1", "unit_price": "50.00", "tax_rate": "0"},
                    ],
                }
            ),
        )
        invoice, _ = issue_invoice(db.session, actor=actor, invoice_id=draft.id)
        record_payment(db.session, actor=actor, invoice_id=invoice.id, data=PaymentInput(amount="160.00"))
        ids = invoice.id, client.id
        db.session.remove()
        return ids


def test_credit_note_shows_totals_before_confirming_then_issues(admin_app, admin, paid_invoice):
    invoice_id, client_id = paid_invoice
    page = admin.get(f"/admin/invoices/{invoice_id}").get_data(as_text=True)
    assert "Issue credit note" in page
    url = f"/admin/invoices/{invoice_id}/credit-notes/new"
    form = {
        "scope": "lines",
        "line_amounts-0": "40.00",
        "line_amounts-1": "",
        "reason": "Shelf damaged",
        "issue_date": "",
    }
    preview = admin.post_form(url, {**form, "action": "preview"})
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    assert "Totals of this credit note" in html and "$44.00" in html and "Confirm and issue credit note" in html
    with admin_app.app_context():
        assert db.session.query(CreditNote).count() == 0  # nothing issued by the preview

    done = admin.post_form(url, {**form, "action": "confirm"}, follow=True)
    html = done.get_data(as_text=True)
    assert "Credit note CN-" in html and "Shelf damaged" in html
    with admin_app.app_context():
        note = db.session.query(CreditNote).one()
        assert note.total == note.to_credit == Decimal("44.00")
    assert admin.get("/admin/credit-notes").get_data(as_text=True).count(note.number) >= 1
    pdf = admin.get(f"/admin/credit-notes/{note.id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")

    # Over-credit: refused with the amount still creditable, nothing issued.
    too_much = admin.post_form(
        url, {"scope": "lines", "line_amounts-0": "110.00", "reason": "Again", "action": "confirm"}
    ).get_data(as_text=True)
    assert "116.00 still creditable" in too_much
    with admin_app.app_context():
        assert db.session.query(CreditNote).count() == 1

    # The client page shows the credit with Apply and Refund; a refund never goes beyond it.
    client_page = admin.get(f"/admin/clients/{client_id}").get_data(as_text=True)
    assert "Client credit · USD" in client_page and "$44.00" in client_page and ">Refund<" in client_page
    refund_url = f"/admin/clients/{client_id}/refunds/new"
    over = admin.post_form(
        refund_url, {"currency": "USD", "amount": "44.01", "method": "cash", "confirm": "y"}
    ).get_data(as_text=True)
    assert "more than the client&#39;s credit" in over or "more than the client's credit" in over
    unconfirmed = admin.post_form(refund_url, {"currency": "USD", "amount": "4.00", "method": "cash"})
    assert unconfirmed.status_code == 200
    ok = admin.post_form(
        refund_url, {"currency": "USD", "amount": "44.00", "method": "cash", "confirm": "y"}, follow=True
    )
    assert "Refund of 44.00 USD recorded" in ok.get_data(as_text=True)
    with admin_app.app_context():
        assert db.session.query(Refund).count() == 1
    assert "Client credit · USD" not in admin.get(f"/admin/clients/{client_id}").get_data(as_text=True)
