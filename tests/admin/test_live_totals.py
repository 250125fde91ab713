"""The line editor's live totals come from the server's one formula (issue 13 item 3, SPEC §5.1).

POST /admin/invoices/preview-totals takes the editor's form as it stands and
answers the figures ``shared.money.compute_totals`` gives, formatted as the
pages show them; it saves nothing.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from shared.db import db
from shared.documents.formatting import format_money, format_number
from shared.inputs import ClientInput, InvoiceDraft
from shared.lookups import get_settings
from shared.models import Invoice
from shared.money import Discount, LineInput, compute_totals
from shared.services import Actor, create_client, create_draft

# Pages, documents and messages read the same rows on either backend: SQLite only (the README's rule).
pytestmark = pytest.mark.backends("sqlite")

URL = "/admin/invoices/preview-totals"


@pytest.fixture
def client_id(admin_app) -> int:
    with admin_app.app_context():
        client = create_client(
            db.session, actor=Actor.system(), data=ClientInput.from_mapping({"name": "Ada", "default_currency": "USD"})
        )
        db.session.commit()
        return client.id


def _lines(client_id: int, *lines: tuple[str, str, str, str], **more: str) -> dict:
    data = {"client_id": str(client_id), "currency": "", **more}
    for index, (description, quantity, unit_price, tax_rate) in enumerate(lines):
        data[f"lines-{index}-description"] = description
        data[f"lines-{index}-quantity"] = quantity
        data[f"lines-{index}-unit_price"] = unit_price
        data[f"lines-{index}-tax_rate"] = tax_rate
    return data


def test_the_preview_answers_the_server_formula_formatted(admin_app, admin, client_id):
    lines = [("Consulting", "2", "1,200.00", "7.5"), ("", "", "", "0"), ("Hosting", "3", "8.625", "7.5")]
    response = admin.post_form(
        "/admin/invoices/new", _lines(client_id, *lines, discount_type="percent", discount_value="10"), to=URL
    )
    assert response.status_code == 200
    answer = response.get_json()
    expected = compute_totals(
        [
            LineInput(Decimal("2"), Decimal("1200"), Decimal("7.5")),
            LineInput(Decimal("3"), Decimal("8.625"), Decimal("7.5")),
        ],
        "USD",
        Discount("percent", Decimal("10")),
    )
    assert answer == {
        "ok": True,
        "currency": "USD",
        # by the row's id: the blank second row is left out, as when saving
        "lines": {"lines-0": format_number(expected.lines[0].amount, "USD"), "lines-2": "25.88"},
        "subtotal": format_money(expected.subtotal, "USD"),
        "discount": "−" + format_money(expected.discount_total, "USD"),
        "tax": format_money(expected.tax_total, "USD"),
        "total": format_money(expected.total, "USD"),
    }
    assert answer["total"] == "$2,347.04"


def test_the_preview_follows_the_company_tax_rounding(admin_app, admin, client_id):
    with admin_app.app_context():
        get_settings(db.session).tax_rounding = "document"
        db.session.commit()
    lines = [("A", "1", "0.05", "10"), ("B", "1", "0.05", "10")]
    answer = admin.post_form("/admin/invoices/new", _lines(client_id, *lines), to=URL).get_json()
    inputs = [LineInput(Decimal("1"), Decimal("0.05"), Decimal("10"))] * 2
    assert answer["tax"] == format_money(compute_totals(inputs, "USD", tax_rounding="document").tax_total, "USD")
    assert answer["tax"] != format_money(compute_totals(inputs, "USD", tax_rounding="line").tax_total, "USD")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (("Consulting", "1", "", "0"), "Unit price, line 1: is required"),
        (
            ("Consulting", "1", "1,20.00", "0"),
            "Unit price, line 1: “1,20.00” has a thousands separator (,) in the wrong",
        ),
        (("Consulting", "abc", "10", "0"), "Quantity, line 1: 'abc' is not a number"),
    ],
)
def test_lines_that_cannot_be_totalled_yet_say_why_and_save_nothing(admin_app, admin, client_id, line, message):
    response = admin.post_form("/admin/invoices/new", _lines(client_id, line), to=URL)
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["ok"] is False
    assert answer["message"].startswith(message)
    with admin_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Invoice)) == 0


def test_the_preview_saves_nothing_on_a_draft(admin_app, admin, client_id):
    with admin_app.app_context():
        draft = create_draft(
            db.session,
            actor=Actor.system(),
            data=InvoiceDraft.from_mapping(
                {"client_id": client_id, "items": [{"description": "A", "quantity": "1", "unit_price": "5"}]}
            ),
        )
        db.session.commit()
        draft_id = draft.id
    page = f"/admin/invoices/{draft_id}/review"
    answer = admin.post_form(page, _lines(client_id, ("A", "1", "500", "0"), currency="USD"), to=URL).get_json()
    assert answer["total"] == "$500.00"
    with admin_app.app_context():
        assert db.session.get(Invoice, draft_id).total == Decimal("5.00")


def test_the_preview_needs_a_signed_in_user_and_the_csrf_token(admin_app, admin, client_id):
    anonymous = admin_app.test_client().post(URL, data=_lines(client_id, ("A", "1", "5", "0")))
    assert anonymous.status_code in (302, 400)
    assert admin.client.post(URL, data=_lines(client_id, ("A", "1", "5", "0"))).status_code == 400


def test_the_editor_shows_stored_figures_as_the_pages_do(admin_app, admin, client_id):
    with admin_app.app_context():
        draft = create_draft(
            db.session,
            actor=Actor.system(),
            data=InvoiceDraft.from_mapping(
                {
                    "client_id": client_id,
                    "items": [
                        {"description": "Hosting", "quantity": "1000", "unit_price": "8.625", "tax_rate": "7.5"},
                        {"description": "Consulting", "quantity": "1.5", "unit_price": "1200", "tax_rate": "0"},
                    ],
                    "discount": {"type": "fixed", "value": "1000"},
                }
            ),
        )
        db.session.commit()
        draft_id = draft.id
    html = admin.get(f"/admin/invoices/{draft_id}/review").get_data(as_text=True)
    for shown in ('value="1,000"', 'value="8.625"', 'value="7.5"', 'value="1.5"', 'value="1,200.00"'):
        assert shown in html
    assert 'id="discount_value" name="discount_value" type="text" value="1,000.00"' in html
