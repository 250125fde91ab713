"""Quotes over the API (SPEC §13): drafts, numbering at send, the client's answer, expiry, converting once."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from shared.db import db
from shared.models import Activity, QueuedMessage

TODAY = dt.date.today()


@pytest.fixture
def client_id(api) -> int:
    reply = api.post("/clients", json={"name": "Adaeze Okafor", "email": "ada@example.com", "default_currency": "NGN"})
    assert reply.status_code == 201, reply.json
    return reply.json["id"]


@pytest.fixture
def quote_body(client_id) -> dict:
    return {
        "client_id": client_id,
        "currency": "NGN",
        "purchase_order": "PO-778",
        "notes": "Half up front.",
        "discount": {"type": "percent", "value": "10"},
        "items": [{"description": "Consulting", "quantity": "2", "unit_price": "15000.00", "tax_rate": "7.5"}],
    }


def _sent_quote(api, body: dict) -> dict:
    created = api.post("/quotes", json=body)
    assert created.status_code == 201, created.json
    sent = api.post(f"/quotes/{created.json['id']}/send", json={})
    assert sent.status_code == 200, sent.json
    return sent.json


def test_a_new_quote_is_a_draft_with_the_invoice_totals_and_thirty_days_of_validity(api, quote_body):
    reply = api.post("/quotes", json=quote_body)
    assert reply.status_code == 201, reply.json
    quote = reply.json
    assert quote["status"] == "draft"
    assert quote["number"] is None
    assert quote["issue_date"] == TODAY.isoformat()
    assert quote["valid_until"] == (TODAY + dt.timedelta(days=30)).isoformat()
    # SPEC §5.1's worked example: the same calculation as an invoice.
    assert (quote["subtotal"], quote["discount_total"], quote["tax_total"], quote["total"]) == (
        "30000.00",
        "3000.00",
        "2025.00",
        "29025.00",
    )
    assert quote["links"]["public"] is None  # a draft has no client page yet
    assert api.get(f"/quotes/{quote['id']}").json["total"] == "29025.00"


def test_a_draft_is_edited_and_deleted_but_a_sent_quote_is_not(api, quote_body):
    quote = api.post("/quotes", json=quote_body).json
    edited = api.patch(f"/quotes/{quote['id']}", json={"valid_until": (TODAY + dt.timedelta(days=5)).isoformat()})
    assert edited.status_code == 200, edited.json
    assert edited.json["valid_until"] == (TODAY + dt.timedelta(days=5)).isoformat()
    assert edited.json["total"] == "29025.00"
    assert api.delete(f"/quotes/{quote['id']}").status_code == 204
    assert api.get(f"/quotes/{quote['id']}").status_code == 404

    sent = _sent_quote(api, quote_body)
    refused = api.patch(f"/quotes/{sent['id']}", json={"notes": "changed"})
    assert refused.status_code == 409
    assert "only a draft quote" in refused.json["detail"]
    assert api.delete(f"/quotes/{sent['id']}").status_code == 409


def test_sending_numbers_the_quote_gaplessly_and_queues_its_email_with_the_public_link(api, api_app, quote_body):
    first = _sent_quote(api, quote_body)
    second = _sent_quote(api, quote_body)
    assert first["status"] == "sent"
    assert first["number"] == f"QUO-{TODAY.year}-00001"
    assert second["number"] == f"QUO-{TODAY.year}-00002"
    assert first["links"]["public"].startswith("http") and "/q/" in first["links"]["public"]
    assert len(first["links"]["public"].rsplit("/", 1)[1]) >= 43  # 256 random bits, like /i/<token>
    [row] = first["notifications"]
    assert (row["kind"], row["channel"], row["recipient"], row["quote_id"]) == (
        "quote",
        "email",
        "ada@example.com",
        first["id"],
    )


def test_a_quote_past_valid_until_reads_as_expired_and_cannot_be_sent_or_answered(api, quote_body):
    past = (TODAY - dt.timedelta(days=40)).isoformat()
    draft = api.post("/quotes", json={**quote_body, "issue_date": past}).json
    assert draft["valid_until"] == (TODAY - dt.timedelta(days=10)).isoformat()
    refused = api.post(f"/quotes/{draft['id']}/send", json={})
    assert refused.status_code == 409
    assert "change the date" in refused.json["detail"]

    week_ago = (TODAY - dt.timedelta(days=7)).isoformat()
    sent = _sent_quote(api, {**quote_body, "issue_date": week_ago, "valid_until": TODAY.isoformat()})
    assert sent["status"] == "sent"  # the last day still counts
    with api.client.application.app_context():
        from shared.models import Quote

        db.session.get(Quote, sent["id"]).valid_until = TODAY - dt.timedelta(days=1)
        db.session.commit()
    assert api.get(f"/quotes/{sent['id']}").json["status"] == "expired"
    assert [q["id"] for q in api.get("/quotes?status=expired").json["data"]] == [sent["id"]]
    assert api.get("/quotes?status=sent").json["data"] == []
    for path, body in (("send", {}), ("accept", {"name": "Ada"}), ("decline", {}), ("convert", {})):
        reply = api.post(f"/quotes/{sent['id']}/{path}", json=body)
        assert reply.status_code == 409, (path, reply.json)
        assert "expired" in reply.json["detail"]


def test_accepting_records_who_and_converting_makes_the_same_invoice_once(api, api_app, quote_body):
    quote = _sent_quote(api, quote_body)
    accepted = api.post(f"/quotes/{quote['id']}/accept", json={"name": "Adaeze Okafor"})
    assert accepted.status_code == 200, accepted.json
    assert accepted.json["status"] == "accepted"
    assert accepted.json["accepted_by"] == "Adaeze Okafor"
    assert accepted.json["accepted_at"] is not None

    converted = api.post(f"/quotes/{quote['id']}/convert", json={"issue": True, "notify": {"email": False}})
    assert converted.status_code == 201, converted.json
    invoice = converted.json
    assert invoice["status"] == "open" and invoice["number"].startswith("INV-")
    assert invoice["client"]["id"] == quote["client"]["id"]
    for name in ("currency", "purchase_order", "notes", "discount", "subtotal", "discount_total", "tax_total", "total"):
        assert invoice[name] == quote[name], name
    assert [(i["description"], i["quantity"], i["unit_price"], i["tax_rate"]) for i in invoice["items"]] == [
        (i["description"], i["quantity"], i["unit_price"], i["tax_rate"]) for i in quote["items"]
    ]

    again = api.post(f"/quotes/{quote['id']}/convert", json={"issue": True})
    assert again.status_code == 409
    assert invoice["number"] in again.json["detail"]
    after = api.get(f"/quotes/{quote['id']}").json
    assert after["status"] == "invoiced"
    assert after["invoice_id"] == invoice["id"]
    assert after["links"]["invoice"] == f"/api/v1/invoices/{invoice['id']}"
    with api_app.app_context():
        verbs = db.session.scalars(
            select(Activity.verb).where(Activity.subject_type == "quote", Activity.subject_id == quote["id"])
        ).all()
    assert {"created", "sent", "accepted", "converted"} <= set(verbs)


def test_staff_convert_a_sent_quote_to_a_draft_invoice_but_not_a_draft_or_declined_one(api, quote_body):
    draft = api.post("/quotes", json=quote_body).json
    refused = api.post(f"/quotes/{draft['id']}/convert", json={})
    assert refused.status_code == 409
    assert "draft" in refused.json["detail"]

    sent = _sent_quote(api, quote_body)
    reply = api.post(f"/quotes/{sent['id']}/convert", json={"issue": False})
    assert reply.status_code == 201, reply.json
    assert reply.json["status"] == "draft" and reply.json["number"] is None
    assert reply.json["notifications"] == []
    again = api.post(f"/quotes/{sent['id']}/convert", json={"issue": False})
    assert again.status_code == 409
    assert f"draft invoice {reply.json['id']}" in again.json["detail"]

    declined = _sent_quote(api, quote_body)
    answer = api.post(f"/quotes/{declined['id']}/decline", json={"reason": "Too dear"})
    assert answer.status_code == 200
    assert (answer.json["status"], answer.json["declined_reason"]) == ("declined", "Too dear")
    assert api.post(f"/quotes/{declined['id']}/convert", json={}).status_code == 409
    assert api.post(f"/quotes/{declined['id']}/accept", json={"name": "Ada"}).status_code == 409


def test_bad_input_is_refused_with_the_field_and_nothing_changes(api, read_api, quote_body):
    unknown = api.post("/quotes", json={**quote_body, "due_date": "2026-12-01"})
    assert unknown.status_code == 422
    assert "due_date" in unknown.json["errors"]
    backwards = api.post("/quotes", json={**quote_body, "issue_date": "2026-12-10", "valid_until": "2026-12-01"})
    assert backwards.status_code == 422
    assert "valid_until" in backwards.json["errors"]
    no_lines = api.post("/quotes", json={**quote_body, "items": []})
    assert no_lines.status_code == 422 and "items" in no_lines.json["errors"]
    assert read_api.post("/quotes", json=quote_body).status_code == 403
    sent = _sent_quote(api, quote_body)
    nameless = api.post(f"/quotes/{sent['id']}/accept", json={"name": "  "})
    assert nameless.status_code == 422 and "name" in nameless.json["errors"]
    assert api.post(f"/quotes/{sent['id']}/accept", json={}).status_code == 422
    assert api.get(f"/quotes/{sent['id']}").json["status"] == "sent"
    assert api.get("/quotes/999999").status_code == 404
    assert api.get("/quotes?status=nonsense").status_code == 422


def test_a_convert_retried_with_its_idempotency_key_replays_the_same_invoice(api, quote_body):
    quote = _sent_quote(api, quote_body)
    headers = {"Idempotency-Key": "convert-once"}
    first = api.post(f"/quotes/{quote['id']}/convert", json={"issue": False}, headers=headers)
    replay = api.post(f"/quotes/{quote['id']}/convert", json={"issue": False}, headers=headers)
    assert first.status_code == replay.status_code == 201
    assert first.json["id"] == replay.json["id"]


def test_the_quote_pdf_is_served(api, quote_body):
    quote = _sent_quote(api, quote_body)
    reply = api.get(f"/quotes/{quote['id']}/pdf")
    assert reply.status_code == 200
    assert reply.mimetype == "application/pdf"
    assert reply.data.startswith(b"%PDF")


def test_sending_to_a_client_without_email_is_refused_and_takes_no_number(api, api_app, client_id, quote_body):
    other = api.post("/clients", json={"name": "No Mail"}).json
    draft = api.post("/quotes", json={**quote_body, "client_id": other["id"]}).json
    reply = api.post(f"/quotes/{draft['id']}/send", json={})
    assert reply.status_code == 422
    assert "notify.email" in reply.json["errors"]
    assert api.get(f"/quotes/{draft['id']}").json["status"] == "draft"
    by_hand = api.post(f"/quotes/{draft['id']}/send", json={"notify": {"email": False}})
    assert by_hand.status_code == 200
    assert by_hand.json["number"] == f"QUO-{TODAY.year}-00001"
    with api_app.app_context():
        assert db.session.scalars(select(QueuedMessage)).all() == []


def test_a_lines_unit_and_vat_category_survive_the_quote_and_its_invoice(api, quote_body):
    """SPEC §16's line fields are kept by a quote and carried to the invoice it becomes."""
    quote_body["items"] = [
        {"description": "Consulting", "quantity": "2", "unit_price": "15000.00", "tax_rate": "7.5", "unit": "HUR"},
        {
            "description": "Training (exempt)",
            "quantity": "1",
            "unit_price": "5000.00",
            "tax_rate": "0",
            "tax_category": "E",
            "tax_exemption_reason": "Education services",
        },
    ]
    quote = _sent_quote(api, quote_body)
    kept = [(i["unit"], i["tax_category"], i["tax_exemption_reason"]) for i in quote["items"]]
    assert kept == [("HUR", "S", ""), ("C62", "E", "Education services")]
    invoice = api.post(f"/quotes/{quote['id']}/convert", json={"issue": True})
    assert invoice.status_code == 201, invoice.json
    assert [(i["unit"], i["tax_category"], i["tax_exemption_reason"]) for i in invoice.json["items"]] == kept


def test_changing_only_the_notes_keeps_the_lines_unit_and_vat_category(api, quote_body):
    quote_body["items"][0].update(unit="HUR")
    created = api.post("/quotes", json=quote_body)
    assert created.status_code == 201, created.json
    changed = api.patch(f"/quotes/{created.json['id']}", json={"notes": "Updated"})
    assert changed.status_code == 200, changed.json
    assert [(i["unit"], i["tax_category"]) for i in changed.json["items"]] == [("HUR", "S")]
