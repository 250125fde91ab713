"""Issue 12 item 10: CSV exports quote every text field and still neutralise formulas.

Spreadsheets in many locales split CSV on ``;`` (LibreOffice offers ``,`` and
``;`` together). A client name or expense category holding ``;`` must stay one
cell, so that no part of it lands in a cell of its own where ``=...`` would
run as a formula. A quoted field is one cell for any such reader; numbers,
which never hold a separator, stay bare so they are read as numbers.
"""

from __future__ import annotations

import csv
import io

import pytest

from shared.inputs import ExpenseInput
from shared.services import Actor, Notify, approve_expense, request_expense

CATEGORY = "Travel; Lodging;=1+2"
CLIENT = "Doe & Sons;@SUM(A1:A9);-2+3"
REPORTS = [
    ("expenses-by-category", "currency=USD&from=2025-01-01&to=2025-06-30", "category", CATEGORY),
    ("aging-by-client", "currency=USD", "client", CLIENT),
]


def split_like_a_spreadsheet(line: str, separators: str = ",;") -> list[str]:
    """Cells as a spreadsheet splitting on ``,`` and ``;`` sees them: quotes count at the start of a cell."""
    cells, cell, quoted, i = [], "", False, 0
    while i < len(line):
        char = line[i]
        if quoted:
            if char == '"' and line[i + 1 : i + 2] == '"':
                cell, i = cell + '"', i + 1
            elif char == '"':
                quoted = False
            else:
                cell += char
        elif char == '"' and cell == "":
            quoted = True
        elif char in separators:
            cells.append(cell)
            cell = ""
        else:
            cell += char
        i += 1
    return [*cells, cell]


@pytest.fixture
def hostile_texts(session, make_invoice, make_client):
    actor = Actor.system("tests", is_admin=True)
    expense = request_expense(
        session,
        actor=actor,
        data=ExpenseInput(title="x", category=CATEGORY, amount="12.50", currency="USD", expense_date="2025-06-01"),
    )
    approve_expense(session, actor=actor, expense_id=expense.id)
    make_invoice(issue=True, client=make_client(name=CLIENT), notify=Notify())


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_semicolon_in_a_name_never_splits_the_cell_for_a_spreadsheet_reading_semicolons(admin, hostile_texts):
    """Issue 12 item 10: ``;`` inside a category or a client name stays in one cell, and starts no formula."""
    for name, query, _, text in REPORTS:
        response = admin.get(f"/admin/reports/{name}.csv?{query}")
        assert response.status_code == 200
        rows = [split_like_a_spreadsheet(line) for line in response.get_data(as_text=True).splitlines()]
        assert any(text in cell for row in rows for cell in row), f"{name}: the text was split between cells"
        starts = [cell for row in rows for cell in row if cell[:1] in ("=", "+", "-", "@")]
        assert starts == [], f"{name}: cells a spreadsheet would run as formulas"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_every_text_cell_is_quoted_and_neutralised_and_numbers_stay_bare(admin, hostile_texts):
    """Issue 12 item 10: read with QUOTE_NONNUMERIC, any unquoted text would fail; amounts are numbers."""
    for name, query, column, text in REPORTS:
        data = admin.get(f"/admin/reports/{name}.csv?{query}").get_data(as_text=True)
        header, *rows = list(csv.reader(io.StringIO(data), quoting=csv.QUOTE_NONNUMERIC))
        assert all(len(row) == len(header) for row in rows)
        cells = [row[header.index(column)] for row in rows]
        assert text in cells or "'" + text in cells  # one cell; neutralised where it starts like a formula
        amount = header.index("amount" if "amount" in header else "total")
        assert all(isinstance(row[amount], float) for row in rows)

    data = admin.get("/admin/reports/expenses-by-category.csv?currency=USD&from=2025-01-01&to=2025-06-30")
    lines = data.get_data(as_text=True).split("\r\n")
    assert lines[0] == '"category","currency","expenses","amount"'
    assert lines[1] == f'"{CATEGORY}","USD",1,12.50'
