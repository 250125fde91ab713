"""Admin pages beyond the walkthrough: settings and logo, users, API keys, sign-in brake, outages."""

import hashlib
import io
import re

import pytest
from PIL import Image
from sqlalchemy import func, select

from shared.db import db
from shared.inputs import ClientInput, InvoiceDraft
from shared.lookups import get_settings
from shared.models import ApiKey, Client, QueuedMessage, Settings, User
from shared.services import Actor, Notify, create_client, create_draft, issue_invoice
from support import ADMIN_PASSWORD, app_config, csrf_from, sign_in, sign_in_fails

# SQLite only: form handling and rendering; the database outage test below runs on Postgres.
pytestmark = pytest.mark.backends("sqlite")

PNG_HEADER = b"\x89PNG\r\n\x1a\n"


def png_bytes(size=(40, 20)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (36, 86, 199)).save(buffer, format="PNG")
    return buffer.getvalue()


def settings_row(app) -> Settings:
    with app.app_context():
        row = get_settings(db.session)
        db.session.expunge_all()
        return row


def test_settings_are_saved_and_errors_named(admin_app, admin):
    page = admin.get("/admin/settings").get_data(as_text=True)
    assert 'name="company_name"' in page and "<label" in page
    data = {
        "company_name": "Lagoon Digital",
        "company_email": "billing@lagoon.example",
        "invoice_number_format": "LD-{year}-{seq:04d}",
        "receipt_number_format": "LR-{year}-{seq:04d}",
        "default_currency": "USD",
        "payment_terms_days": "30",
        "tax_rounding": "document",
        "reminder_offsets": "-5, 0, 7",
        "reminder_repeat_days": "10",
        "reminder_max": "4",
    }
    response = admin.post_form("/admin/settings", data, follow=True)
    assert "Settings saved." in response.get_data(as_text=True)
    saved = settings_row(admin_app)
    assert (saved.company_name, saved.invoice_number_format, saved.reminder_offsets) == (
        "Lagoon Digital",
        "LD-{year}-{seq:04d}",
        [-5, 0, 7],
    )
    assert (saved.default_currency, saved.payment_terms_days, saved.tax_rounding) == ("USD", 30, "document")

    bad = admin.post_form("/admin/settings", {**data, "invoice_number_format": "INV-{seq}", "reminder_offsets": "3, 1"})
    body = bad.get_data(as_text=True)
    assert "Must contain {year}" in body and "from earliest to latest" in body
    assert settings_row(admin_app).invoice_number_format == "LD-{year}-{seq:04d}"


def upload(admin, data: bytes, filename: str):
    token = csrf_from(admin.get("/admin/settings").get_data(as_text=True))
    return admin.client.post(
        "/admin/settings/logo",
        data={"csrf_token": token, "logo": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def test_a_png_logo_is_accepted_and_served(admin_app, admin):
    response = upload(admin, png_bytes(), "logo.png")
    assert "Logo saved" in response.get_data(as_text=True)
    assert settings_row(admin_app).logo_mime == "image/png"
    image = admin.get("/admin/settings/logo")
    assert image.status_code == 200 and image.data.startswith(PNG_HEADER)
    assert image.headers["Content-Security-Policy"] == "default-src 'none'"


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "logo.svg", "PNG or JPEG"),
        (b"GIF89a" + b"\x00" * 100, "logo.png", "PNG or JPEG"),  # lies about its type
        (PNG_HEADER + b"\x00" * 200, "logo.png", "PNG or JPEG"),  # a PNG header on nothing
        (png_bytes((2400, 10)), "wide.png", "2000 pixels"),
        (b"", "empty.png", "Choose an image"),
    ],
)
def test_bad_logos_are_refused_and_change_nothing(admin_app, admin, data, filename, message):
    response = upload(admin, data, filename)
    assert message in response.get_data(as_text=True)
    assert settings_row(admin_app).logo is None


def test_an_oversized_logo_is_refused(admin_app, admin):
    big = PNG_HEADER + b"\x00" * (600 * 1024)
    body = upload(admin, big, "big.png").get_data(as_text=True)
    assert "at most 512 KB" in body
    assert settings_row(admin_app).logo is None


def test_admin_adds_and_deactivates_a_user(admin_app, admin):
    response = admin.post_form(
        "/admin/users",
        {"name": "Bola", "email": "bola@example.com", "role": "staff", "password": "bola-password-1"},
        follow=True,
    )
    assert "Bola can now sign in" in response.get_data(as_text=True)
    with admin_app.app_context():
        user = db.session.scalars(select(User).where(User.email == "bola@example.com")).one()
        assert user.password_hash.startswith("scrypt:")
        user_id = user.id
    short = admin.post_form(
        "/admin/users", {"name": "X", "email": "x@example.com", "role": "staff", "password": "short"}
    )
    assert "at least 10 characters" in short.get_data(as_text=True)
    admin.post_form("/admin/users", {}, to=f"/admin/users/{user_id}/deactivate")
    with admin_app.app_context():
        assert db.session.get(User, user_id).is_active is False
    assert sign_in_fails(admin_app, "bola@example.com", "bola-password-1")


