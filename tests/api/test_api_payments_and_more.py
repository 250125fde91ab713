"""Payments, clients, expenses and notifications through the API (SPEC §7)."""

import datetime as dt

import pytest
from sqlalchemy import update

from shared.db import db
from shared.models import QueuedMessage


@pytest.fixture
def invoice(api, ngn_body):
    return api.post("/invoices", json=ngn_body).get_json()


def test_record_payment_matches_spec_shape(api, invoice):
    body = {
        "amount": "10000.00",
        "paid_on": dt.date.today().isoformat(),
        "method": "bank_transfer",
        "reference": "TRX123",
        "notify": {"email": True, "sms": False},
    }
    response = api.post(f"/invoices/{invoice['id']}/payments", json=body)
    assert response.status_code == 201, response.get_json()
    payment = response.get_json()
    assert payment["receipt_number"] == f"RCT-{dt.date.today().year}-00001"
    assert (payment["amount"], payment["method"], payment["paid_on"]) == ("10000.00", "bank_transfer", body["paid_on"])
    assert payment["invoice"] == {
        "id": invoice["id"],
        "number": invoice["number"],
        "status": "partially_paid",
        "amount_paid": "10000.00",
        "balance_due": "19025.00",
    }
    assert [(n["kind"], n["channel"]) for n in payment["notifications"]] == [("receipt", "email")]
    assert api.get(f"/payments/{payment['id']}").get_json()["receipt_number"] == payment["receipt_number"]


def test_overpayment_is_409_with_the_balance(api, invoice):
    response = api.post(f"/invoices/{invoice['id']}/payments", json={"amount": "50000.00"})
    assert response.status_code == 409
    assert response.get_json()["detail"] == "the payment of NGN 50,000.00 is more than the balance due of NGN 29,025.00"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"amount": "1.001"}, "amount"),
        ({"amount": "1", "method": "gold"}, "method"),
        ({"amount": "1", "tip": "1"}, "tip"),
        ({"amount": "1", "paid_on": "2999-01-01"}, "paid_on"),
    ],
)
def test_bad_payments_are_422(api, invoice, body, field):
    response = api.post(f"/invoices/{invoice['id']}/payments", json=body)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_full_payment_void_and_listing(api, invoice):
    paid = api.post(f"/invoices/{invoice['id']}/payments", json={"amount": "29025", "method": "cash"}).get_json()
    assert paid["invoice"]["status"] == "paid" and paid["invoice"]["balance_due"] == "0.00"
    voided = api.post(f"/payments/{paid['id']}/void", json={"reason": "Bounced"}).get_json()
    assert voided["void"] is True and voided["invoice"]["status"] == "open"
    assert api.post(f"/payments/{paid['id']}/void", json={}).status_code == 409
    listed = api.get(f"/invoices/{invoice['id']}/payments").get_json()["data"]
    assert [p["id"] for p in listed] == [paid["id"]]
    assert [p["id"] for p in api.get(f"/payments?invoice_id={invoice['id']}").get_json()["data"]] == [paid["id"]]
    assert api.get("/invoices/999999/payments").status_code == 404


def test_payment_on_a_draft_is_409(api, ngn_body):
    ngn_body["issue"] = False
    draft = api.post("/invoices", json=ngn_body).get_json()
    assert api.post(f"/invoices/{draft['id']}/payments", json={"amount": "1"}).status_code == 409


def test_clients_crud_and_search(api):
    created = api.post(
        "/clients",
        json={
            "name": "Brightpath Academy",
            "client_type": "corporate",
            "email": "accounts@brightpath.example",
            "phone": "+234 809 876 5432",
        },
    )
    assert created.status_code == 201
    client = created.get_json()
    assert client["phone"] == "+2348098765432"
    api.post("/clients", json={"name": "Kwame Mensah", "email": "kwame@example.com"})
    assert [c["name"] for c in api.get("/clients?q=bright").get_json()["data"]] == ["Brightpath Academy"]
    assert [c["name"] for c in api.get("/clients?q=KWAME@").get_json()["data"]] == ["Kwame Mensah"]
    patched = api.patch(f"/clients/{client['id']}", json={"sms_opt_in": True, "postal_address": "PO Box 1"})
    assert patched.get_json()["sms_opt_in"] is True
    assert api.patch(f"/clients/{client['id']}", json={"client_type": "alien"}).status_code == 422
    assert api.delete(f"/clients/{client['id']}").status_code == 204
    assert api.get(f"/clients/{client['id']}").status_code == 404


