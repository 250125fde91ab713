"""Admin pages of recurring invoices (SPEC §12): list, editor with the next five run dates, pause/resume, delete."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from shared.db import db
from shared.inputs import ClientInput
from shared.models import RecurringInvoice
from shared.services import Actor, create_client
from shared.services.recurring import make_due_runs

pytestmark = pytest.mark.backends("sqlite")

TODAY = dt.date.today()


@pytest.fixture
def client_id(admin_app) -> int:
    with admin_app.app_context():
        made = create_client(
            db.session, actor=Actor.system(), data=ClientInput(name="Greenfield School", email="bursar@example.com")
        ).id
        db.session.remove()
        return made


def form(client_id: int, **fields) -> dict:
    data = {
        "client_id": str(client_id),
        "currency": "NGN",
        "mode": "send",
        "interval_count": "1",
        "interval": "month",
        "start_date": "2099-01-31",
        "payment_terms_days": "14",
        "lines-0-description": "Term fees",
        "lines-0-quantity": "1",
        "lines-0-unit_price": "150,000.00",
        "lines-0-tax_rate": "0",
        "action": "save",
    }
    data.update(fields)
    return data


def count(app) -> int:
    with app.app_context():
        n = db.session.scalar(select(func.count()).select_from(RecurringInvoice))
        db.session.remove()
        return n


def test_the_editor_shows_the_next_five_run_dates_before_saving(admin, admin_app, client_id):
    page = admin.get("/admin/recurring-invoices/new").get_data(as_text=True)
    assert "The next five run dates" in page and 'name="interval"' in page and "<label" in page
    preview = admin.post_form("/admin/recurring-invoices/new", form(client_id, action="preview"))
    text = preview.get_data(as_text=True)
    for day in ("2099-01-31", "2099-02-28", "2099-03-31", "2099-04-30", "2099-05-31"):
        assert f'datetime="{day}"' in text
    assert count(admin_app) == 0  # a preview saves nothing


def test_create_run_pause_resume_and_see_the_invoices_made(admin, admin_app, client_id):
    saved = admin.post_form("/admin/recurring-invoices/new", form(client_id, start_date=TODAY.isoformat()))
    assert saved.status_code == 302, saved.get_data(as_text=True)
    detail_url = saved.headers["Location"]
    with admin_app.app_context():
        assert make_due_runs(db.session, actor=Actor.worker("tests")) == 1
        db.session.remove()
    detail = admin.get(detail_url).get_data(as_text=True)
    assert "Invoices made" in detail and f"INV-{TODAY.year}-00001" in detail and "Run of" in detail
    paused = admin.post_form(detail_url, {}, to=detail_url + "/pause", follow=True).get_data(as_text=True)
    assert "Paused." in paused and "Resume" in paused
    resumed = admin.post_form(detail_url, {}, to=detail_url + "/resume", follow=True).get_data(as_text=True)
    assert "Resumed" in resumed
    listing = admin.get("/admin/recurring-invoices").get_data(as_text=True)
    assert "Greenfield School" in listing and "Every month" in listing
    dashboard = admin.get("/admin/").get_data(as_text=True)
    assert "Next recurring runs" in dashboard and "Greenfield School" in dashboard
    # It has made an invoice: no delete, pause instead.
    assert "/delete" not in detail
    refused = admin.post_form(detail_url, {}, to=detail_url + "/delete", follow=True).get_data(as_text=True)
    assert "pause it instead" in refused and count(admin_app) == 1


def test_bad_values_are_marked_and_nothing_is_saved(admin, admin_app, client_id):
    response = admin.post_form(
        "/admin/recurring-invoices/new",
        form(client_id, interval_count="0", end_date="2098-01-01", **{"lines-0-unit_price": "abc"}),
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "field-error" in text
    assert count(admin_app) == 0
    response = admin.post_form("/admin/recurring-invoices/new", form(client_id, interval_count="0"))
    text = response.get_data(as_text=True)
    assert "must be between 1 and 366" in text and count(admin_app) == 0


def test_edit_then_delete_with_confirmation(admin, admin_app, client_id):
    detail_url = admin.post_form("/admin/recurring-invoices/new", form(client_id)).headers["Location"]
    edit = admin.get(detail_url + "/edit").get_data(as_text=True)
    assert 'value="2099-01-31"' in edit and "150,000.00" in edit
    saved = admin.post_form(detail_url + "/edit", form(client_id, interval="week", start_date="2099-01-01"))
    assert saved.status_code == 302
    detail = admin.get(detail_url).get_data(as_text=True)
    assert 'datetime="2099-01-08"' in detail and "Every week" in detail
    confirm = admin.get(detail_url + "/delete").get_data(as_text=True)
    assert "Delete this recurring invoice?" in confirm and count(admin_app) == 1
    gone = admin.post_form(detail_url + "/delete", {}, follow=True)
    assert "Recurring invoice deleted." in gone.get_data(as_text=True) and count(admin_app) == 0
