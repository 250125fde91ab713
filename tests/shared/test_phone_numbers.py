"""Phone numbers typed the national way, stored in E.164, shown formatted (issue 13 item 5)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from shared.db import db
from shared.documents import pdf as pdf_module
from shared.documents.formatting import format_phone
from shared.errors import ValidationFailed
from shared.inputs import ClientChanges, ClientInput
from shared.lookups import get_settings
from shared.models import Client
from shared.services import Actor, create_client, update_client
from shared.services.clients import normalize_phone


def _company_in(session, country: str) -> None:
    get_settings(session).country = country
    session.commit()


@pytest.mark.parametrize(
    ("typed", "country", "stored"),
    [
        ("(415) 555-0199", "US", "+14155550199"),
        ("415.555.0199", "US", "+14155550199"),
        ("0803 123 4567", "NG", "+2348031234567"),
        ("020 7946 0018", "GB", "+442079460018"),
        ("+234 803-123 4567", "", "+2348031234567"),
        ("+1 (415) 555-0199", "NG", "+14155550199"),
        ("00234 803 123 4567", "", "+2348031234567"),
    ],
)
def test_a_phone_number_is_stored_in_e164_from_the_national_or_international_form(typed, country, stored):
    assert normalize_phone(typed, "phone", country=country) == stored


def test_a_national_number_without_a_company_country_asks_for_the_country_code(session, actor):
    with pytest.raises(ValidationFailed) as info:
        create_client(session, actor=actor, data=ClientInput.from_mapping({"name": "Ada", "phone": "(415) 555-0199"}))
    (message,) = info.value.errors["phone"]
    assert "country code" in message and "+1 415 555 0199" in message
    assert session.scalar(select(func.count()).select_from(Client)) == 0


@pytest.mark.parametrize(
    "typed", ["555-01", "+1 415 555 0199 0199 0199", "1-800-FLOWERS", "+1 415 555 0199 ext 2", "+"]
)
def test_what_is_not_a_phone_number_is_refused_with_a_reason(typed):
    with pytest.raises(ValidationFailed) as info:
        normalize_phone(typed, "phone", country="US")
    assert info.value.errors["phone"][0]


def test_clients_take_national_numbers_in_the_company_country(session, actor):
    _company_in(session, "US")
    client = create_client(
        session, actor=actor, data=ClientInput.from_mapping({"name": "Ada", "phone": "(415) 555-0199"})
    )
    assert client.phone == "+14155550199"
    update_client(
        session, actor=actor, client_id=client.id, data=ClientChanges.from_mapping({"phone": "(415) 555-0123"})
    )
    assert session.get(Client, client.id).phone == "+14155550123"


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("+14155550199", "+1 415-555-0199"),
        ("+2348031234567", "+234 803 123 4567"),
        ("0803 not a number", "0803 not a number"),
        ("", ""),
        (None, ""),
    ],
)
def test_a_stored_number_is_shown_grouped_as_people_read_it(stored, shown):
    assert format_phone(stored) == shown


def test_the_admin_client_form_takes_a_national_number_and_shows_it_formatted(admin_app, admin):
    with admin_app.app_context():
        _company_in(db.session, "US")
    response = admin.post_form(
        "/admin/clients/new", {"name": "Ada Lovelace", "client_type": "individual", "phone": "(415) 555-0199"}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    with admin_app.app_context():
        client = db.session.scalars(select(Client).where(Client.name == "Ada Lovelace")).one()
        assert client.phone == "+14155550199"
        client_id = client.id
    assert "+1 415-555-0199" in admin.get(f"/admin/clients/{client_id}").get_data(as_text=True)
    assert "+1 415-555-0199" in admin.get("/admin/clients").get_data(as_text=True)


def test_the_admin_client_form_explains_a_national_number_without_a_company_country(admin_app, admin):
    response = admin.post_form(
        "/admin/clients/new", {"name": "Ada Lovelace", "client_type": "individual", "phone": "(415) 555-0199"}
    )
    assert response.status_code == 200
    assert "needs the country code" in response.get_data(as_text=True).lower()
    with admin_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Client)) == 0


def test_the_api_takes_e164_and_national_numbers_once_the_company_country_is_set(api_app, keys):
    client = api_app.test_client()
    headers = {"Authorization": f"Bearer {keys['write']}"}
    made = client.post("/api/v1/clients", json={"name": "A", "phone": "+14155550199"}, headers=headers)
    assert made.status_code == 201 and made.get_json()["phone"] == "+14155550199"
    refused = client.post("/api/v1/clients", json={"name": "B", "phone": "(415) 555-0123"}, headers=headers)
    assert refused.status_code == 422
    with api_app.app_context():
        _company_in(db.session, "US")
    made = client.post("/api/v1/clients", json={"name": "B", "phone": "(415) 555-0123"}, headers=headers)
    assert made.status_code == 201 and made.get_json()["phone"] == "+14155550123"


def test_the_invoice_pdf_shows_the_client_phone_formatted(session, make_client, make_invoice):
    invoice = make_invoice(client=make_client(phone="+14155550199"))
    html = pdf_module.render_html(
        "invoice.html", pdf_module.invoice_context(invoice, get_settings(session), as_of=dt.date.today())
    )
    assert "+1 415-555-0199" in html


def test_a_recipient_is_checked_by_the_same_rule(session):
    # Stored rows are E.164; the sending check refuses a national number (no country to read it by).
    from shared.messages.compose import check_recipient
    from shared.messages.errors import PermanentDeliveryError

    check_recipient("sms", "+14155550199")
    with pytest.raises(PermanentDeliveryError):
        check_recipient("sms", "4155550199")


def test_editing_a_client_shows_the_number_grouped_and_saves_it_back_unchanged(admin_app, admin):
    with admin_app.app_context():
        client = create_client(
            db.session, actor=Actor.system(), data=ClientInput.from_mapping({"name": "Ada", "phone": "+14155550199"})
        )
        db.session.commit()
        client_id = client.id
    page = f"/admin/clients/{client_id}/edit"
    assert 'value="+1 415-555-0199"' in admin.get(page).get_data(as_text=True)
    response = admin.post_form(page, {"name": "Ada", "client_type": "individual", "phone": "+1 415-555-0199"})
    assert response.status_code == 302
    with admin_app.app_context():
        assert db.session.get(Client, client_id).phone == "+14155550199"
