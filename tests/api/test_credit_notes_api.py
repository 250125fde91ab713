"""Credit notes, client credit and refunds through the API (SPEC §11), on SQLite and Postgres."""

from __future__ import annotations

import datetime as dt

import pytest

from shared.db import db
from shared.inputs import SettingsChanges
from shared.services import Actor
from shared.services.settings import update_settings

TODAY = dt.date.today()


def _set_rounding(api_app, mode: str) -> None:
    with api_app.app_context():
        update_settings(db.session, actor=Actor.system("tests"), data=SettingsChanges(tax_rounding=mode))
        db.session.remove()


def _invoice(api, currency="NGN", items=None, discount=None, email="cn@example.com", **extra) -> dict:
    body = {
        "client": {"name": "Credit Client", "email": email},
        "currency": currency,
        "items": items or [{"description": "Consulting", "quantity": "2", "unit_price": "15000.00", "tax_rate": "7.5"}],
        "notify": {"email": False},
        **extra,
    }
    if discount:
        body["discount"] = discount
    response = api.post("/invoices", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _credit(api, invoice_id: int, **body):
    body.setdefault("reason", "Corrected")
    body.setdefault("notify", {"email": False})
    return api.post(f"/invoices/{invoice_id}/credit-notes", json=body)


def _state(api, invoice_id: int) -> tuple:
    invoice = api.get(f"/invoices/{invoice_id}").get_json()
    return invoice["status"], invoice["amount_paid"], invoice["amount_credited"], invoice["balance_due"]


def _credit_of(api, client_id: int) -> list:
    return api.get(f"/clients/{client_id}").get_json()["credit"]


MIXED = {
    "NGN": [
        {"description": "Consulting", "quantity": "2", "unit_price": "15000.00", "tax_rate": "7.5"},
        {"description": "Support", "quantity": "3", "unit_price": "333.33", "tax_rate": "5"},
        {"description": "Travel", "quantity": "1", "unit_price": "1000.01", "tax_rate": "0"},
    ],
    "JPY": [
        {"description": "Design", "quantity": "1.5", "unit_price": "333", "tax_rate": "10"},
        {"description": "Print", "quantity": "7", "unit_price": "121", "tax_rate": "8"},
        {"description": "Fee", "quantity": "1", "unit_price": "99", "tax_rate": "10"},
    ],
    "KWD": [
        {"description": "Hosting", "quantity": "1", "unit_price": "10.105", "tax_rate": "5"},
        {"description": "Domain", "quantity": "3", "unit_price": "0.333", "tax_rate": "5"},
        {"description": "Setup", "quantity": "1", "unit_price": "7.777", "tax_rate": "15"},
    ],
}
FIXED = {"NGN": "1234.57", "JPY": "77", "KWD": "1.001"}


@pytest.mark.parametrize("rounding", ["line", "document"])
@pytest.mark.parametrize("currency", ["NGN", "JPY", "KWD"])
@pytest.mark.parametrize("discount_kind", ["percent", "fixed"])
def test_a_full_credit_note_equals_the_invoice_total(api, api_app, currency, rounding, discount_kind):
    _set_rounding(api_app, rounding)
    discount = (
        {"type": "percent", "value": "12.5"}
        if discount_kind == "percent"
        else {"type": "fixed", "value": FIXED[currency]}
    )
    invoice = _invoice(api, currency, MIXED[currency], discount)
    assert invoice["tax_rounding"] == rounding
    _set_rounding(api_app, "document" if rounding == "line" else "line")  # the invoice's frozen mode wins

    response = _credit(api, invoice["id"], full=True, reason="Order cancelled")
    assert response.status_code == 201, response.get_json()
    note = response.get_json()
    assert note["total"] == invoice["total"]
    assert note["tax_total"] == invoice["tax_total"]
    assert note["applied"] == invoice["total"]
    assert note["to_credit"] == money_zero(currency)
    assert [item["quantity"] for item in note["items"]] == ["1", "1", "1"]
    assert note["invoice"]["status"] == "credited"
    assert note["invoice"]["balance_due"] == money_zero(currency)
    assert note["number"].startswith(f"CN-{TODAY.year}-")
    assert _state(api, invoice["id"])[0] == "credited"


def money_zero(currency: str) -> str:
    return {"NGN": "0.00", "JPY": "0", "KWD": "0.000", "USD": "0.00"}[currency]


def test_partial_credits_past_the_total_are_refused_naming_what_is_left(api):
    invoice = _invoice(api)  # 2 x 15000 at 7.5 %: total 32250.00
    assert invoice["total"] == "32250.00"
    first = _credit(
        api,
        invoice["id"],
        items=[{"description": "One hour", "quantity": "1", "unit_price": "20000", "tax_rate": "7.5"}],
    )
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["total"] == "21500.00"
    assert first.get_json()["invoice"]["status"] == "open"
    assert _state(api, invoice["id"]) == ("open", "0.00", "21500.00", "10750.00")

    too_much = _credit(
        api,
        invoice["id"],
        items=[{"description": "More", "quantity": "1", "unit_price": "10000.01", "tax_rate": "7.5"}],
    )
    assert too_much.status_code == 409
    assert "NGN 10,750.00 still creditable" in too_much.get_json()["detail"]
    again_full = _credit(api, invoice["id"], full=True)
    assert again_full.status_code == 409
    assert _state(api, invoice["id"]) == ("open", "0.00", "21500.00", "10750.00")

    rest = _credit(
        api, invoice["id"], items=[{"description": "Rest", "quantity": "1", "unit_price": "10000", "tax_rate": "7.5"}]
    )
    assert rest.status_code == 201
    assert _state(api, invoice["id"]) == ("credited", "0.00", "32250.00", "0.00")
    assert api.post(f"/invoices/{invoice['id']}/void", json={}).status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"full": True, "reason": ""}, "reason"),
        ({"full": True, "reason": "x" * 501}, "reason"),
        ({"reason": "no items"}, "items"),
        (
            {"reason": "both", "full": True, "items": [{"description": "a", "quantity": "1", "unit_price": "1"}]},
            "items",
        ),
        ({"reason": "q", "items": [{"description": "a", "quantity": "0", "unit_price": "1"}]}, "items.0.quantity"),
        ({"reason": "x", "full": True, "tip": 1}, "tip"),
        ({"reason": "x", "full": True, "issue_date": "2000-01-01"}, "issue_date"),
    ],
)
def test_bad_credit_notes_are_422_and_change_nothing(api, body, field):
    invoice = _invoice(api)
    body.setdefault("notify", {"email": False})
    response = api.post(f"/invoices/{invoice['id']}/credit-notes", json=body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]
    assert api.get(f"/credit-notes?invoice_id={invoice['id']}").get_json()["data"] == []


