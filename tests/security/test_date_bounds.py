"""Issue 12 item 6 (dates at the edges) and item 14 (dates parsed strictly).

``to=9999-12-31`` or ``from=0999-01-01`` on the reports page and its CSV files,
and an issue date near 9999 plus payment terms, overflowed Python's date range
(a 500). List filters took ``20260101`` and ``2026-W01-1`` while saying
YYYY-MM-DD. SPEC §5: dates are ISO ``YYYY-MM-DD``, strictly, between
1900-01-01 and 2999-12-31; one parser (``shared.parsing.to_date``)
serves every door.
"""

import datetime as dt

import pytest
from sqlalchemy import func, select

from shared.db import db
from shared.errors import ValidationFailed
from shared.models import Client, Invoice
from shared.parsing import to_date

NOT_STRICT = [
    "20260101",
    "2026-W01-1",
    "2026-001",
    "2026-1-1",
    "２０２６-０１-０１",
    "٢٠٢٦-٠١-٠١",
    "2026-01-01T00:00",
    "",
]
OUT_OF_RANGE = ["9999-12-31", "0999-01-01", "0001-01-01", "1899-12-31", "3000-01-01"]


@pytest.mark.parametrize("raw", NOT_STRICT)
def test_only_the_strict_iso_form_is_a_date(raw):
    with pytest.raises(ValidationFailed) as refused:
        to_date(raw, "issue_date")
    assert refused.value.errors == {"issue_date": ["must be a date in the form YYYY-MM-DD"]}


@pytest.mark.parametrize("raw", OUT_OF_RANGE)
def test_dates_outside_1900_to_2999_are_refused_with_the_range(raw):
    with pytest.raises(ValidationFailed) as refused:
        to_date(raw, "paid_on")
    assert refused.value.errors == {"paid_on": ["must be between 1900-01-01 and 2999-12-31"]}


def test_the_edges_of_the_range_are_dates():
    assert to_date("1900-01-01", "d") == dt.date(1900, 1, 1)
    assert to_date(" 2999-12-31 ", "d") == dt.date(2999, 12, 31)
    with pytest.raises(ValidationFailed):
        to_date(dt.date(9999, 12, 31), "d")


REPORT_URLS = [
    "/admin/reports?to=9999-12-31",
    "/admin/reports?from=9990-01-01&to=9999-12-31",
    "/admin/reports?from=0999-01-01",
    "/admin/reports?from=0999-01-01&to=1000-01-01",
    "/admin/reports?from=20260101",
    *(f"/admin/reports/{name}.csv?from=9990-01-01&to=9999-12-31" for name in ("income-statement", "tax-by-rate")),
    *(f"/admin/reports/{name}.csv?from=0999-01-01&to=1000-01-01" for name in ("payments-by-method", "aging")),
]


def test_report_dates_at_the_edges_fall_back_with_a_message(admin):
    for url in REPORT_URLS:
        response = admin.get(url)
        assert response.status_code == 200, (url, response.status_code)
        if not url.split("?")[0].endswith(".csv"):
            assert "showing the last 12 months instead" in response.get_data(as_text=True), url


def test_invoice_list_filters_take_only_strict_dates(admin, api_app, keys):
    for raw in ("20260101", "2026-W01-1", "9999-12-31"):
        page = admin.get(f"/admin/invoices?issued_from={raw}", follow_redirects=True).get_data(as_text=True)
        assert "Ignored the issued from filter" in page, raw
        response = api_app.test_client().get(
            f"/api/v1/invoices?issued_to={raw}", headers={"Authorization": f"Bearer {keys['read']}"}
        )
        assert response.status_code == 422, raw
        assert "issued_to" in response.get_json()["errors"]


def _count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_api_refuses_an_issue_date_near_9999_and_a_due_date_past_2999(api_app, keys):
    client = api_app.test_client()
    auth = {"Authorization": f"Bearer {keys['write']}"}
    body = {
        "client": {"name": "Ada", "email": "ada@example.com"},
        "currency": "USD",
        "items": [{"description": "Work", "quantity": "1", "unit_price": "10.00"}],
    }
    for dates, field in [
        ({"issue_date": "9999-12-30"}, "issue_date"),
        ({"issue_date": "9999-12-31", "due_date": "9999-12-31"}, "issue_date"),
        ({"issue_date": "2999-12-30"}, "due_date"),  # + 14 days of payment terms
        ({"issue_date": "1899-12-31", "due_date": "1900-01-30"}, "issue_date"),
    ]:
        response = client.post("/api/v1/invoices", json={**body, **dates}, headers=auth)
        assert response.status_code == 422, (dates, response.get_data(as_text=True)[:300])
        assert field in response.get_json()["errors"], dates
    assert _count(api_app, Invoice) == 0
    ok = client.post("/api/v1/invoices", json={**body, "issue_date": "2999-12-01", "issue": False}, headers=auth)
    assert ok.status_code == 201, ok.get_data(as_text=True)


def test_api_refuses_payment_and_expense_dates_out_of_range(api_app, keys):
    client = api_app.test_client()
    auth = {"Authorization": f"Bearer {keys['write']}"}
    expense = {"title": "Toner", "category": "Supplies", "amount": "10.00", "expense_date": "9999-12-31"}
    response = client.post("/api/v1/expenses", json=expense, headers=auth)
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"expense_date": ["must be between 1900-01-01 and 2999-12-31"]}


def test_admin_refuses_an_issue_date_near_9999_on_the_form(admin, admin_app):
    admin.post_form("/admin/clients/new", {"name": "Ada", "client_type": "individual"})
    with admin_app.app_context():
        client_id = db.session.scalar(select(Client.id))
    for issue_date in ("9999-12-30", "2999-12-30"):
        response = admin.post_form(
            "/admin/invoices/new",
            {
                "client_id": str(client_id),
                "currency": "USD",
                "issue_date": issue_date,
                "lines-0-description": "Work",
                "lines-0-quantity": "1",
                "lines-0-unit_price": "10",
                "lines-0-tax_rate": "0",
            },
        )
        assert response.status_code == 200, issue_date
        assert "2999-12-31" in response.get_data(as_text=True), issue_date
    assert _count(admin_app, Invoice) == 0
