"""A new install's first run (issue 13 item 6) and times in the company's zone (item 12).

The ``fresh`` fixture undoes what ``admin_app`` does for every other test
(marking the setup done), so these start like a new install.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from PIL import Image
from sqlalchemy import update

from shared.activity import record_activity
from shared.db import db
from shared.errors import ValidationFailed
from shared.inputs import SettingsChanges
from shared.lookups import get_settings
from shared.models import Settings, User
from shared.services import Actor
from shared.services.settings import update_settings
from support import ADMIN_PASSWORD, csrf_from, sign_in, sign_in_fails

# Pages, documents and messages read the same rows on either backend: SQLite only (the README's rule).
pytestmark = pytest.mark.backends("sqlite")

NEW_PASSWORD = "my-own-longer-password"


@pytest.fixture
def fresh(admin_app, users):
    """A new install: no company settings saved yet, and an admin and a staff user."""
    with admin_app.app_context():
        db.session.execute(update(Settings).values(setup_completed_at=None))
        db.session.commit()
        db.session.remove()
    return admin_app


def settings_row(app) -> Settings:
    with app.app_context():
        row = get_settings(db.session)
        db.session.expunge_all()
        return row


def setup_answers(**changes) -> dict:
    answers = {
        "company_name": "Kestrel Books LLC",
        "country": "US",
        "default_currency": "USD",
        "time_zone": "America/New_York",
        "current_password": "",
        "new_password": "",
        "repeat_password": "",
    }
    return answers | changes


def test_an_admin_is_sent_to_the_setup_once_after_signing_in_on_a_new_install(fresh):
    admin = sign_in(fresh, "admin@example.com")
    first = admin.get("/admin/")
    assert first.status_code == 302 and first.headers["Location"].endswith("/admin/setup")
    page = admin.get("/admin/setup").get_data(as_text=True)
    for name in ("company_name", "country", "default_currency", "time_zone", "new_password"):
        assert f'name="{name}"' in page
    # Once: the admin may look around first; every page then says the setup is not finished.
    later = admin.get("/admin/")
    assert later.status_code == 200
    assert "The company setup is not finished" in later.get_data(as_text=True)


def test_staff_are_never_sent_to_the_setup_and_see_a_notice(fresh):
    staff = sign_in(fresh, "staff@example.com")
    page = staff.get("/admin/")
    assert page.status_code == 200
    assert "an admin still has to set the company name" in page.get_data(as_text=True)
    assert staff.get("/admin/setup").status_code == 403


def test_finishing_the_setup_saves_the_company_and_asks_for_a_new_password(fresh):
    admin = sign_in(fresh, "admin@example.com")
    response = admin.post_form("/admin/setup", setup_answers())
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/account")
    prompt = admin.get("/admin/account").get_data(as_text=True)
    assert "You still sign in with the generated password" in prompt
    row = settings_row(fresh)
    assert (row.company_name, row.country, row.default_currency, row.time_zone) == (
        "Kestrel Books LLC",
        "US",
        "USD",
        "America/New_York",
    )
    assert row.setup_completed_at is not None
    page = admin.get("/admin/").get_data(as_text=True)
    assert "setup is not finished" not in page
    assert admin.get("/admin/settings").status_code == 200  # never sent to the setup again


def test_the_setup_can_change_the_generated_password_in_the_same_step(fresh):
    admin = sign_in(fresh, "admin@example.com")
    answers = setup_answers(current_password=ADMIN_PASSWORD, new_password=NEW_PASSWORD, repeat_password=NEW_PASSWORD)
    response = admin.post_form("/admin/setup", answers)
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/")
    assert admin.get("/admin/").status_code == 200  # this browser stays signed in
    assert sign_in_fails(fresh, "admin@example.com", ADMIN_PASSWORD)
    sign_in(fresh, "admin@example.com", NEW_PASSWORD)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"country": "XX"}, "Not a valid choice"),
        ({"time_zone": "Mars/Olympus_Mons"}, "Not a valid choice"),
        ({"company_name": ""}, "This field is required"),
        # A wrong current password refuses the whole step: the company is not saved either.
        (
            {"current_password": "not-the-password", "new_password": NEW_PASSWORD, "repeat_password": NEW_PASSWORD},
            "is not your current password",
        ),
    ],
)
def test_bad_setup_answers_are_named_and_change_nothing(fresh, changes, message):
    admin = sign_in(fresh, "admin@example.com")
    response = admin.post_form("/admin/setup", setup_answers(**changes))
    assert response.status_code == 200
    assert message.lower() in response.get_data(as_text=True).lower()
    row = settings_row(fresh)
    assert row.setup_completed_at is None and row.company_name == "Your Company" and row.country == ""
    sign_in(fresh, "admin@example.com")  # the password is unchanged


def test_skipping_the_setup_keeps_the_defaults_and_stops_the_reminder(fresh):
    admin = sign_in(fresh, "admin@example.com")
    admin.get("/admin/")
    response = admin.post_form("/admin/setup", {}, to="/admin/setup/skip", follow=True)
    assert "Setup skipped" in response.get_data(as_text=True)
    assert settings_row(fresh).setup_completed_at is not None
    assert "setup is not finished" not in admin.get("/admin/").get_data(as_text=True)


def test_the_country_and_time_zone_are_checked_against_maintained_lists(session, actor):
    saved = update_settings(
        session, actor=actor, data=SettingsChanges.from_mapping({"country": "ng", "time_zone": "Africa/Lagos"})
    )
    assert (saved.country, saved.time_zone) == ("NG", "Africa/Lagos")
    for data, field in (
        ({"country": "EU"}, "country"),  # CLDR calls it a territory; it is not a country
        ({"country": "Nigeria"}, "country"),
        ({"time_zone": "Lagos"}, "time_zone"),
        ({"time_zone": "Africa/Atlantis"}, "time_zone"),
        ({"time_zone": ""}, "time_zone"),
        ({"paper_size": "A3"}, "paper_size"),
    ):
        with pytest.raises(ValidationFailed) as refused:
            update_settings(session, actor=actor, data=SettingsChanges.from_mapping(data))
        assert field in refused.value.errors
    session.expire_all()
    assert (get_settings(session).country, get_settings(session).time_zone) == ("NG", "Africa/Lagos")


def test_the_settings_page_saves_country_time_zone_and_paper(admin_app, admin):
    page = admin.get("/admin/settings").get_data(as_text=True)
    assert 'name="country"' in page and 'name="time_zone"' in page and 'name="paper_size"' in page
    data = {
        "company_name": "Kestrel Books LLC",
        "invoice_number_format": "INV-{year}-{seq:05d}",
        "receipt_number_format": "RCT-{year}-{seq:05d}",
        "default_currency": "USD",
        "country": "US",
        "time_zone": "America/Chicago",
        "paper_size": "Letter",
        "payment_terms_days": "14",
        "tax_rounding": "line",
        "reminder_offsets": "-3, 0, 3",
        "reminder_repeat_days": "7",
        "reminder_max": "6",
    }
    response = admin.post_form("/admin/settings", data, follow=True)
    assert "Settings saved." in response.get_data(as_text=True)
    row = settings_row(admin_app)
    assert (row.country, row.time_zone, row.paper_size) == ("US", "America/Chicago", "Letter")


def test_the_sidebar_shows_the_company_not_a_currency_sign(admin_app, admin):
    with admin_app.app_context():
        get_settings(db.session).company_name = "Kestrel Books LLC"
        db.session.commit()
    page = admin.get("/admin/").get_data(as_text=True)
    sidebar = page.split('<aside class="sidebar">')[1].split("</aside>")[0]
    assert "₦" not in sidebar
    assert '<span class="brand-mark" aria-hidden="true">KB</span>' in sidebar
    assert "Kestrel Books LLC" in sidebar
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), (36, 86, 199)).save(buffer, format="PNG")
    admin.client.post(
        "/admin/settings/logo",
        data={"csrf_token": _token(admin), "logo": (io.BytesIO(buffer.getvalue()), "logo.png")},
        content_type="multipart/form-data",
    )
    sidebar = admin.get("/admin/").get_data(as_text=True).split("</aside>")[0]
    assert 'class="brand-logo" src="/admin/settings/logo"' in sidebar and "brand-mark" not in sidebar


def _token(browser) -> str:
    return csrf_from(browser.get("/admin/settings").get_data(as_text=True))


def test_times_are_shown_in_the_company_time_zone(admin_app, admin, users):
    moment = dt.datetime(2026, 3, 3, 8, 30, tzinfo=dt.UTC)
    with admin_app.app_context():
        db.session.execute(update(User).where(User.id == users["staff"]).values(last_login_at=moment))
        db.session.commit()
    assert "3 Mar 2026, 08:30 UTC" in admin.get("/admin/users").get_data(as_text=True)
    with admin_app.app_context():
        update_settings(
            db.session,
            actor=Actor.system(is_admin=True),
            data=SettingsChanges.from_mapping({"time_zone": "Africa/Lagos"}),
        )
    page = admin.get("/admin/users").get_data(as_text=True)
    assert "3 Mar 2026, 09:30 WAT" in page and "08:30" not in page


def test_timelines_say_worker_without_the_workers_host_and_process(admin_app, admin, make_invoice, session):
    invoice = make_invoice(issue=True)
    record_activity(
        session, Actor.worker("worker-billing-host-4242"), "sent", invoice, summary="E-mail sent", invoice_id=invoice.id
    )
    session.commit()
    page = admin.get(f"/admin/invoices/{invoice.id}").get_data(as_text=True)
    assert "E-mail sent" in page
    assert "worker-billing-host-4242" not in page and "billing-host" not in page
    assert "<bdi>worker</bdi>" in page