def test_api_key_is_shown_once_and_only_its_hash_kept(admin_app, admin):
    response = admin.post_form("/admin/api-keys", {"name": "Web shop", "scope": "write"})
    body = response.get_data(as_text=True)
    secret = re.search(r"data-new-key>([^<]+)<", body).group(1)
    assert response.headers["Cache-Control"] == "no-store"
    with admin_app.app_context():
        key = db.session.scalars(select(ApiKey)).one()
        assert key.key_hash == hashlib.sha256(secret.encode()).hexdigest()
        key_id = key.id
    assert secret not in admin.get("/admin/api-keys").get_data(as_text=True)
    admin.post_form("/admin/api-keys", {}, to=f"/admin/api-keys/{key_id}/revoke")
    with admin_app.app_context():
        assert db.session.get(ApiKey, key_id).revoked_at is not None


def test_five_wrong_passwords_lock_the_account(admin_app, users):
    for _ in range(5):
        assert sign_in_fails(admin_app, "staff@example.com", "wrong-password")
    client = admin_app.test_client()
    token = csrf_from(client.get("/admin/login").get_data(as_text=True))
    response = client.post(
        "/admin/login", data={"csrf_token": token, "email": "staff@example.com", "password": ADMIN_PASSWORD}
    )
    assert response.status_code == 200 and "Too many failed sign-ins" in response.get_data(as_text=True)


def test_sign_in_never_follows_an_offsite_next(admin_app, users):
    client = admin_app.test_client()
    token = csrf_from(client.get("/admin/login").get_data(as_text=True))
    response = client.post(
        "/admin/login?next=//evil.example/x",
        data={"csrf_token": token, "email": "admin@example.com", "password": ADMIN_PASSWORD},
    )
    assert response.headers["Location"] == "/admin/"


def test_archive_and_restore_a_client(admin_app, admin):
    with admin_app.app_context():
        client_id = create_client(db.session, actor=Actor.system(), data=ClientInput(name="Kwame")).id
    admin.post_form(f"/admin/clients/{client_id}", {}, to=f"/admin/clients/{client_id}/archive")
    with admin_app.app_context():
        assert db.session.get(Client, client_id).archived_at is not None
    assert f'/admin/clients/{client_id}">Kwame' not in admin.get("/admin/clients").get_data(as_text=True)
    assert f'/admin/clients/{client_id}">Kwame' in admin.get("/admin/clients?show=archived").get_data(as_text=True)
    admin.post_form(f"/admin/clients/{client_id}", {}, to=f"/admin/clients/{client_id}/restore")
    with admin_app.app_context():
        assert db.session.get(Client, client_id).archived_at is None


def test_delivery_cancel_and_retry_from_the_queue_page(admin_app, admin):
    with admin_app.app_context():
        client = create_client(db.session, actor=Actor.system(), data=ClientInput(name="Q", email="q@example.com"))
        draft = create_draft(
            db.session,
            actor=Actor.system(),
            data=InvoiceDraft.from_mapping(
                {"client_id": client.id, "items": [{"description": "x", "quantity": "1", "unit_price": "1"}]}
            ),
        )
        issue_invoice(db.session, actor=Actor.system(), invoice_id=draft.id, notify=Notify(email=True))
        row_id = db.session.scalar(select(QueuedMessage.id))
    admin.post_form("/admin/delivery", {}, to=f"/admin/delivery/{row_id}/cancel")
    with admin_app.app_context():
        assert db.session.get(QueuedMessage, row_id).state == "cancelled"
    response = admin.post_form("/admin/delivery", {}, to=f"/admin/delivery/{row_id}/retry", follow=True)
    assert "queued again" in response.get_data(as_text=True)
    with admin_app.app_context():
        assert db.session.get(QueuedMessage, row_id).state == "queued"
        assert db.session.scalar(select(func.count()).select_from(QueuedMessage)) == 1


@pytest.mark.parametrize("backend", ["postgresql"])  # SQLite is a file; there is no server to take away
def test_database_outage_shows_a_friendly_page_and_recovers(backend, database_url, users):
    import main_service
    from support.tcp_proxy import TcpProxy

    host_port = database_url.split("@", 1)[1].split("/", 1)[0]
    host, port = host_port.split(":")
    with TcpProxy(host, int(port)) as proxy:
        app = main_service.create_app(app_config(database_url.replace(host_port, f"127.0.0.1:{proxy.port}")))
        client = app.test_client()
        assert client.get("/admin/login").status_code == 200
        browser = sign_in(app, "admin@example.com")
        assert browser.get("/admin/").status_code == 200
        proxy.stop()
        down = browser.get("/admin/")
        assert down.status_code == 503
        body = down.get_data(as_text=True)
        assert "briefly unavailable" in body and "Traceback" not in body
        proxy.start()
        assert browser.get("/admin/").status_code == 200
        with app.app_context():
            db.engine.dispose()


def test_submitting_the_review_form_twice_sends_once(admin_app, admin):
    with admin_app.app_context():
        client = create_client(db.session, actor=Actor.system(), data=ClientInput(name="Twice", email="t@example.com"))
        draft_id = create_draft(
            db.session,
            actor=Actor.system(),
            data=InvoiceDraft.from_mapping(
                {"client_id": client.id, "items": [{"description": "x", "quantity": "1", "unit_price": "1"}]}
            ),
        ).id
    review = f"/admin/invoices/{draft_id}/review"
    token = csrf_from(admin.get(review).get_data(as_text=True))
    form = {"csrf_token": token, "email": "y", "intent": "issue"}
    admin.client.post(f"/admin/invoices/{draft_id}/send", data=form)
    again = admin.client.post(f"/admin/invoices/{draft_id}/send", data=form, follow_redirects=True)
    assert "already issued" in again.get_data(as_text=True)
    with admin_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(QueuedMessage)) == 1
