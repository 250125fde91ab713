"""Issue 12 item 5: a NUL byte in a search or sign-in field was a 500 on Postgres.

PostgreSQL text cannot hold NUL (psycopg refuses the query), so a NUL that
reaches a query is a 500. The class is closed at the doors, before any query:
the API refuses NUL in every query parameter and every JSON string (and key)
with a 422 naming the field; the admin ignores NUL in query strings (searches
and filters) and refuses it in every form field with a form error.
"""

import pytest
from sqlalchemy import func, select

from shared.db import db
from shared.models import Client

API_QUERIES = [
    "/clients?q=%00",
    "/clients?q=ada%00",
    "/invoices?status=%00",
    "/invoices?issued_from=2026-01-01%00",
    "/invoices?cursor=%00",
    "/payments?limit=5%00",
    "/notifications?state=%00",
    "/expenses?anything=%00",
]


def test_api_refuses_nul_in_any_query_parameter_with_a_422(api_app, keys):
    client = api_app.test_client()
    for query in API_QUERIES:
        response = client.get(f"/api/v1{query}", headers={"Authorization": f"Bearer {keys['read']}"})
        assert response.status_code == 422, (query, response.get_data(as_text=True)[:300])
        assert response.mimetype == "application/problem+json"
        name = query.split("?")[1].split("=")[0]
        assert response.get_json()["errors"] == {name: ["must not contain NUL characters"]}, query


API_BODIES = [
    ("/clients", {"name": "Ada\x00", "email": "ada@example.com"}, "name"),
    ("/clients", {"name": "Ada", "email": "a\x00@x.com"}, "email"),
    ("/clients", {"name": "Ada", "phone": "+234\x00"}, "phone"),
    ("/clients", {"name": "Ada", "default_currency": "US\x00"}, "default_currency"),
    ("/clients", {"name": "Ada", "na\x00me": "x"}, "na\\u0000me"),
    (
        "/invoices",
        {
            "client": {"name": "Ada", "email": "ada@example.com"},
            "items": [{"description": "Work\x00", "quantity": "1", "unit_price": "10"}],
        },
        "items.0.description",
    ),
    ("/invoices", {"client": {"name": "Ada\x00"}, "items": []}, "client.name"),
    ("/expenses", {"title": "Toner", "category": "Supplies", "amount": "1\x00"}, "amount"),
]


def test_api_refuses_nul_in_any_json_string_or_key_and_creates_nothing(api_app, keys):
    client = api_app.test_client()
    for path, body, field in API_BODIES:
        response = client.post(f"/api/v1{path}", json=body, headers={"Authorization": f"Bearer {keys['write']}"})
        assert response.status_code == 422, (path, body, response.get_data(as_text=True)[:300])
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["errors"] == {field: ["must not contain NUL characters"]}, body
    with api_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Client)) == 0


def test_api_patch_with_nul_is_refused(api_app, keys):
    client = api_app.test_client()
    auth = {"Authorization": f"Bearer {keys['write']}"}
    made = client.post("/api/v1/clients", json={"name": "Ada"}, headers=auth).get_json()
    response = client.patch(f"/api/v1/clients/{made['id']}", json={"name": "A\x00"}, headers=auth)
    assert response.status_code == 422
    assert client.get(f"/api/v1/clients/{made['id']}", headers=auth).get_json()["name"] == "Ada"


ADMIN_QUERIES = [
    "/admin/clients?q=%00",
    "/admin/invoices?q=%00",
    "/admin/invoices?q=INV%00&status=%00&issued_from=%00",
    "/admin/payments?q=%00",
    "/admin/expenses?status=%00",
    "/admin/delivery?state=%00",
    "/admin/reports?currency=%00&from=%00",
    "/admin/reports/income-statement.csv?currency=%00",
    "/admin/?currency=US%00",
]


def test_admin_ignores_nul_in_searches_and_filters(admin):
    for url in ADMIN_QUERIES:
        response = admin.get(url)
        assert response.status_code == 200, (url, response.status_code)


def test_admin_search_with_nul_finds_what_the_search_without_it_finds(admin, admin_app):
    admin.post_form("/admin/clients/new", {"name": "Adaeze Okafor", "client_type": "individual"})
    page = admin.get("/admin/clients?q=ada%00eze").get_data(as_text=True)
    assert "Adaeze Okafor" in page


@pytest.mark.parametrize(
    "data",
    [
        {"email": "a\x00@x.com", "password": "whatever-password"},
        {"email": "admin@example.com", "password": "a-long-test\x00-password"},
    ],
)
def test_sign_in_with_nul_is_a_form_error(admin_app, users, data):
    from support import Browser

    response = Browser(admin_app.test_client()).post_form("/admin/login", data)
    assert response.status_code == 200
    assert "must not contain NUL characters" in response.get_data(as_text=True)


def test_admin_form_with_nul_shows_the_error_on_the_field_and_saves_nothing(admin, admin_app):
    response = admin.post_form("/admin/clients/new", {"name": "Ada\x00", "client_type": "individual"})
    assert response.status_code == 200
    assert "must not contain NUL characters" in response.get_data(as_text=True)
    with admin_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Client)) == 0


def test_a_nul_in_one_invoice_line_is_an_error_on_that_line(admin, admin_app):
    admin.post_form("/admin/clients/new", {"name": "Ada", "client_type": "individual"})
    with admin_app.app_context():
        client_id = db.session.scalar(select(Client.id))
    response = admin.post_form(
        "/admin/invoices/new",
        {
            "client_id": str(client_id),
            "lines-0-description": "Work",
            "lines-0-quantity": "1",
            "lines-0-unit_price": "10\x00",
            "lines-0-tax_rate": "0",
        },
    )
    assert response.status_code == 200
    assert "must not contain NUL characters" in response.get_data(as_text=True)