def test_drafts_void_and_zero_invoices_take_no_credit_note(api):
    draft = _invoice(api, issue=False)
    assert _credit(api, draft["id"], full=True).status_code == 409
    void = _invoice(api)
    assert api.post(f"/invoices/{void['id']}/void", json={}).status_code == 200
    assert _credit(api, void["id"], full=True).status_code == 409
    zero = _invoice(api, items=[{"description": "Free", "quantity": "1", "unit_price": "0"}])
    assert _credit(api, zero["id"], full=True).status_code == 409
    assert api.post("/invoices/999999/credit-notes", json={"reason": "x", "full": True}).status_code == 404


def test_excess_goes_to_client_credit_which_is_applied_and_refunded_never_beyond_it(api):
    usd = [{"description": "Work", "quantity": "1", "unit_price": "100.00", "tax_rate": "0"}]
    paid = _invoice(api, "USD", usd)
    client_id = paid["client"]["id"]
    assert api.post(f"/invoices/{paid['id']}/payments", json={"amount": "60.00"}).status_code == 201
    assert _state(api, paid["id"]) == ("partially_paid", "60.00", "0.00", "40.00")

    note = _credit(api, paid["id"], full=True).get_json()
    assert (note["applied"], note["to_credit"]) == ("40.00", "60.00")
    assert _state(api, paid["id"]) == ("paid", "60.00", "40.00", "0.00")
    assert _credit_of(api, client_id) == [{"currency": "USD", "amount": "60.00"}]

    # Another invoice of the same client and currency takes the credit, up to the smaller balance.
    other = _invoice(api, "USD", [{"description": "More", "quantity": "1", "unit_price": "50.00", "tax_rate": "0"}])
    assert other["client"]["id"] == client_id
    assert api.post(f"/invoices/{other['id']}/apply-credit", json={"amount": "50.01"}).status_code == 409
    applied = api.post(f"/invoices/{other['id']}/apply-credit", json={"amount": "20.00"})
    assert applied.status_code == 201, applied.get_json()
    assert (applied.get_json()["status"], applied.get_json()["amount_credited"], applied.get_json()["balance_due"]) == (
        "open",
        "20.00",
        "30.00",
    )
    assert _credit_of(api, client_id) == [{"currency": "USD", "amount": "40.00"}]
    assert api.post(f"/invoices/{other['id']}/apply-credit", json={"amount": "30.00"}).status_code == 201
    assert _state(api, other["id"]) == ("credited", "0.00", "50.00", "0.00")
    assert api.post(f"/invoices/{other['id']}/apply-credit", json={"amount": "1.00"}).status_code == 409

    # An invoice in a currency without credit: 409.
    eur = _invoice(api, "EUR", [{"description": "Euro", "quantity": "1", "unit_price": "5.00"}])
    refused = api.post(f"/invoices/{eur['id']}/apply-credit", json={"amount": "1.00"})
    assert refused.status_code == 409 and "no credit in EUR" in refused.get_json()["detail"]

    # Refunds: never beyond the credit.
    over = api.post(f"/clients/{client_id}/refunds", json={"currency": "USD", "amount": "10.01", "method": "cash"})
    assert over.status_code == 409
    refund = api.post(
        f"/clients/{client_id}/refunds",
        json={"currency": "USD", "amount": "10.00", "method": "bank_transfer", "reference": "RF1", "note": "Back"},
    )
    assert refund.status_code == 201, refund.get_json()
    body = refund.get_json()
    assert (body["amount"], body["currency"], body["method"], body["refunded_on"]) == (
        "10.00",
        "USD",
        "bank_transfer",
        TODAY.isoformat(),
    )
    assert body["client"]["id"] == client_id
    assert _credit_of(api, client_id) == []
    assert api.post(f"/clients/{client_id}/refunds", json={"currency": "USD", "amount": "0.01"}).status_code == 409
    bad = api.post(f"/clients/{client_id}/refunds", json={"currency": "USD", "amount": "1", "extra": 1})
    assert bad.status_code == 422

    # A payment voided later reopens the balance and leaves the client credit as it is.
    payment_id = api.get(f"/invoices/{paid['id']}/payments").get_json()["data"][0]["id"]
    assert api.post(f"/payments/{payment_id}/void", json={}).status_code == 200
    assert _state(api, paid["id"]) == ("open", "0.00", "40.00", "60.00")
    assert _credit_of(api, client_id) == []
    # ... and the invoice takes a payment for what is owed again, not more.
    assert api.post(f"/invoices/{paid['id']}/payments", json={"amount": "60.01"}).status_code == 409
    assert api.post(f"/invoices/{paid['id']}/payments", json={"amount": "60.00"}).status_code == 201
    assert _state(api, paid["id"]) == ("paid", "60.00", "40.00", "0.00")


