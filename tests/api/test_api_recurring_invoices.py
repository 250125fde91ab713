"""``/api/v1/recurring-invoices`` (SPEC §12): create, list, get, update, delete while unused, pause, resume."""

from __future__ import annotations

import datetime as dt

import pytest

from shared.actors import Actor
from shared.db import db
from shared.services.recurring import make_due_runs

pytestmark = pytest.mark.backends("sqlite")

TODAY = dt.date.today()


@pytest.fixture
def client_id(api):
    return api.post("/clients", json={"name": "Kemi Adeyemi", "email": "kemi@example.com"}).get_json()["id"]


def body(client_id: int, **fields) -> dict:
    data = {
        "client_id": client_id,
        "currency": "NGN",
        "items": [{"description": "School fees", "quantity": "1", "unit_price": "150000.00", "tax_rate": "0"}],
        "interval": "month",
        "start_date": TODAY.isoformat(),
    }
    data.update(fields)
    return data


def test_create_get_list_and_the_invoices_it_makes(api, api_app, client_id):
    response = api.post("/recurring-invoices", json=body(client_id, max_runs=12), headers={"Idempotency-Key": "r-1"})
    assert response.status_code == 201, response.get_json()
    made = response.get_json()
    assert made["status"] == "active" and made["runs"] == 0 and made["last_invoice"] is None
    assert made["next_run_on"] == TODAY.isoformat() and made["upcoming_runs"][0] == TODAY.isoformat()
    assert len(made["upcoming_runs"]) == 5
    assert (made["total"], made["mode"], made["interval_count"], made["max_runs"]) == ("150000.00", "send", 1, 12)
    assert made["payment_terms_days"] == 14  # the company's terms
    replay = api.post("/recurring-invoices", json=body(client_id, max_runs=12), headers={"Idempotency-Key": "r-1"})
    assert replay.get_json()["id"] == made["id"]
    assert [t["id"] for t in api.get("/recurring-invoices").get_json()["data"]] == [made["id"]]

    with api_app.app_context():
        assert make_due_runs(db.session, actor=Actor.worker("tests")) == 1
        db.session.remove()
    again = api.get(f"/recurring-invoices/{made['id']}").get_json()
    assert again["runs"] == 1 and again["last_invoice"]["issue_date"] == TODAY.isoformat()
    invoice = api.get(f"/invoices/{again['last_invoice']['id']}").get_json()
    assert invoice["recurring_invoice_id"] == made["id"]
    assert invoice["due_date"] == (TODAY + dt.timedelta(days=14)).isoformat()
    assert [(n["kind"], n["channel"]) for n in invoice["notifications"]] == [("invoice", "email")]
    assert api.delete(f"/recurring-invoices/{made['id']}").status_code == 409


def test_update_pause_resume_and_delete(api, client_id):
    made = api.post("/recurring-invoices", json=body(client_id, start_date="2099-01-31")).get_json()
    changed = api.patch(f"/recurring-invoices/{made['id']}", json={"interval_count": 3, "mode": "draft"})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["upcoming_runs"][:3] == ["2099-01-31", "2099-04-30", "2099-07-31"]
    assert changed.get_json()["mode"] == "draft"
    paused = api.post(f"/recurring-invoices/{made['id']}/pause")
    assert paused.status_code == 200 and paused.get_json()["status"] == "paused"
    assert api.post(f"/recurring-invoices/{made['id']}/pause").status_code == 409
    assert [t["id"] for t in api.get("/recurring-invoices?status=paused").get_json()["data"]] == [made["id"]]
    resumed = api.post(f"/recurring-invoices/{made['id']}/resume")
    assert resumed.status_code == 200 and resumed.get_json()["status"] == "active"
    assert api.delete(f"/recurring-invoices/{made['id']}").status_code == 204
    assert api.get(f"/recurring-invoices/{made['id']}").status_code == 404


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"interval": "fortnight"}, "interval"),
        ({"interval_count": 0}, "interval_count"),
        ({"interval_count": 367}, "interval_count"),
        ({"start_date": "2026-02-30"}, "start_date"),
        ({"max_runs": 0}, "max_runs"),
        ({"mode": "fax"}, "mode"),
        ({"backfill": "yes"}, "backfill"),
        ({"every": "month"}, "every"),
        ({"items": []}, "items"),
    ],
)
def test_bad_bodies_are_422_naming_the_field(api, client_id, fields, path):
    response = api.post("/recurring-invoices", json=body(client_id, **fields))
    assert response.status_code == 422
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert path in response.get_json()["errors"], response.get_json()
    assert api.get("/recurring-invoices").get_json()["data"] == []


def test_a_read_key_cannot_create(read_api, client_id):
    assert read_api.post("/recurring-invoices", json=body(client_id)).status_code == 403
