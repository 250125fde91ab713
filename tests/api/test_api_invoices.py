"""Invoices through the API (SPEC §7): create, defaults, issue, send, void, list."""

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from shared import money
from shared.db import db
from shared.models import Client, Invoice, QueuedMessage


def test_create_invoice_with_inline_client_matches_spec_example(api, ngn_body, api_app):
    response = api.post("/invoices", json=ngn_body)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["number"] == f"INV-{dt.date.today().year}-00001"
    assert body["status"] == "open"
    assert (body["subtotal"], body["discount_total"], body["tax_total"], body["total"]) == (
        "30000.00",
        "3000.00",
        "2025.00",
        "29025.00",
    )
    assert body["amount_paid"] == "0.00" and body["balance_due"] == "29025.00"
    assert body["items"] == [
        {
            "position": 1,
            "description": "Consulting",
            "quantity": "2",
            "unit_price": "15000.00",
            "tax_rate": "7.5",
            "unit": "C62",
            "tax_category": "S",
            "tax_exemption_reason": "",
            "amount": "30000.00",
            "discount": "3000.00",
            "tax": "2025.00",
        }
    ]
    assert body["issue_date"] == dt.date.today().isoformat()
    assert body["due_date"] == (dt.date.today() + dt.timedelta(days=14)).isoformat()
    assert body["purchase_order"] == "PO-778"
    # Default notify: e-mail only, queued in the same transaction.
    assert [(n["kind"], n["channel"], n["state"], n["recipient"]) for n in body["notifications"]] == [
        ("invoice", "email", "queued", "ada@example.com")
    ]
    assert set(body["notifications"][0]) >= {
        "id",
        "kind",
        "channel",
        "recipient",
        "state",
        "attempts",
        "last_error",
        "sent_at",
    }
    assert body["links"]["pdf"] == f"/api/v1/invoices/{body['id']}/pdf"
    assert body["links"]["public"].startswith("http://127.0.0.1:5000/i/")
    assert body["client"]["name"] == "Adaeze Okafor"


def test_json_numbers_are_parsed_without_float(api, ngn_body):
    ngn_body["items"] = [{"description": "Tiny", "quantity": 3, "unit_price": 0.1, "tax_rate": 0}]
    ngn_body["currency"] = "USD"
    body = api.post("/invoices", json=ngn_body).get_json()
    assert body["subtotal"] == "0.30"  # 3 × 0.1 in float would be 0.30000000000000004


def test_inline_client_with_a_known_email_is_reused(api, ngn_body, api_app):
    api.post("/invoices", json=ngn_body)
    ngn_body["client"] = {"name": "Someone Else", "email": "ADA@example.com"}
    second = api.post("/invoices", json=ngn_body).get_json()
    assert second["client"]["name"] == "Adaeze Okafor"
    with api_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Client)) == 1


def test_client_id_and_currency_default_from_the_client(api):
    client = api.post(
        "/clients", json={"name": "Kwame", "email": "k@example.com", "default_currency": "GHS"}
    ).get_json()
    body = api.post(
        "/invoices",
        json={"client_id": client["id"], "items": [{"description": "Fees", "quantity": "1", "unit_price": "10"}]},
    ).get_json()
    assert body["currency"] == "GHS" and body["total"] == "10.00"


def test_draft_without_issue_has_no_number_and_queues_nothing(api, ngn_body):
    ngn_body["issue"] = False
    body = api.post("/invoices", json=ngn_body).get_json()
    assert body["status"] == "draft" and body["number"] is None and body["notifications"] == []
    assert body["links"]["public"] is None


def test_notify_sms_needs_a_phone(api, ngn_body, api_app):
    ngn_body["client"].pop("phone")
    ngn_body["notify"] = {"email": True, "sms": True}
    response = api.post("/invoices", json=ngn_body)
    assert response.status_code == 422
    assert "notify.sms" in response.get_json()["errors"]
    with api_app.app_context():  # nothing half-written: no client, no invoice, no queue row
        for model in (Client, Invoice, QueuedMessage):
            assert db.session.scalar(select(func.count()).select_from(model)) == 0


