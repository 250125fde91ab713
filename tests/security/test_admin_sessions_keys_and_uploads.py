"""Gaps beside tests/admin: CSRF tokens bound to their session, sessions cut on deactivation,
keys revoked from the UI and scoped, hostile logo files."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from shared.models import ApiKey, Settings, User
from support import csrf_from, sign_in

# SQLite only: sessions, CSRF and uploads are decided in Python.
pytestmark = pytest.mark.backends("sqlite")


def test_a_csrf_token_from_another_session_is_refused(admin_app, users):
    alice = sign_in(admin_app, "admin@example.com")
    mallory = sign_in(admin_app, "staff@example.com")
    stolen = csrf_from(mallory.get("/admin/clients/new").get_data(as_text=True))
    response = alice.client.post(
        "/admin/clients/new", data={"csrf_token": stolen, "name": "Forged", "email": "forged@example.com"}
    )
    assert response.status_code == 400


def test_a_deactivated_user_is_signed_out_at_the_next_request(admin_app, users, engine):
    staff = sign_in(admin_app, "staff@example.com")
    assert staff.get("/admin/").status_code == 200
    with Session(engine) as session:
        session.execute(sa.update(User).where(User.email == "staff@example.com").values(is_active=False))
        session.commit()
    response = staff.get("/admin/")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


def test_a_key_revoked_in_the_ui_stops_working_at_once(admin_app, api_app, users, keys, engine):
    headers = {"Authorization": f"Bearer {keys['write']}"}
    assert api_app.test_client().get("/api/v1/clients", headers=headers).status_code == 200
    with Session(engine) as session:
        key_id = session.scalar(sa.select(ApiKey.id).where(ApiKey.scope == "write"))
    admin = sign_in(admin_app, "admin@example.com")
    response = admin.post_form("/admin/api-keys", {}, to=f"/admin/api-keys/{key_id}/revoke")
    assert response.status_code == 302
    refused = api_app.test_client().get("/api/v1/clients", headers=headers)
    assert refused.status_code == 401 and refused.mimetype == "application/problem+json"


def test_keys_are_scoped(api_app, keys):
    def post(scope: str, path: str, body: dict):
        return api_app.test_client().post(
            f"/api/v1{path}", json=body, headers={"Authorization": f"Bearer {keys[scope]}"}
        )

    assert post("read", "/clients", {"name": "R"}).status_code == 403
    assert post("write", "/clients", {"name": "W"}).status_code == 201
    expense = post("write", "/expenses", {"title": "T", "category": "C", "amount": "1"}).get_json()
    assert post("write", f"/expenses/{expense['id']}/approve", {}).status_code == 403
    assert post("admin", f"/expenses/{expense['id']}/approve", {}).status_code == 200


def png_claiming(width: int, height: int) -> bytes:
    """A tiny, valid-looking PNG whose header claims a huge canvas (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("data", "filename", "mimetype"),
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "logo.png", "image/png"),  # SVG posing as PNG
        (b"<html><script>alert(1)</script></html>", "logo.jpg", "image/jpeg"),  # HTML posing as JPEG
        (b"\xff\xd8\xff\xe0" + b"<script>alert(1)</script>", "logo.jpg", "image/jpeg"),  # a JPEG magic on script
        (png_claiming(60000, 60000), "bomb.png", "image/png"),  # 3.6 gigapixels claimed in 100 bytes
        (b"\x89PNG\r\n\x1a\n" + b"\0" * (600 * 1024), "big.png", "image/png"),  # over 512 KB
    ],
    ids=["svg-as-png", "html-as-jpeg", "jpeg-magic-on-script", "decompression-bomb", "oversized"],
)
def test_hostile_logos_are_refused_and_change_nothing(admin_app, admin_browser, engine, data, filename, mimetype):
    token = csrf_from(admin_browser.get("/admin/settings").get_data(as_text=True))
    response = admin_browser.client.post(
        "/admin/settings/logo",
        data={"csrf_token": token, "logo": (io.BytesIO(data), filename, mimetype)},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Logo saved" not in response.get_data(as_text=True)
    with Session(engine) as session:
        assert session.scalar(sa.select(Settings.logo)) is None


@pytest.fixture
def admin_browser(admin_app, users):
    return sign_in(admin_app, "admin@example.com")