def test_credit_note_on_a_paid_invoice_puts_it_all_into_credit(api):
    invoice = _invoice(api, "USD", [{"description": "Work", "quantity": "1", "unit_price": "80.00", "tax_rate": "0"}])
    assert api.post(f"/invoices/{invoice['id']}/payments", json={"amount": "80.00"}).status_code == 201
    note = _credit(api, invoice["id"], items=[{"description": "Refund part", "quantity": "1", "unit_price": "30"}])
    assert note.status_code == 201
    assert (note.get_json()["applied"], note.get_json()["to_credit"]) == ("0.00", "30.00")
    assert _state(api, invoice["id"]) == ("paid", "80.00", "0.00", "0.00")
    assert _credit_of(api, invoice["client"]["id"]) == [{"currency": "USD", "amount": "30.00"}]


def test_credit_notes_are_listed_fetched_and_rendered(api):
    invoice = _invoice(api)
    note = _credit(api, invoice["id"], full=True, notify={"email": True}).get_json()
    assert [(n["kind"], n["channel"], n["recipient"]) for n in note["notifications"]] == [
        ("credit_note", "email", "cn@example.com")
    ]
    assert note["links"]["pdf"] == f"/api/v1/credit-notes/{note['id']}/pdf"
    assert note["client"] == {"id": invoice["client"]["id"], "name": "Credit Client"}
    assert api.get(f"/credit-notes/{note['id']}").get_json()["number"] == note["number"]
    listed = api.get(f"/credit-notes?client_id={invoice['client']['id']}").get_json()
    assert [n["id"] for n in listed["data"]] == [note["id"]]
    assert api.get("/credit-notes?invoice_id=999999").get_json()["data"] == []
    assert api.get("/credit-notes/999999").status_code == 404
    pdf = api.get(f"/credit-notes/{note['id']}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_credit_note_post_is_idempotent(api):
    invoice = _invoice(api)
    headers = {"Idempotency-Key": "cn-1"}
    body = {"reason": "Twice?", "full": True, "notify": {"email": False}}
    first = api.post(f"/invoices/{invoice['id']}/credit-notes", json=body, headers=headers)
    again = api.post(f"/invoices/{invoice['id']}/credit-notes", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.get_json()["id"] == again.get_json()["id"]
    assert len(api.get(f"/credit-notes?invoice_id={invoice['id']}").get_json()["data"]) == 1
