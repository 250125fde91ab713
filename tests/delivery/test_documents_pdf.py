"""Invoice and receipt PDFs (SPEC §5.1 figures, §8 rendering rules)."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
import tempfile
from decimal import Decimal

import pytest
from PIL import Image

from shared.documents import engine, pdf_filename, render_invoice_pdf, render_receipt_pdf
from shared.documents import pdf as pdf_module
from shared.documents.engine import DocumentURLFetcher
from shared.documents.fetcher import ASSETS_DIR, LOGO_URL, FetchRefused
from shared.documents.formatting import format_money
from shared.inputs import PaymentInput
from shared.services import get_settings, record_payment, void_invoice, void_payment
from support.delivery import pdf_text, squeeze

# SQLite only: PDF rendering.
pytestmark = pytest.mark.backends("sqlite")

HOSTILE_NAME = '<script>alert(1)</script><img src="file:///etc/passwd">'
PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d4944415478da63f8cfc0f01f0005000200d2a6a8a40000000049454e44ae426082"
)


def ngn_example(make_invoice, **fields):
    """SPEC §5.1: 2 × 15000.00 at 7.5 %, discount 10 % -> total 29025.00."""
    data = {
        "currency": "NGN",
        "purchase_order": "PO-778",
        "discount": {"type": "percent", "value": "10"},
        "items": [{"description": "Consulting", "quantity": "2", "unit_price": "15000.00", "tax_rate": "7.5"}],
    }
    data.update(fields)
    return make_invoice(issue=True, **data)


def test_invoice_pdf_shows_the_stored_figures(session, make_client, make_invoice):
    client = make_client(name="Brightpath Academy Ltd", billing_address="Plot 22 Aminu Kano Crescent\nWuse II, Abuja")
    invoice = ngn_example(make_invoice, client=client)
    assert invoice.total == Decimal("29025.00")

    text = pdf_text(render_invoice_pdf(session, invoice))

    total = format_money(invoice.total, "NGN").replace("\xa0", " ")
    assert total == "NGN 29,025.00"
    assert invoice.number in text
    assert "Brightpath Academy Ltd" in text
    assert "Wuse II, Abuja" in text
    assert "PO-778" in text
    for figure in ("NGN 30,000.00", "NGN 3,000.00", "NGN 2,025.00", total):
        assert figure in text, figure
    assert "Discount (10%)" in text
    assert "7.5%" in text
    assert "29,025.00" in text
    assert "Page 1 of 1" in text


def test_rendering_twice_gives_the_same_bytes(session, make_invoice):
    invoice = ngn_example(make_invoice)
    first = render_invoice_pdf(session, invoice, as_of=dt.date(2026, 1, 1))
    pdf_module.clear_cache()
    second = render_invoice_pdf(session, invoice, as_of=dt.date(2026, 1, 1))
    assert first == second
    assert first.startswith(b"%PDF-")


def test_pdf_metadata_comes_from_the_document(session, make_invoice):
    if shutil.which("pdfinfo") is None:
        pytest.skip("pdfinfo is missing: apt-get install poppler-utils")
    invoice = ngn_example(make_invoice)
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(render_invoice_pdf(session, invoice))
        handle.flush()
        info = subprocess.run(["pdfinfo", "-isodates", handle.name], capture_output=True, text=True, check=True).stdout
    assert re.search(rf"^Title:\s+Invoice {invoice.number}$", info, re.M), info
    issued = invoice.issued_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    assert re.search(rf"^CreationDate:\s+{issued}", info, re.M), info


@pytest.mark.parametrize(
    ("state", "stamp"),
    [("open-not-due", None), ("overdue", "OVERDUE"), ("paid", "PAID"), ("void", "VOID")],
)
def test_invoice_carries_the_stamp_of_its_state(session, actor, make_invoice, state, stamp):
    today = dt.date.today()
    invoice = make_invoice(
        issue=True,
        issue_date=(today - dt.timedelta(days=30)).isoformat(),
        due_date=(today - dt.timedelta(days=2)).isoformat(),
    )
    as_of = today
    if state == "open-not-due":
        as_of = today - dt.timedelta(days=10)
    elif state == "paid":
        record_payment(session, actor=actor, invoice_id=invoice.id, data=PaymentInput(amount="100.00"))
    elif state == "void":
        void_invoice(session, actor=actor, invoice_id=invoice.id, reason="raised in error")
    text = squeeze(pdf_text(render_invoice_pdf(session, invoice, as_of=as_of)))  # the stamp is letter-spaced
    stamps = {word for word in ("OVERDUE", "PAID", "VOID", "DRAFT") if word in text}
    assert stamps == ({stamp} if stamp else set())


def test_draft_renders_for_review_without_a_number(session, make_invoice):
    draft = make_invoice(lines=2)
    text = pdf_text(render_invoice_pdf(session, draft))
    assert "DRAFT" in squeeze(text)
    assert "not yet numbered" in text
    assert not re.search(r"INV-\d{4}-\d+", text)
    assert pdf_filename(draft) == f"draft-invoice-{draft.id}.pdf"


def test_long_invoice_numbers_its_pages_and_repeats_the_table_header(session, make_invoice):
    invoice = make_invoice(issue=True, lines=60)
    pdf = render_invoice_pdf(session, invoice)
    pages = int(re.search(r"Page 1 of (\d+)", pdf_text(pdf, first=1, last=1)).group(1))
    assert pages >= 2
    second = pdf_text(pdf, first=2, last=2)
    assert f"Page 2 of {pages}" in second
    assert "DESCRIPTION" in second and "UNIT PRICE" in second
    assert "Item 60" in pdf_text(pdf, first=pages, last=pages)


def test_large_figures_widen_their_columns(session, make_invoice):
    item = {"description": "Plant hire", "quantity": "1000.5", "unit_price": "1234567.1234", "tax_rate": "12.3456"}
    invoice = make_invoice(issue=True, currency="NGN", items=[item])
    text = pdf_text(render_invoice_pdf(session, invoice))
    for figure in ("1,000.5", "1,234,567.1234", "12.3456%", "1,235,184,406.96"):
        assert re.search(rf"(^|\s){re.escape(figure)}(\s|$)", text, re.M), figure
    # The header cell's content width: the column's 34 mm less its 2 × 2.5 mm padding, or what the figure needs.
    assert pdf_module.figure_column_width(["100.00"], 34) == "29.0mm"
    assert float(pdf_module.figure_column_width(["1,235,184,406,000.96"], 34).removesuffix("mm")) > 29


def test_receipt_pdf_and_its_void_stamp(session, actor, make_invoice):
    invoice = ngn_example(make_invoice)
    payment, _ = record_payment(
        session, actor=actor, invoice_id=invoice.id, data=PaymentInput(amount="10000.00", reference="TRX123")
    )
    text = pdf_text(render_receipt_pdf(session, payment))
    assert payment.receipt_number in text and invoice.number in text
    assert "NGN 10,000.00" in text and "NGN 19,025.00" in text and "TRX123" in text
    assert "VOID" not in squeeze(text)
    assert pdf_filename(payment) == f"{payment.receipt_number}.pdf"

    void_payment(session, actor=actor, payment_id=payment.id, reason="bounced")
    assert "VOID" in squeeze(pdf_text(render_receipt_pdf(session, payment)))


@pytest.fixture
def logo_fetches(session, monkeypatch) -> list[str]:
    """A company logo, no image decoded yet in this process, and the list of URLs the renderer fetches."""
    settings = get_settings(session)
    settings.logo, settings.logo_mime = PNG_1PX, "image/png"
    session.commit()
    requested: list[str] = []
    original = DocumentURLFetcher.fetch

    def recording_fetch(self, url, headers=None):
        requested.append(url)
        return original(self, url, headers)

    monkeypatch.setattr(DocumentURLFetcher, "fetch", recording_fetch)
    monkeypatch.setattr(engine, "_images", (b"", {}))
    return requested


def test_hostile_client_name_is_text_and_nothing_outside_assets_is_fetched(
    session, make_client, make_invoice, logo_fetches
):
    requested = logo_fetches
    invoice = make_invoice(issue=True, client=make_client(name=HOSTILE_NAME))

    text = pdf_text(render_invoice_pdf(session, invoice), layout=False)

    assert squeeze(HOSTILE_NAME) in squeeze(text)
    assert LOGO_URL in requested  # the logo is the one thing fetched besides our CSS
    assets = ASSETS_DIR.as_uri() + "/"
    assert all(url == LOGO_URL or url.startswith(assets) for url in requested), requested


def test_the_logo_is_decoded_once_per_logo_not_once_per_render(session, make_invoice, monkeypatch, logo_fetches):
    requested = logo_fetches
    first, second = make_invoice(issue=True), make_invoice(issue=True)
    one = render_invoice_pdf(session, first)
    render_invoice_pdf(session, second)
    assert requested.count(LOGO_URL) == 1  # the second invoice reused the decoded logo

    other = Image.new("RGB", (3, 2), (200, 10, 10))
    buffer = io.BytesIO()
    other.save(buffer, format="PNG")
    get_settings(session).logo = buffer.getvalue()
    session.commit()
    assert render_invoice_pdf(session, first) != one  # a new logo is fetched and drawn, never the cached one
    assert requested.count(LOGO_URL) == 2


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://127.0.0.1:9/logo.png",
        "https://example.com/x.css",
        "data:text/plain;base64,aGk=",
        (ASSETS_DIR / ".." / "pdf.py").as_uri(),
        "file://evil.example" + str(ASSETS_DIR / "document.css"),
    ],
    ids=["etc-passwd", "http", "https", "data", "traversal", "remote-host"],
)
def test_url_fetcher_refuses_everything_but_assets_and_logo(url):
    fetcher = DocumentURLFetcher(logo=PNG_1PX, logo_mime="image/png")
    with pytest.raises(FetchRefused):
        fetcher.fetch(url)


def test_url_fetcher_serves_assets_and_the_logo():
    fetcher = DocumentURLFetcher(logo=PNG_1PX, logo_mime="image/png")
    css = fetcher.fetch((ASSETS_DIR / "document.css").as_uri())
    assert css.content_type == "text/css" and b"@page" in css.read()
    logo = fetcher.fetch(LOGO_URL)
    assert logo.content_type == "image/png" and logo.read() == PNG_1PX
    with pytest.raises(FetchRefused):
        DocumentURLFetcher().fetch(LOGO_URL)  # no logo stored: nothing to serve
