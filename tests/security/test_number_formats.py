"""Issue 12 item 8: a number format takes only {year}, {seq}/{seq:0Nd} and printable characters.

A format such as ``INV-{year}\\r\\n{seq}`` or ``INV-{year}-{seq:c}`` (the
sequence as a character: ``{seq:c}`` with seq 10 is a line feed) used to be
saved; every invoice numbered with it carried a line break into its e-mail
subject and could never be sent. SPEC §5.2: "only the placeholders ``{year}``
and ``{seq}``/``{seq:0Nd}``, and printable characters other than control
characters". One check (``shared.numbering.check_number_format``) serves the
settings service and, through it, the admin settings form.
"""

from __future__ import annotations

import time

import pytest

from shared.db import db
from shared.errors import ValidationFailed
from shared.inputs import SettingsChanges
from shared.lookups import get_settings
from shared.numbering import check_number_format
from shared.services import Actor
from shared.services.settings import update_settings

# SQLite only: the format check is Python's (shared.numbering.check_number_format); numbering runs on both.
pytestmark = pytest.mark.backends("sqlite")

BAD_FORMATS = [
    "INV-{year}\r\n{seq}",
    "INV-{year}\n{seq}",
    "INV-{year}\t{seq}",
    "INV-{year}-{seq}\x00",
    "INV-{year}-{seq}\x1b[31m",
    "INV-{year}\u2028{seq}",  # line separator
    "INV-{year}\u0085{seq}",  # next line (C1 control)
    "INV-{year}\u200b{seq}",  # zero-width space
    "INV-{year}-{seq:c}",
    "INV-{year}-{seq!r}",
    "INV-{year!s}-{seq}",
    "INV-{year:x}-{seq}",
    "INV-{year}-{seq:>5}",
    "INV-{year}-{seq:5d}",
    "INV-{year}-{seq:,d}",
    "INV-{year}-{seq:05x}",
    "INV-{year}-{seq:{year}}",
    "INV-{year}-{seq.real}",
    "INV-{year}-{seq[0]}",
    "INV-{year}-{}",
]


@pytest.mark.parametrize("fmt", BAD_FORMATS)
def test_a_format_with_control_characters_or_other_conversions_is_refused(fmt):
    with pytest.raises(ValidationFailed) as refused:
        check_number_format(fmt, "invoice_number_format")
    assert list(refused.value.errors) == ["invoice_number_format"]


@pytest.mark.parametrize(
    ("fmt", "number"),
    [
        ("INV-{year}-{seq:05d}", "INV-2026-00001"),
        ("{year}/{seq:04d}", "2026/0001"),
        ("RCT {year} {seq}", "RCT 2026 1"),
        ("Фактура-{year}-{seq:03d}", "Фактура-2026-001"),
        ("{{{year}}}-{seq}", "{2026}-1"),
    ],
)
def test_the_placeholders_of_the_spec_with_printable_text_are_accepted(fmt, number):
    assert check_number_format(fmt).format(year=2026, seq=1) == number


def test_a_huge_zero_padding_is_refused_without_building_the_number():
    started = time.perf_counter()
    with pytest.raises(ValidationFailed, match="seq:0Nd"):
        check_number_format("{year}-{seq:0999999999d}")
    assert time.perf_counter() - started < 1


def test_a_format_longer_than_its_column_is_refused():
    with pytest.raises(ValidationFailed, match="60 characters"):
        check_number_format("{{}}" * 14 + "{year}{seq}")


def test_the_settings_service_refuses_a_format_with_a_line_break_and_keeps_the_old_one(session):
    before = get_settings(session).invoice_number_format
    session.commit()
    with pytest.raises(ValidationFailed) as refused:
        update_settings(
            session,
            actor=Actor.system("tests"),
            data=SettingsChanges(
                invoice_number_format="INV-{year}\r\n{seq}", receipt_number_format="RCT-{year}-{seq:c}"
            ),
        )
    assert set(refused.value.errors) == {"invoice_number_format", "receipt_number_format"}
    session.rollback()
    session.expire_all()
    assert get_settings(session).invoice_number_format == before


def test_the_admin_settings_form_shows_the_refusal(admin, admin_app):
    data = {
        "company_name": "Lagoon Digital",
        "invoice_number_format": "INV-{year}\r\n{seq}",
        "receipt_number_format": "RCT-{year}-{seq:c}",
        "default_currency": "NGN",
        "payment_terms_days": "14",
        "tax_rounding": "line",
        "reminder_offsets": "-3, 0, 3",
        "reminder_repeat_days": "7",
        "reminder_max": "6",
    }
    response = admin.post_form("/admin/settings", data)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "May only contain printable characters" in body
    assert "not {seq:c}" in body
    with admin_app.app_context():
        saved = get_settings(db.session)
        assert (saved.invoice_number_format, saved.receipt_number_format) == (
            "INV-{year}-{seq:05d}",
            "RCT-{year}-{seq:05d}",
        )
        db.session.remove()
