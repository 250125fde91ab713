"""Where the text of a document lands: whole figures, no overlaps, nothing past the margins (shared.documents).

The facts and totals print several rows' labels and values in one cell, a
line each, and their label columns are sized from DejaVu Sans's metrics
(``pdf.facts_table``, ``pdf.totals_table``): these tests read the words'
boxes back from the PDF (``pdftotext -bbox``) for the widest labels and
figures a document can hold.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from shared.documents import pdf as pdf_module
from shared.documents import render_credit_note_pdf, render_invoice_pdf, render_receipt_pdf, render_statement_pdf
from shared.documents.metrics import text_width_mm
from shared.inputs import CreditNoteInput, PaymentInput, SettingsChanges
from shared.services import issue_credit_note, record_payment
from shared.services.settings import update_settings
from support.delivery import Page, pdf_text, pdf_words, squeeze

# SQLite only: PDF rendering.
pytestmark = pytest.mark.backends("sqlite")

MM = 72 / 25.4  # points
A4_WIDTH, MARGIN = 210 * MM, 16 * MM
LONG_ORDER = "PURCHASE-ORDER-" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789-" * 2 + "XY"  # 93 characters, no space


@pytest.fixture
def company(session, actor):
    update_settings(
        session,
        actor=actor,
        data=SettingsChanges(
            company_name="Lagoon Digital Services Ltd",
            company_address="12 Marina Road\nLagos Island, Lagos",
            company_email="billing@lagoon.example",
            company_phone="+234 1 555 0100",
            company_tax_id="TIN 12345678-0001",
            payment_instructions="Bank transfer to account 0123456789, First Bank.",
        ),
    )


def assert_laid_out(pages: list[Page]) -> None:
    """No two words overlap, and every word is on the page inside its left and right margins."""
    for number, page in enumerate(pages, start=1):
        assert page.words, f"page {number} has no text"
        for word in page.words:
            where = f"page {number}: {word.text!r} at {word.x_min:.1f}-{word.x_max:.1f} pt"
            assert word.x_min >= MARGIN - 1 and word.x_max <= page.width - MARGIN + 1, where
            assert word.y_min >= 0 and word.y_max <= page.height, where
        words = sorted(page.words, key=lambda w: w.y_min)
        for i, word in enumerate(words):
            for other in words[i + 1 :]:
                if other.y_min >= word.y_max:
                    break
                assert not word.overlaps(other), f"page {number}: {word} overlaps {other}"


def line_of(page: Page, text: str) -> list[str]:
    """The words on the same line as the first word ``text``, left to right."""
    word = next(w for w in page.words if w.text == text)
    same = [w for w in page.words if abs(w.y_min - word.y_min) < 1]
    return [w.text for w in sorted(same, key=lambda w: w.x_min)]


def test_nine_figure_amounts_print_whole_and_apart(session, company, make_client, make_invoice):
    client = make_client(name="Adaeze Okafor Consulting and Engineering Partners", billing_address="Plot 7\nLekki")
    line = {"description": "Turnkey plant", "quantity": "1", "unit_price": "930232558.13", "tax_rate": "7.5"}
    invoice = make_invoice(issue=True, client=client, currency="NGN", items=[line])
    assert invoice.total == Decimal("999999999.99")
    pdf = render_invoice_pdf(session, invoice)

    text = pdf_text(pdf)
    assert text.count("NGN 999,999,999.99") >= 3  # balance due among the facts, the total and the balance
    assert "930,232,558.13" in text and "NGN 69,767,441.86" in text
    pages = pdf_words(pdf)
    assert_laid_out(pages)
    assert line_of(pages[0], "Subtotal")[-2:] == ["NGN", "930,232,558.13"]


def test_the_largest_amounts_a_document_can_hold_print_whole(session, company, make_invoice):
    """SPEC §5.1: a line and a total up to 10^12; the totals box widens for them instead of clipping."""
    line = {"description": "Everything", "quantity": "1000", "unit_price": "930232558.1395", "tax_rate": "7.5"}
    invoice = make_invoice(issue=True, currency="NGN", items=[line])
    assert invoice.total == Decimal("999999999999.96")
    totals = pdf_module.invoice_context(invoice, pdf_module.get_settings(session), as_of=invoice.issue_date)
    assert totals["totals_box"]["label_width"] is None  # too wide for the fixed layout: laid out as before

    pdf = render_invoice_pdf(session, invoice)
    assert pdf_text(pdf).count("NGN 999,999,999,999.96") >= 3
    assert_laid_out(pdf_words(pdf))


def test_a_long_purchase_order_wraps_in_its_own_row(session, company, make_invoice):
    invoice = make_invoice(issue=True, currency="NGN", purchase_order=LONG_ORDER)
    facts = pdf_module.invoice_context(invoice, pdf_module.get_settings(session), as_of=invoice.issue_date)["facts"]
    order = [row for row in facts["rows"] if row["label"] == "Purchase order"]
    assert order and order[0]["flow"] and order[0]["value"] == LONG_ORDER

    pdf = render_invoice_pdf(session, invoice)
    assert LONG_ORDER in squeeze(pdf_text(pdf))
    pages = pdf_words(pdf)
    assert_laid_out(pages)
    # Every label keeps its line: "Invoice number" is not pushed onto two.
    assert line_of(pages[0], "Invoice")[:3] == ["Invoice", "number", invoice.number]


def test_the_longest_labels_and_a_full_credit_note_sit_beside_their_figures(session, actor, company, make_invoice):
    items = [
        {"description": f"Item {n}", "quantity": "1", "unit_price": "99999999.99", "tax_rate": "7.5"} for n in (1, 2)
    ]
    invoice = make_invoice(issue=True, currency="NGN", items=items)
    record_payment(session, actor=actor, invoice_id=invoice.id, data=PaymentInput(amount="150000000.00"))
    note, _ = issue_credit_note(
        session, actor=actor, invoice_id=invoice.id, data=CreditNoteInput(reason="Cancelled", full=True)
    )
    pdf = render_credit_note_pdf(session, note)

    pages = pdf_words(pdf)
    assert_laid_out(pages)
    assert line_of(pages[0], "Credit")[:4] == ["Credit", "note", "number", note.number]
    assert note.applied == Decimal("64999999.98") and note.to_credit == Decimal("150000000.00")
    assert line_of(pages[0], "Set") == ["Set", "against", "the", "invoice", "NGN", "64,999,999.98"]
    assert line_of(pages[0], "To")[-2:] == ["NGN", "150,000,000.00"]


def test_receipt_labels_and_amounts_do_not_overlap(session, actor, company, make_invoice):
    invoice = make_invoice(
        issue=True,
        currency="NGN",
        items=[{"description": "x", "quantity": "1", "unit_price": "999999999.99", "tax_rate": "0"}],
    )
    payment, _ = record_payment(
        session, actor=actor, invoice_id=invoice.id, data=PaymentInput(amount="999999999.99", reference="R" * 60)
    )
    pdf = render_receipt_pdf(session, payment)
    assert_laid_out(pdf_words(pdf))
    assert "R" * 60 in squeeze(pdf_text(pdf))


def test_a_hundred_lines_page_break_with_numbers_in_step(session, company, make_invoice):
    items = [
        {
            "description": f"Day {n}" + (" of work on site, with travel and a long note" * 2 if n % 9 == 0 else ""),
            "quantity": "1",
            "unit_price": f"{1000 + n}.00",
            "tax_rate": "7.5",
        }
        for n in range(1, 101)
    ]
    pdf = render_invoice_pdf(session, make_invoice(issue=True, currency="NGN", items=items))
    pages = pdf_words(pdf)
    assert len(pages) >= 3
    assert_laid_out(pages)
    starts = []
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in " ".join(w.text for w in page.words)
        for word in page.words:
            if word.text == "Day":
                starts.append(word.x_min)
    assert len(starts) == 100
    assert max(starts) - min(starts) < 0.5  # every description starts in the same place, numbers 1 to 100 before it


def test_a_lines_figures_end_under_their_headers(session, company, make_invoice):
    """The four figures of a line are one run of text padded with figure spaces (pdf.figures_line): each must
    still end where its own right-aligned cell would, under its column's header, whatever its length."""
    items = [
        {"description": "Short", "quantity": "1", "unit_price": "5.00", "tax_rate": "0"},
        {"description": "Long", "quantity": "1000.5", "unit_price": "1234567.1234", "tax_rate": "12.3456"},
        {"description": "Middle", "quantity": "12", "unit_price": "15000", "tax_rate": "7.5"},
    ] * 20
    pdf = render_invoice_pdf(session, make_invoice(issue=True, currency="NGN", items=items))
    pages = pdf_words(pdf)
    assert len(pages) >= 2
    rows = 0
    for page in pages:
        header = {w.text: w for w in page.words if w.text in ("QTY", "PRICE", "TAX", "(NGN)")}
        assert set(header) == {"QTY", "PRICE", "TAX", "(NGN)"}  # the header repeats on every page
        ends = [header[name].x_max for name in ("QTY", "PRICE", "TAX", "(NGN)")]
        for word in page.words:
            if word.text in ("Short", "Long", "Middle"):
                figures = [w for w in page.words if abs(w.y_min - word.y_min) < 1 and w.x_min > word.x_max]
                assert len(figures) == 4, [w.text for w in figures]
                for figure, end in zip(sorted(figures, key=lambda w: w.x_min), ends, strict=True):
                    # The header's letter-spacing (0.05 em of 7.5 pt) trails its last letter by 0.375 pt.
                    assert abs(figure.x_max - end - 0.375) < 0.2, (figure, end)
                rows += 1
    assert rows == 60


