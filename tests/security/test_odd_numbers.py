"""Odd numbers in URLs and query strings: superscript digits, ids beyond any column's range.

``"²".isdigit()`` is true but ``int("²")`` raises, and an id of 10**30 overflows
an INTEGER column on Postgres; either used to reach the user as a 500.
"""

import pytest

HUGE = "9" * 30
ADMIN_URLS = [
    "/admin/invoices?client_id=²",
    f"/admin/invoices?client_id={HUGE}",
    "/admin/invoices/new?client_id=²",
    f"/admin/invoices/new?client_id={HUGE}",
    "/admin/clients?page=²",
    f"/admin/clients?page={HUGE}",
    "/admin/payments?page=²",
    "/admin/expenses?page=²",
    "/admin/delivery?page=²",
    f"/admin/invoices/{HUGE}",
    f"/admin/clients/{HUGE}",
    f"/admin/payments/{HUGE}/receipt.pdf",
    f"/admin/invoices?before={HUGE}",
]
API_URLS = [
    "/api/v1/invoices?limit=²",
    f"/api/v1/invoices?limit={HUGE}",
    f"/api/v1/invoices/{HUGE}",
    f"/api/v1/clients/{HUGE}",
    f"/api/v1/payments/{HUGE}",
    f"/api/v1/invoices?client_id={HUGE}",
    "/api/v1/invoices?client_id=²",
]


@pytest.mark.parametrize("url", ADMIN_URLS)
def test_admin_pages_answer_odd_numbers_without_an_error(admin, url):
    response = admin.get(url)
    assert response.status_code in (200, 302, 404), (url, response.status_code)


@pytest.mark.parametrize("url", API_URLS)
def test_api_answers_odd_numbers_with_a_problem(api_app, keys, url):
    response = api_app.test_client().get(url, headers={"Authorization": f"Bearer {keys['read']}"})
    assert response.status_code in (200, 400, 404, 422), (
        url,
        response.status_code,
        response.get_data(as_text=True)[:300],
    )
    if response.status_code != 200:
        assert response.mimetype == "application/problem+json"