def test_notify_sms_and_email(api, ngn_body):
    ngn_body["notify"] = {"email": True, "sms": True}
    body = api.post("/invoices", json=ngn_body).get_json()
    assert sorted(n["channel"] for n in body["notifications"]) == ["email", "sms"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"colour": "red"}, "colour"),
        ({"items": []}, "items"),
        ({"items": [{"description": "x", "quantity": "-1", "unit_price": "1"}]}, "items.0.quantity"),
        ({"items": [{"description": "x", "quantity": "1", "unit_price": "abc"}]}, "items.0.unit_price"),
        ({"items": [{"description": "x", "quantity": "1", "unit_price": "1", "extra": 1}]}, "items.0.extra"),
        ({"items": [{"quantity": "1", "unit_price": "1"}]}, "items.0.description"),
        ({"currency": "XXX1"}, "currency"),
        ({"issue_date": "tomorrow"}, "issue_date"),
        ({"discount": {"type": "fixed", "value": "0.001"}}, "discount.value"),
        ({"client": {"name": "", "email": "x@example.com"}}, "client.name"),
        ({"client": {"name": "A", "email": "bad"}}, "client.email"),
        ({"client": {"name": "A", "wings": 2}}, "client.wings"),
        ({"issue": "yes"}, "issue"),
        ({"notify": {"email": "no"}}, "notify.email"),
    ],
)
def test_bad_invoices_are_422_naming_the_field(api, ngn_body, change, field, api_app):
    ngn_body.update(change)
    response = api.post("/invoices", json=ngn_body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"], response.get_json()
    with api_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Invoice)) == 0


def test_client_and_client_id_together_are_refused(api, ngn_body):
    ngn_body["client_id"] = 1
    assert api.post("/invoices", json=ngn_body).status_code == 422


@pytest.mark.parametrize(
    ("currency", "items", "discount", "expected"),
    [
        ("JPY", [("1.5", "333", "10")], None, ("500", "0", "50", "550")),
        ("KWD", [("3", "0.3335", "0")], None, ("1.001", "0.000", "0.000", "1.001")),
        ("USD", [("1", "1.00", "0")] * 3, {"type": "fixed", "value": "0.10"}, ("3.00", "0.10", "0.00", "2.90")),
        ("USD", [("1", "0.10", "5")] * 3, None, ("0.30", "0.00", "0.03", "0.33")),
        (
            "NGN",
            [("2", "15000.00", "7.5")],
            {"type": "percent", "value": "10"},
            ("30000.00", "3000.00", "2025.00", "29025.00"),
        ),
    ],
)
def test_totals_equal_the_money_module(api, currency, items, discount, expected):
    body = {
        "client": {"name": "Money", "email": "m@example.com"},
        "currency": currency,
        "items": [
            {"description": f"L{i}", "quantity": q, "unit_price": p, "tax_rate": r} for i, (q, p, r) in enumerate(items)
        ],
        "notify": {"email": False},
    }
    if discount:
        body["discount"] = discount
    got = api.post("/invoices", json=body).get_json()
    assert (got["subtotal"], got["discount_total"], got["tax_total"], got["total"]) == expected
    totals = money.compute_totals(
        [money.LineInput(Decimal(q), Decimal(p), Decimal(r)) for q, p, r in items],
        currency,
        money.Discount(discount["type"], Decimal(discount["value"])) if discount else None,
    )
    assert got["total"] == money.format_amount(totals.total, currency)
    assert [i["discount"] for i in got["items"]] == [
        money.format_amount(line.discount, currency) for line in totals.lines
    ]


def test_draft_edit_issue_send_and_void(api, ngn_body):
    ngn_body["issue"] = False
    draft = api.post("/invoices", json=ngn_body).get_json()
    edited = api.patch(f"/invoices/{draft['id']}", json={"notes": "Thanks!", "discount": None}).get_json()
    assert edited["notes"] == "Thanks!" and edited["total"] == "32250.00"
    issued = api.post(f"/invoices/{draft['id']}/issue", json={"notify": {"email": True}})
    assert issued.status_code == 200 and issued.get_json()["status"] == "open"
    conflict = api.patch(f"/invoices/{draft['id']}", json={"notes": "late"})
    assert conflict.status_code == 409 and conflict.mimetype == "application/problem+json"
    assert api.delete(f"/invoices/{draft['id']}").status_code == 409
    sent = api.post(f"/invoices/{draft['id']}/send", json={"notify": {"email": True, "sms": True}})
    assert sent.status_code == 202 and len(sent.get_json()["notifications"]) == 3
    voided = api.post(f"/invoices/{draft['id']}/void", json={"reason": "Duplicate"}).get_json()
    assert voided["status"] == "void"
    assert {n["state"] for n in voided["notifications"]} == {"cancelled"}
    assert api.post(f"/invoices/{draft['id']}/void", json={}).status_code == 409