def test_a_company_name_cannot_break_out_of_the_footer(session, actor, make_invoice):
    """The footer is a CSS string in a <style>: quotes, backslashes, line breaks and </style> print as typed."""
    name = 'Acme "Quotes" \\ Slash </style><p>x</p> ; } body { display: none }'
    update_settings(session, actor=actor, data=SettingsChanges(company_name=name))
    text = pdf_text(render_invoice_pdf(session, make_invoice(issue=True)))
    assert squeeze(f"{name} · Page 1 of 1") in squeeze(text)
    assert text.count("Acme") == 2  # the masthead and the footer: the page was not hidden


def test_fact_rows_share_a_row_while_their_values_fit_on_one_line():
    rows = pdf_module.fact_rows(
        [("Issue date", "1 Dec 2026"), ("Purchase order", " PO\t 12 \n"), ("Note", "x " * 80), ("Currency", "NGN\xa0")]
    )
    assert rows == [
        {"label": "Issue date\nPurchase order", "value": "1 Dec 2026\nPO 12", "flow": False},
        {"label": "Note", "value": ("x " * 80).strip(), "flow": True},
        {"label": "Currency", "value": "NGN\xa0", "flow": False},  # a no-break space is text, not layout
    ]


def test_column_widths_come_from_the_fonts_metrics():
    assert text_width_mm("0", 9) == pytest.approx(0.636 * 9 * 25.4 / 72, abs=0.01)
    assert text_width_mm("W", 9, True) > text_width_mm("W", 9)
    assert text_width_mm("\u4e00", 9) > text_width_mm("M", 9)  # a character not measured counts as the widest
    box = pdf_module.totals_table([("Subtotal", "NGN 1.00", ""), ("Balance due", "NGN 1.00", "balance")])
    assert box["label_width"] == f"{text_width_mm('Balance due', 10.5, True) + 0.5:.1f}mm"
    assert box["justified"]
    assert box["rows"] == [
        {"label": "Subtotal", "value": "NGN 1.00", "tone": "", "lines": [("Subtotal", "NGN\u20081.00")]},
        {
            "label": "Balance due",
            "value": "NGN 1.00",
            "tone": "balance",
            "lines": [("Balance\u2005\u200adue", "NGN\u2005\u200a1.00")],  # DejaVu Sans Bold's space, near enough
        },
    ]


