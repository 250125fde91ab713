"""The reports page and its CSV files, through the admin as a user sees them (SQLite and Postgres).

Each CSV file, read with Python's csv module, must hold the same numbers as the page.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from report_html import amount, page_tables, read_csv

from shared.inputs import ExpenseInput
from shared.services import Actor, approve_expense, request_expense
from support import sign_in

# SQLite only: pages and CSV around the figures; the figures run on both backends in test_report_figures.
pytestmark = pytest.mark.backends("sqlite")

D = Decimal
H1 = "from=2025-01-01&to=2025-06-30"


def get_csv(admin, name: str, query: str):
    response = admin.get(f"/admin/reports/{name}.csv?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    return read_csv(response.data)


def page(admin, query: str) -> dict[str, dict[str, list[str]]]:
    response = admin.get(f"/admin/reports?{query}")
    assert response.status_code == 200
    return page_tables(response.get_data(as_text=True))


def test_income_statement_page_and_csv_agree_with_the_books(admin, books):
    tables = page(admin, H1)
    on_page = {key: [amount(c) for c in cells[1:]] for key, cells in tables["income-statement"].items()}
    assert on_page["2025-03"] == [D("19025.00"), D("20000.00"), D("-975.00")]
    assert on_page["total"] == [D("49025.00"), D("175000.00"), D("-125975.00")]

    rows = get_csv(admin, "income-statement", H1 + "&currency=NGN")
    assert [r["month"] for r in rows] == ["2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06"]
    for row in rows:
        assert row["currency"] == "NGN"
        assert [D(row["collected"]), D(row["approved_expenses"]), D(row["net"])] == on_page[row["month"]]


def test_each_csv_file_holds_the_numbers_on_the_page(admin, books):
    for currency in ("NGN", "USD"):
        query = f"{H1}&currency={currency}"
        tables = page(admin, query)

        methods = get_csv(admin, "payments-by-method", query)
        assert {r["method"]: (int(r["payments"]), D(r["amount"])) for r in methods} == {
            key: (int(cells[1]), amount(cells[2]))
            for key, cells in tables["payments-by-method"].items()
            if key != "total"
        }

        categories = get_csv(admin, "expenses-by-category", query)
        assert {r["category"]: (int(r["expenses"]), D(r["amount"])) for r in categories} == {
            key: (int(cells[1]), amount(cells[2]))
            for key, cells in tables["expenses-by-category"].items()
            if key != "total"
        }

        tax = get_csv(admin, "tax-by-rate", query)
        assert {r["tax_rate_percent"]: (int(r["invoices"]), D(r["taxable_amount"]), D(r["tax"])) for r in tax} == {
            key: (int(cells[1]), amount(cells[2]), amount(cells[3]))
            for key, cells in tables["tax-by-rate"].items()
            if key != "total"
        }

        aging = get_csv(admin, "aging-by-client", query)
        assert {
            r["client_id"]: [D(r[k]) for k in ("current", "1-30", "31-60", "61-90", "over-90", "total")] for r in aging
        } == {key: [amount(c) for c in cells[1:]] for key, cells in tables["aging-by-client"].items() if key != "total"}
        assert all(r["currency"] == currency for r in methods + categories + tax + aging)


def test_reports_hold_the_hand_worked_figures_per_currency(admin, books):
    ngn = page(admin, H1 + "&currency=NGN")
    assert {k: amount(v[2]) for k, v in ngn["payments-by-method"].items()} == {
        "cash": D("19025.00"),
        "bank_transfer": D("10000.00"),
        "card": D("20000.00"),
        "total": D("49025.00"),
    }
    assert {k: amount(v[3]) for k, v in ngn["tax-by-rate"].items()} == {
        "0": D("0.00"),
        "5": D("150.00"),
        "7.5": D("5775.00"),
        "total": D("5925.00"),
    }
    # Aging is as of the real today, long after these 2025 due dates: every balance is over 90 days.
    assert {k: amount(v[-1]) for k, v in ngn["aging-by-client"].items()} == {
        str(books.ada): D("44900.00"),
        str(books.chidi): D("12900.00"),
        "total": D("57800.00"),
    }
    usd = page(admin, H1 + "&currency=USD")
    assert amount(usd["income-statement"]["total"][1]) == D("310.00")
    assert amount(usd["expenses-by-category"]["Software"][2]) == D("49.99")
    assert set(usd["aging-by-client"]) == {str(books.bolt), str(books.ada), "total"}


def test_chart_data_files_of_the_dashboard(admin, books):
    status = get_csv(admin, "invoice-status", "currency=NGN")
    assert [(r["status"], int(r["invoices"]), D(r["total"])) for r in status] == [
        ("draft", 1, D("5000.00")),
        ("open", 3, D("24050.00")),
        ("partially_paid", 1, D("53750.00")),
        ("paid", 1, D("29025.00")),
        ("void", 1, D("107498.93")),
        ("credited", 0, D("0.00")),  # SPEC §11's state, listed like the others
    ]
    aging = get_csv(admin, "aging", "currency=USD")
    assert [(r["bucket"], D(r["balance"]), int(r["invoices"])) for r in aging][-1] == ("over-90", D("470.00"), 2)
    # Every chart on the dashboard links to its data.
    html = admin.get("/admin/").get_data(as_text=True)
    for name in ("income-statement", "aging", "invoice-status"):
        assert f"/admin/reports/{name}.csv?" in html


def test_currency_switch_lists_each_currency_and_never_mixes_them(admin, books):
    html = admin.get("/admin/reports").get_data(as_text=True)
    assert 'aria-label="Currency"' in html and "currency=USD" in html and "currency=NGN" in html
    usd = admin.get("/admin/reports?currency=USD&" + H1).get_data(as_text=True)
    assert "$310.00" in usd and "NGN" not in usd.split('aria-label="Currency"')[1].split("</nav>")[1]
    # An unknown currency falls back to the company default (NGN) instead of failing.
    assert admin.get("/admin/reports?currency=XXX").status_code == 200


@pytest.mark.parametrize(
    "query, message",
    [
        ("from=yesterday", "From must be a date"),
        ("from=2025-06-01&to=2025-01-01", "From must be on or before To"),
        ("from=1900-01-01&to=2025-01-01", "at most 10 years"),
    ],
)
def test_bad_dates_explain_themselves_and_show_the_default(admin, books, query, message):
    response = admin.get(f"/admin/reports?{query}")
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert admin.get(f"/admin/reports/income-statement.csv?{query}").status_code == 200


def test_unknown_report_is_404_and_staff_may_read_reports(admin_app, admin, books):
    assert admin.get("/admin/reports/secrets.csv").status_code == 404
    staff = sign_in(admin_app, "staff@example.com")
    assert staff.get("/admin/reports").status_code == 200
    assert staff.get("/admin/reports/aging.csv").status_code == 200


def test_csv_cells_cannot_run_as_spreadsheet_formulas(admin, session, books):
    actor = Actor.system("tests", is_admin=True)
    expense = request_expense(
        session,
        actor=actor,
        data=ExpenseInput(title="x", category='=HYPERLINK("http://evil")', amount="1.00", expense_date="2025-06-01"),
    )
    approve_expense(session, actor=actor, expense_id=expense.id)
    rows = get_csv(admin, "expenses-by-category", H1)
    assert '\'=HYPERLINK("http://evil")' in [r["category"] for r in rows]