def test_client_with_invoices_cannot_be_deleted(api, invoice):
    response = api.delete(f"/clients/{invoice['client']['id']}")
    assert response.status_code == 409 and "archive" in response.get_json()["detail"]


def test_expenses_crud_and_decisions(api, admin_api):
    created = api.post(
        "/expenses",
        json={"title": "Diesel", "category": "Utilities", "amount": "60000.00", "currency": "NGN", "payee": "Total"},
    )
    assert created.status_code == 201
    expense = created.get_json()
    assert expense["status"] == "pending" and expense["amount"] == "60000.00"
    assert api.patch(f"/expenses/{expense['id']}", json={"amount": "65000"}).get_json()["amount"] == "65000.00"
    declined = admin_api.post(f"/expenses/{expense['id']}/decline", json={})
    assert declined.status_code == 422 and "note" in declined.get_json()["errors"]
    approved = admin_api.post(f"/expenses/{expense['id']}/approve", json={"note": "Budgeted"}).get_json()
    assert approved["status"] == "approved" and approved["decision_note"] == "Budgeted"
    assert api.patch(f"/expenses/{expense['id']}", json={"amount": "1"}).status_code == 409
    assert api.delete(f"/expenses/{expense['id']}").status_code == 409
    assert [e["id"] for e in api.get("/expenses?status=approved").get_json()["data"]] == [expense["id"]]
    other = api.post("/expenses", json={"title": "Lunch", "category": "Welfare", "amount": "10"}).get_json()
    assert api.delete(f"/expenses/{other['id']}").status_code == 204


def test_notifications_list_retry_and_cancel(api, invoice, api_app):
    rows = api.get(f"/notifications?invoice_id={invoice['id']}").get_json()["data"]
    assert [(r["kind"], r["state"]) for r in rows] == [("invoice", "queued")]
    row_id = rows[0]["id"]
    assert api.post(f"/notifications/{row_id}/retry", json={}).status_code == 409
    cancelled = api.post(f"/notifications/{row_id}/cancel", json={}).get_json()
    assert cancelled["state"] == "cancelled"
    with api_app.app_context():
        db.session.execute(update(QueuedMessage).values(state="failed", attempts=8, last_error="550 no such user"))
        db.session.commit()
    assert api.get(f"/notifications/{row_id}").get_json()["last_error"] == "550 no such user"
    retried = api.post(f"/notifications/{row_id}/retry", json={}).get_json()
    assert retried["state"] == "queued" and retried["attempts"] == 0
    assert api.get("/notifications?state=queued").get_json()["data"][0]["id"] == row_id
    assert api.get("/notifications?state=lost").status_code == 422
    assert api.get("/notifications/999999").status_code == 404


def test_idempotent_payment_is_recorded_once(api, invoice):
    headers = {"Idempotency-Key": "payment-1"}
    first = api.post(f"/invoices/{invoice['id']}/payments", json={"amount": "100.00"}, headers=headers)
    again = api.post(f"/invoices/{invoice['id']}/payments", json={"amount": "100.00"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert len(api.get(f"/invoices/{invoice['id']}/payments").get_json()["data"]) == 1
    other = api.post(f"/invoices/{invoice['id']}/payments", json={"amount": "200.00"}, headers=headers)
    assert other.status_code == 422 and "Idempotency-Key" in other.get_json()["errors"]


def test_a_payment_keeps_an_internal_note_apart_from_the_note_on_the_receipt(api, invoice):
    body = {"amount": "100.00", "note": "Thank you, Ada", "internal_note": "Paid late; waived the fee"}
    payment = api.post(f"/invoices/{invoice['id']}/payments", json=body).get_json()
    assert (payment["note"], payment["internal_note"]) == ("Thank you, Ada", "Paid late; waived the fee")
    assert api.get(f"/payments/{payment['id']}").get_json()["internal_note"] == "Paid late; waived the fee"
    too_long = api.post(f"/invoices/{invoice['id']}/payments", json={"amount": "1", "internal_note": "x" * 2001})
    assert too_long.status_code == 422


def test_the_openapi_document_describes_both_payment_notes(api):
    schemas = api.get("/openapi.json").get_json()["components"]["schemas"]
    for name in ("PaymentIn", "PaymentOut"):
        properties = schemas[name]["properties"]
        assert "receipt" in properties["note"]["description"]
        assert "staff only" in properties["internal_note"]["description"].lower()