@pytest.mark.parametrize("key", [None, "issue-once"])
def test_issuing_a_draft_answers_with_its_real_number_and_stores_that_answer(api, ngn_body, key):
    """The number is taken in the commit; the answer (and its stored copy) is made after it is taken."""
    ngn_body["issue"] = False
    drafts = [api.post("/invoices", json=ngn_body).get_json() for _ in range(2)]
    headers = {"Idempotency-Key": key} if key else {}
    first = api.post(f"/invoices/{drafts[1]['id']}/issue", json={}, headers=headers)
    assert first.status_code == 200, first.get_json()
    number = first.get_json()["number"]
    assert number == f"INV-{dt.date.today().year}-00001"
    assert api.get(f"/invoices/{drafts[1]['id']}").get_json()["number"] == number
    if key:
        again = api.post(f"/invoices/{drafts[1]['id']}/issue", json={}, headers=headers)
        assert again.headers["Idempotent-Replayed"] == "true" and again.get_data() == first.get_data()
    second = api.post(f"/invoices/{drafts[0]['id']}/issue", json={}).get_json()
    assert second["number"] == f"INV-{dt.date.today().year}-00002"


def test_delete_draft(api, ngn_body):
    ngn_body["issue"] = False
    draft = api.post("/invoices", json=ngn_body).get_json()
    assert api.delete(f"/invoices/{draft['id']}").status_code == 204
    assert api.get(f"/invoices/{draft['id']}").status_code == 404


def _make(api, body, days_ago=0, terms=14, issue=True):
    issue_date = dt.date.today() - dt.timedelta(days=days_ago)
    return api.post(
        "/invoices",
        json={
            **body,
            "issue": issue,
            "notify": {"email": False},
            "issue_date": issue_date.isoformat(),
            "due_date": (issue_date + dt.timedelta(days=terms)).isoformat(),
        },
    ).get_json()


def test_list_filters_and_cursor_pagination(api, ngn_body):
    ngn_body.pop("purchase_order")
    old = _make(api, ngn_body, days_ago=60)
    recent = _make(api, ngn_body, days_ago=1)
    draft = _make(api, ngn_body, issue=False)
    other_client = api.post("/clients", json={"name": "Other", "email": "o@example.com"}).get_json()
    theirs = _make(api, {**{k: v for k, v in ngn_body.items() if k != "client"}, "client_id": other_client["id"]})

    def ids(query):
        response = api.get(f"/invoices{query}")
        assert response.status_code == 200, response.get_json()
        return [row["id"] for row in response.get_json()["data"]]

    assert ids("") == [theirs["id"], draft["id"], recent["id"], old["id"]]
    assert ids("?status=draft") == [draft["id"]]
    assert ids("?overdue=true") == [old["id"]]
    assert old["id"] not in ids("?overdue=false")
    assert ids(f"?client_id={other_client['id']}") == [theirs["id"]]
    since = (dt.date.today() - dt.timedelta(days=2)).isoformat()
    assert ids(f"?issued_from={since}") == [theirs["id"], recent["id"]]
    assert ids(f"?issued_to={since}") == [old["id"]]

    first = api.get("/invoices?limit=3").get_json()
    assert len(first["data"]) == 3 and first["next_cursor"]
    second = api.get(f"/invoices?limit=3&cursor={first['next_cursor']}").get_json()
    assert [row["id"] for row in second["data"]] == [old["id"]] and second["next_cursor"] is None


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?limit=201", "limit"),
        ("?limit=abc", "limit"),
        ("?status=lost", "status"),
        ("?overdue=maybe", "overdue"),
        ("?issued_from=yesterday", "issued_from"),
        ("?cursor=!!!", "cursor"),
        ("?client_id=-1", "client_id"),
    ],
)
def test_bad_list_queries_are_422(api, query, field):
    response = api.get(f"/invoices{query}")
    assert response.status_code == 422
    assert field in response.get_json()["errors"]
