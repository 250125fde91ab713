"""Issue 12 item 13: a logo is accepted only if its image data decodes, not just its container.

``Image.verify()`` checks a PNG's chunk checksums, not whether the compressed
pixels inflate to a picture; a file with a valid header and garbage image data
was saved as the company logo and broke every PDF that showed it. Importing
WeasyPrint also sets Pillow's ``ImageFile.LOAD_TRUNCATED_IMAGES`` for the whole
process, so inside the admin service a PNG whose pixel data stops short still
"loads". The check decodes the whole image with that switch off.
"""

from __future__ import annotations

import io
import struct
import zlib

import pytest
import sqlalchemy as sa
import weasyprint  # noqa: F401  (sets LOAD_TRUNCATED_IMAGES, as in a service that has rendered a PDF)
from PIL import Image, ImageFile
from sqlalchemy.orm import Session

from shared.errors import ValidationFailed
from shared.models import Settings
from shared.services.settings import check_logo
from support import csrf_from

WIDTH, HEIGHT = 40, 20
PIXELS = b"".join(b"\0" + b"\x24\x56\xc7" * WIDTH for _ in range(HEIGHT))  # filter byte + RGB per row


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_with_image_data(idat: bytes) -> bytes:
    """A PNG whose chunks are all well formed (checksums right), holding ``idat`` as its pixels."""
    header = struct.pack(">IIBBBBB", WIDTH, HEIGHT, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def jpeg_with_garbage_scan() -> bytes:
    """A JPEG whose headers are intact and whose compressed scan is cut off after a few bytes."""
    buffer = io.BytesIO()
    Image.new("RGB", (200, 100), (36, 86, 199)).save(buffer, format="JPEG")
    data = buffer.getvalue()
    start_of_scan = data.index(b"\xff\xda")
    scan_header_length = struct.unpack(">H", data[start_of_scan + 2 : start_of_scan + 4])[0]
    return data[: start_of_scan + 2 + scan_header_length + 4]


BROKEN = {
    "png-garbage-pixels": png_with_image_data(b"this is not deflate data" * 8),
    "png-pixels-cut-short": png_with_image_data(zlib.compress(PIXELS)[:30]),
    "jpeg-scan-cut-short": jpeg_with_garbage_scan(),
}


def test_weasyprint_is_what_turns_truncated_loading_on():
    """The premise: in our processes broken images load unless the check turns this off."""
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True


@pytest.mark.parametrize("name", BROKEN)
def test_a_logo_whose_image_data_does_not_decode_is_refused(name):
    with pytest.raises(ValidationFailed, match="is not a PNG or JPEG image"):
        check_logo(BROKEN[name])
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True, "the process-wide switch is put back"


def test_a_whole_png_and_jpeg_are_accepted():
    assert check_logo(png_with_image_data(zlib.compress(PIXELS))) == "image/png"
    buffer = io.BytesIO()
    Image.new("RGB", (200, 100), (36, 86, 199)).save(buffer, format="JPEG")
    assert check_logo(buffer.getvalue()) == "image/jpeg"


@pytest.mark.parametrize("name", BROKEN)
def test_the_admin_upload_refuses_a_broken_logo_and_changes_nothing(admin, engine, name):
    token = csrf_from(admin.get("/admin/settings").get_data(as_text=True))
    response = admin.client.post(
        "/admin/settings/logo",
        data={"csrf_token": token, "logo": (io.BytesIO(BROKEN[name]), "logo.png")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "is not a PNG or JPEG image" in body and "Logo saved" not in body
    with Session(engine) as session:
        assert session.scalar(sa.select(Settings.logo)) is None
