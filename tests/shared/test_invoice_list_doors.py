"""The admin invoice list and the API invoice list give the same invoices for the same filters.

One data set (drafts, open, partly paid, paid, void and overdue invoices of two
clients over a range of issue dates) is made through the API, then every filter
combination below is read through both doors over the same database.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

ROW_LINK = re.compile(r'<td[^>]*><a href="/admin/invoices/(\d+)">')
TODAY = dt.date.today()


def day(offset: int) -> str:
    return (TODAY + dt.timedelta(days=offset)).isoformat()


class Api:
    def __init__(self, client, secret: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {secret}"}

    def get(self, path: str):
        response = self.client.get(f"/api/v1{path}", headers=self.headers)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def post(self, path: str, body: dict) -> dict:
        response = self.client.post(f"/api/v1{path}", json=body, headers=self.headers)
        assert response.status_code in (200, 201, 202), response.get_json()
        return response.get_json()


@pytest.fixture
def api(api_app, keys) -> Api:
    return Api(api_app.test_client(), keys["write"])


@pytest.fixture
def books(api) -> tuple[dict[str, int], dict[str, int]]:
    """Invoice ids and client ids by name: every state, overdue or not, drafts dated inside and outside the ranges."""
    ada = api.post("/clients", {"name": "Ada", "email": "ada@example.com"})["id"]
    bola = api.post("/clients", {"name": "Bola", "email": "bola@example.com"})["id"]

    def invoice(client_id: int, issued: int, due: int, *, issue: bool = True, price: str = "100.00") -> int:
        body = {
            "client_id": client_id,
            "currency": "USD",
            "issue_date": day(issued),
            "due_date": day(due),
            "items": [{"description": "Work", "quantity": "1", "unit_price": price, "tax_rate": "0"}],
            "issue": issue,
            "notify": {"email": False},
        }
        return api.post("/invoices", body)["id"]

    def pay(invoice_id: int, amount: str, on: int) -> None:
        api.post(f"/invoices/{invoice_id}/payments", {"amount": amount, "paid_on": day(on), "notify": {"email": False}})

    made = {
        "old_draft": invoice(ada, -60, -30, issue=False),
        "recent_draft": invoice(ada, -10, 4, issue=False),
        "overdue_open": invoice(ada, -60, -30),
        "overdue_partly_paid": invoice(ada, -45, -15),
        "late_but_paid": invoice(ada, -50, -20),
        "void_past_due": invoice(bola, -40, -10),
        "open_not_yet_due": invoice(bola, -5, 9),
        "partly_paid_not_yet_due": invoice(bola, -2, 12),
        "due_today": invoice(bola, 0, 0),
        "due_yesterday": invoice(bola, -100, -1),
    }
    pay(made["overdue_partly_paid"], "40.00", -20)
    pay(made["late_but_paid"], "100.00", -25)
    pay(made["partly_paid_not_yet_due"], "1.00", -1)
    api.post(f"/invoices/{made['void_past_due']}/void", {"reason": "entered twice"})
    return made, {"ada": ada, "bola": bola}


# (admin query, API query, the invoices both must list). Admin's overdue checkbox sends 1; the API takes true.
FILTERS = [
    ("", "", None),  # None: no fixed expectation, only agreement
    ("status=draft", "status=draft", {"old_draft", "recent_draft"}),
    ("status=open", "status=open", {"overdue_open", "open_not_yet_due", "due_today", "due_yesterday"}),
    ("status=partially_paid", "status=partially_paid", {"overdue_partly_paid", "partly_paid_not_yet_due"}),
    ("status=paid", "status=paid", {"late_but_paid"}),
    ("status=void", "status=void", {"void_past_due"}),
    ("overdue=1", "overdue=true", {"overdue_open", "overdue_partly_paid", "due_yesterday"}),
    ("client_id={ada}", "client_id={ada}", None),
    ("client_id={bola}&overdue=1", "client_id={bola}&overdue=true", {"due_yesterday"}),
    (
        f"issued_from={day(-20)}",
        f"issued_from={day(-20)}",
        {"open_not_yet_due", "partly_paid_not_yet_due", "due_today"},
    ),
    (
        f"issued_to={day(-45)}",
        f"issued_to={day(-45)}",
        {"overdue_open", "overdue_partly_paid", "late_but_paid", "due_yesterday"},
    ),
    (
        f"issued_from={day(-50)}&issued_to={day(-40)}",
        f"issued_from={day(-50)}&issued_to={day(-40)}",
        {"overdue_partly_paid", "late_but_paid", "void_past_due"},
    ),
    (f"issued_from={day(-90)}&status=draft", f"issued_from={day(-90)}&status=draft", set()),
    (
        f"client_id={{ada}}&issued_from={day(-50)}&overdue=1",
        f"client_id={{ada}}&issued_from={day(-50)}&overdue=true",
        {"overdue_partly_paid"},
    ),
]


def test_admin_and_api_list_the_same_invoices_for_every_filter(admin, api, books):
    """Each door parses its own query string; both ask shared.queries, so the lists agree (newest first)."""
    invoices, clients = books
    for admin_query, api_query, expected in FILTERS:
        admin_query, api_query = admin_query.format(**clients), api_query.format(**clients)
        response = admin.get(f"/admin/invoices?{admin_query}")
        assert response.status_code == 200, admin_query
        body = response.get_data(as_text=True)
        assert "Ignored the" not in body, admin_query
        in_admin = [int(found) for found in ROW_LINK.findall(body)]
        in_api = [row["id"] for row in api.get(f"/invoices?{api_query}&limit=200")["data"]]
        assert in_admin == in_api, f"admin ?{admin_query} vs API ?{api_query}"
        if expected is not None:
            assert {name for name, invoice_id in invoices.items() if invoice_id in in_api} == expected, api_query