def test_the_totals_box_as_justified_lines_prints_where_the_table_did(
    session, actor, company, make_invoice, monkeypatch
):
    """``pdf.totals_table``'s ``justified`` box puts every label and amount where the table's cells put them:
    on an invoice (a discount, two tax rates, a payment) beside its notes, one with its totals alone, a receipt,
    a credit note and a statement."""
    items = [
        {"description": "Design", "quantity": "3", "unit_price": "1250.00", "tax_rate": "7.5"},
        {"description": "Printing", "quantity": "1", "unit_price": "99.99", "tax_rate": "0"},
    ]
    rich = make_invoice(
        issue=True,
        currency="NGN",
        items=items,
        notes="Thank you",
        discount={"type": "percent", "value": "10"},
    )
    payment, _ = record_payment(session, actor=actor, invoice_id=rich.id, data=PaymentInput(amount="1000.00"))
    alone = make_invoice(issue=True, currency="NGN", items=items)
    note, _ = issue_credit_note(
        session, actor=actor, invoice_id=alone.id, data=CreditNoteInput(reason="Cancelled", full=True)
    )
    renders = [
        lambda: render_invoice_pdf(session, rich),
        lambda: render_invoice_pdf(session, alone),
        lambda: render_receipt_pdf(session, payment),
        lambda: render_credit_note_pdf(session, note),
        lambda: render_statement_pdf(session, rich.client_id),
    ]

    def words(pdf: bytes) -> list:
        return sorted(pdf_words(pdf)[0].words, key=lambda w: (round(w.y_min), w.x_min))

    justified = [words(render()) for render in renders]
    context = pdf_module.invoice_context(rich, pdf_module.get_settings(session), as_of=rich.issue_date)
    html = pdf_module.render_html("invoice.html", context)
    assert '<div class="sums">' in html  # lines, not a table
    totals_table = pdf_module.totals_table
    monkeypatch.setattr(pdf_module, "totals_table", lambda rows: {**totals_table(rows), "justified": False})
    pdf_module.clear_cache()
    for render, lines in zip(renders, justified, strict=True):
        cells = words(render())
        assert [w.text for w in lines] == [w.text for w in cells]
        for word, cell in zip(lines, cells, strict=True):
            # The bold face's spaces inside a label or an amount are 3/2048 em wider (pdf.justified_words).
            assert abs(word.x_min - cell.x_min) < 0.1 and abs(word.x_max - cell.x_max) < 0.1, (word, cell)
            assert abs(word.y_min - cell.y_min) < 0.01, (word, cell)


def test_a_headers_padding_is_the_nearest_the_spaces_can_make():
    """``pdf._header_pad`` bisects the runs of small spaces: the same padding as trying every run in turn."""

    def every_run(units: float) -> str:
        best = (abs(units), "")
        figure = pdf_module._HEADER_FIGURE_SPACE
        for figures in range(max(0, int(units // figure) - 2), int(units // figure) + 1):
            for width, text in pdf_module._HEADER_RUNS:
                if abs(units - figures * figure - width) < best[0]:
                    best = (abs(units - figures * figure - width), figures * pdf_module.FIGURE_SPACE + text)
        return best[1]

    widths = [width for width, _ in pdf_module._HEADER_RUNS]
    units = [n * 113.7 - 500 for n in range(400)]  # -500 to 44,900: short of, within and past the figure spaces
    units += widths[::29] + [(a + b) / 2 for a, b in zip(widths[::29], widths[1::29], strict=False)]  # exact and ties
    for value in units:
        assert pdf_module._header_pad(value) == every_run(value), value
