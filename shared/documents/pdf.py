"""Invoice and receipt PDFs: autoescaped Jinja templates rendered by WeasyPrint (SPEC §8).

A PDF is a pure function of the stored document: every figure comes from the
stored invoice and payment rows (never recomputed), the PDF's dates and
identifier come from the document itself, and nothing is fetched but our own
assets and the stored logo. Rendering the same document twice gives the same
bytes, so a retried e-mail carries exactly the attachment of the first try.

Because of that, the last few PDFs are kept in memory keyed by a hash of the
rendered HTML (which holds every figure and date) and the logo: a worker
sending one invoice to several recipients, or a reminder batch, pays
WeasyPrint's render once per distinct document, never for stale content.
"""

from __future__ import annotations

import bisect
import collections
import datetime as dt
import hashlib
import math
import re
import threading
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import jinja2
from sqlalchemy.orm import Session

from shared.documents import formatting
from shared.documents.fetcher import LOGO_URL
from shared.documents.metrics import BOLD_UNITS as _BOLD_UNITS
from shared.documents.metrics import text_width_mm
from shared.documents.payment_qr import beneficiary, payment_qr_svg
from shared.errors import Conflict
from shared.lookups import get_settings
from shared.models import Client, CreditNote, Invoice, Payment, Quote, Settings
from shared.reports import Statement, StatementEntry, client_statement

# The company's paper setting (shared.models.enums.PAPER_SIZES) as a CSS @page size.
PAPER_CSS = {"A4": "A4", "Letter": "letter"}

_CACHE_SIZE = 64
_cache: collections.OrderedDict[str, bytes] = collections.OrderedDict()
_cache_lock = threading.Lock()

environment = jinja2.Environment(
    loader=jinja2.PackageLoader("shared.documents", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    finalize=formatting.strip_bidi_controls,  # no user text can reorder the figures after it
)
environment.globals.update(number_header=lambda: NUMBER_HEADER)
environment.filters.update(
    date=formatting.format_date,
    phone=formatting.format_phone,
    quantity=formatting.format_quantity,
    rate=formatting.format_rate,
)


class DocumentError(Exception):
    """A document could not be rendered (the message says which and why)."""


@dataclass(frozen=True)
class Stamp:
    word: str  # PAID, VOID, OVERDUE, DRAFT
    tone: str  # CSS class: good, bad, muted


def _w3c(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _company(settings: Settings) -> dict[str, Any]:
    return {
        "name": settings.company_name,
        "address": settings.company_address,
        "email": settings.company_email,
        "phone": settings.company_phone,
        "tax_id": settings.company_tax_id,
        "website": settings.company_website,
        "logo_url": LOGO_URL if settings.logo else None,
        "payment_instructions": settings.payment_instructions,
        "bank": bank_details(settings),
    }


def bank_details(settings: Settings) -> dict[str, str] | None:
    """The bank details block (SPEC §14): account holder, IBAN in groups of four, BIC; None until an IBAN is set."""
    if not settings.iban:
        return None
    return {
        "holder": beneficiary(settings),
        "iban": formatting.format_iban(settings.iban),
        "bic": settings.bic,
    }


def invoice_stamp(invoice: Invoice, as_of: dt.date) -> Stamp | None:
    if invoice.is_draft:
        return Stamp("DRAFT", "muted")
    if invoice.is_void:
        return Stamp("VOID", "bad")
    if invoice.is_paid:
        return Stamp("PAID", "good")
    if invoice.is_credited:
        return Stamp("CREDITED", "muted")
    if invoice.is_overdue(as_of):
        return Stamp("OVERDUE", "bad")
    return None


def _discount_label(invoice: Invoice | Quote) -> str:
    if invoice.discount_type == "percent" and invoice.discount_value is not None:
        return f"Discount ({formatting.format_rate(invoice.discount_value)})"
    return "Discount"


def _document_times(invoice: Invoice) -> tuple[dt.datetime, dt.datetime]:
    """Created and last-changed times of what the document shows (not of the row)."""
    created = invoice.issued_at or invoice.created_at
    events = [created, invoice.voided_at]
    for payment in invoice.payments:
        events += [payment.created_at, payment.voided_at]
    for note in invoice.credit_notes:
        events.append(note.created_at)
    if invoice.is_draft:
        events.append(invoice.updated_at)
    return created, max(t for t in events if t is not None)


# Widths (em) of DejaVu Sans characters, for sizing figure columns: digits are
# tabular, separators half a digit; anything else counts as a wide letter.
_GLYPH_EM = {**dict.fromkeys("0123456789", 0.636), ",": 0.318, ".": 0.318, "%": 0.95, "-": 0.361}
_BODY_PT = 9  # html { font-size } in document.css
_CELL_PADDING_MM = 5  # .lines td padding, both sides
_MM_PER_PT = 25.4 / 72


def figure_column_width(values: list[str], minimum_mm: float) -> str:
    """The ``width`` of a figures column's header cell: its longest value's, and the column at least ``minimum_mm``.

    The lines table has a fixed layout: WeasyPrint's automatic layout measures
    every cell twice before placing it, a fifth of a long invoice's render. A
    column of unbreakable figures must still never be narrower than its widest
    figure, so this sizes it from the figures themselves (a millimetre to
    spare). The width is the cell's content, inside its padding: the header
    cells carry it, as a ``<col>`` per column would cost WeasyPrint a box each.
    """
    widest = max((sum(_GLYPH_EM.get(c, 0.75) for c in value) for value in values), default=0)
    needed = widest * _BODY_PT * _MM_PER_PT + 1
    return f"{max(minimum_mm - _CELL_PADDING_MM, needed):.1f}mm"


# The facts beside the client (document.css .facts): 87.5 % of the 48 % column, on the narrower paper
# (A4: 210 mm less two 16 mm margins), with 4 mm between a label and its value.
_FACTS_MM = (210 - 2 * 16) * 0.48 * 0.875
_FACT_GAP_MM = 4
_HTML_SPACES = re.compile(r"[ \t\r\n\f]+")  # what HTML collapses; a no-break space stays


def one_line(text: str) -> str:
    """``text`` as HTML prints it on one line: runs of spaces, tabs and line breaks as one space, none at the ends."""
    return _HTML_SPACES.sub(" ", text).strip(" ")


def fact_rows(facts: list[tuple[str, str]], *, width_mm: float = _FACTS_MM) -> list[dict[str, Any]]:
    """The facts (label, value) as few table rows as they print in.

    Each table cell costs WeasyPrint about half a millisecond to style, lay out
    and draw, whatever it holds, so consecutive facts whose values fit on one
    line share one row of two cells: the labels one per line in the first, the
    values one per line in the second (``white-space: pre`` keeps both cells'
    lines in step). The widths come from DejaVu Sans's own metrics and count
    every character not measured as the widest glyph, so a value that might
    not fit is never put there: it gets a row of its own (``flow``) and wraps
    in it, as every value did when each had its row.
    """
    facts = [(one_line(label), one_line(value)) for label, value in facts]
    widest_label = max((text_width_mm(label, _BODY_PT) for label, _ in facts), default=0)
    room = width_mm - widest_label - _FACT_GAP_MM - 1  # a millimetre to spare
    rows: list[dict[str, Any]] = []
    for label, value in facts:
        if text_width_mm(value, _BODY_PT) > room:
            rows.append({"label": label, "value": value, "flow": True})
        elif rows and not rows[-1]["flow"]:
            rows[-1]["label"] += "\n" + label
            rows[-1]["value"] += "\n" + value
        else:
            rows.append({"label": label, "value": value, "flow": False})
    return rows


def facts_table(facts: list[tuple[str, str]], strong: list[tuple[str, str]]) -> dict[str, Any]:
    """The facts block: :func:`fact_rows`, the bold facts under them, and its label column's width when it can be fixed.

    A fixed table layout spares WeasyPrint measuring every cell before placing
    it. Its label column is the widest label's width; the values get the rest,
    which is used only when every value fits there on one line (a long one in
    a ``flow`` row wraps): otherwise the table lays itself out as before.
    """
    rows = fact_rows(facts)
    labels = [text_width_mm(line, _BODY_PT) for row in rows for line in row["label"].split("\n")]
    labels += [text_width_mm(one_line(label), _BODY_PT, True) for label, _ in strong]
    label_mm = max(labels, default=0) + 0.5
    values = [text_width_mm(line, _BODY_PT) for row in rows if not row["flow"] for line in row["value"].split("\n")]
    values += [text_width_mm(one_line(value), _BODY_PT, True) for _, value in strong]
    fixed = label_mm + _FACT_GAP_MM + max(values, default=0) + 0.5 <= _FACTS_MM
    return {"rows": rows, "strong": strong, "label_width": f"{label_mm:.1f}mm" if fixed else None}


# The totals box (document.css .totals): 88 % of the half page on A4, 2.5 mm padding each side of a cell;
# plain rows 9 pt, the total 10 pt bold, the balance 10.5 pt bold.
_TOTALS_MM = (210 - 2 * 16) * 0.5 * 0.88
_TOTALS_PADDING_MM = 5
_TONE_FONT = {"": (_BODY_PT, False), "grand": (10, True), "balance": (10.5, True)}


def totals_table(rows: list[tuple[str, str, str]]) -> dict[str, Any]:
    """The totals box: :func:`totals_rows`, and its label column's width when the box can have a fixed layout.

    Labels and amounts never wrap. When the widest label and the widest
    amount, in their rows' fonts, fit the box side by side, the label column
    is fixed at the widest label and the amounts get the rest; otherwise the
    box lays itself out as before, widening for a long amount.

    When every label fits beside its amount with a millimetre to spare, the
    box is no table at all (``justified``, document.css ``.sums``): a block per
    row and a justified line per total, its label at the start and its amount
    at the end (``lines``, :func:`justified_words`), where the cells' edges
    were. A table, its row group, rows and cells cost WeasyPrint about a tenth
    of a 1-page invoice's render.
    """
    label_mm = max(text_width_mm(label, *_TONE_FONT[tone]) for label, _, tone in rows)
    value_mm = max(text_width_mm(value, *_TONE_FONT[tone]) for _, value, tone in rows)
    fixed = label_mm + value_mm + 1 + 2 * _TOTALS_PADDING_MM <= _TOTALS_MM
    justified = all(
        text_width_mm(f"{label} {value}", *_TONE_FONT[tone]) + 1 + 2 * _TOTALS_PADDING_MM <= _TOTALS_MM
        for label, value, tone in rows
    )
    grouped = totals_rows(rows)
    if justified:
        for row in grouped:
            bold = _TONE_FONT[row["tone"]][1]
            row["lines"] = [
                (justified_words(label, bold), justified_words(value, bold))
                for label, value in zip(row["label"].split("\n"), row["value"].split("\n"), strict=True)
            ]
    return {"rows": grouped, "label_width": f"{label_mm + 0.5:.1f}mm" if fixed else None, "justified": justified}


# A label and its value as one justified line (document.css .sums): justification widens every space and
# no-break space of the line, so those inside the label and the value are spaces it leaves alone, as wide
# in DejaVu Sans: U+2008 PUNCTUATION SPACE in the regular face (651/2048 em, a space's advance); in the bold
# face U+2005 FOUR-PER-EM and U+200A HAIR SPACE (512 + 204 = 716/2048 em against a space's 713, 0.005 mm).
_INNER_SPACE = {False: "\N{PUNCTUATION SPACE}", True: "\N{FOUR-PER-EM SPACE}\N{HAIR SPACE}"}


def justified_words(text: str, bold: bool) -> str:
    """``text`` with its spaces and no-break spaces as ones a justified line does not widen (:data:`_INNER_SPACE`)."""
    return text.replace(" ", _INNER_SPACE[bold]).replace(NO_BREAK_SPACE, _INNER_SPACE[bold])


def totals_rows(rows: list[tuple[str, str, str]]) -> list[dict[str, str]]:
    """The totals box's rows (label, amount, tone), consecutive plain ones sharing a row as in :func:`fact_rows`.

    ``tone`` is ``grand`` (the total), ``balance`` (what is left to pay or
    hold) or empty. Amounts never wrap (``white-space: pre``): the box widens
    for a long one, as it did when every row was its own.
    """
    grouped: list[dict[str, str]] = []
    for label, value, tone in rows:
        if not tone and grouped and not grouped[-1]["tone"]:
            grouped[-1]["label"] += "\n" + label
            grouped[-1]["value"] += "\n" + value
        else:
            grouped.append({"label": label, "value": value, "tone": tone})
    return grouped


def css_string(text: str) -> str:
    """``text`` as a quoted CSS string: anything but letters, digits and plain punctuation as a six-digit
    escape, so no quote, backslash or line break in a company's name can end the string or the rule."""
    safe = set(" .,-_@:/·'()&+")
    text = formatting.strip_bidi_controls(text)
    escaped = "".join(c if c.isalnum() and c.isascii() or c in safe else f"\\{ord(c):06x}" for c in text)
    return f'"{escaped}"'


def line_number(position: int) -> str:
    """What leads a line's description: its number, padded to three figures, then a fixed gap (11.1 mm at 9 pt).

    The number sits in the description cell's hanging indent (document.css
    ``.numbered .description``), not in a cell of its own: a cell, or an inline
    element to colour the number, costs WeasyPrint about half a millisecond a
    line. Figure spaces are as wide as a figure and, like the no-break space,
    neither collapse nor break, so every description starts at the same place
    (an invoice has at most 500 lines).
    """
    return f"{position}".ljust(5, FIGURE_SPACE) + NO_BREAK_SPACE


# The "#" over the line numbers, in the header's 7.5 pt bold letter-spaced capitals: 11.3 mm, its
# description header set back by as much (document.css .numbered th.description).
NUMBER_HEADER = "#" + 4 * "\N{FIGURE SPACE}" + "\N{NO-BREAK SPACE}"
FIGURE_SPACE = "\N{FIGURE SPACE}"
PUNCTUATION_SPACE = "\N{PUNCTUATION SPACE}"
NO_BREAK_SPACE = "\N{NO-BREAK SPACE}"


# DejaVu Sans's advances, in 1/2048 em: a figure and U+2007 FIGURE SPACE; "," "." and U+2008 PUNCTUATION SPACE.
_FIGURE_UNITS, _POINT_UNITS, _PERCENT_UNITS, _UNITS_PER_EM = 1303, 651, 1946, 2048
_MM_PER_UNIT = _BODY_PT * _MM_PER_PT / _UNITS_PER_EM
# Between two figures: 2 figure spaces and a punctuation space, 5.05 mm at 9 pt (the cells' padding was 5 mm).
_FIGURES_GAP = 2 * FIGURE_SPACE + PUNCTUATION_SPACE
_FIGURES_GAP_UNITS = 2 * _FIGURE_UNITS + _POINT_UNITS
# The figures after the quantity, their headers and their columns' least widths (as when each had a cell).
_PADDED_COLUMNS = {"unit_price": ("Unit price", 30), "tax_rate": ("Tax", 16), "amount": ("Amount", 34)}

# The header (document.css .lines th): 7.5 pt bold capitals spaced 0.05 em, kerning off, so a label is as
# wide as its letters' advances. It is padded with the spaces of DejaVu Sans Bold below (advance in 1/2048 em,
# plus the letter spacing each gets too): combined, they come within a hundredth of a millimetre of any width.
_HEADER_PT = 7.5
_HEADER_SPACING = 0.05 * _UNITS_PER_EM
_HEADER_MM_PER_UNIT = _HEADER_PT * _MM_PER_PT / _UNITS_PER_EM
_HEADER_SPACES = {
    "\u200a": 204,
    "\u2006": 342,
    "\u2009": 409,
    "\u2005": 512,
    "\u2004": 675,
    "\u2008": 778,
    "\u2002": 1024,
}
_HEADER_FIGURE_SPACE = 1425 + _HEADER_SPACING


def _header_space_runs() -> list[tuple[float, str]]:
    """Every run of up to two of each small space, by width: what pads a header to within a few units."""
    runs = [(0.0, "")]
    for space, units in _HEADER_SPACES.items():
        runs = [(width + n * (units + _HEADER_SPACING), text + n * space) for width, text in runs for n in range(3)]
    return sorted(runs)


_HEADER_RUNS = _header_space_runs()
_HEADER_RUN_WIDTHS = [width for width, _ in _HEADER_RUNS]


def _header_pad(units: float) -> str:
    """Spaces as close to ``units`` wide (header font, 1/2048 em) as DejaVu Sans Bold's spaces can make.

    Up to two figure spaces fewer than fit, then the run of small spaces
    nearest what is left: found by bisection in the runs sorted by width (the
    2,187 runs were once tried in turn, a millisecond of every render). Of
    equally near paddings the first in that order wins, fewer figure spaces
    first, then the narrower run, then the first of equally wide runs.
    """
    best = (abs(units), "")
    for figures in range(max(0, int(units // _HEADER_FIGURE_SPACE) - 2), int(units // _HEADER_FIGURE_SPACE) + 1):
        rest = units - figures * _HEADER_FIGURE_SPACE
        above = bisect.bisect_left(_HEADER_RUN_WIDTHS, rest)  # the first run at least ``rest`` wide
        candidates = [above] if above < len(_HEADER_RUNS) else []
        if above > 0:  # the first of the widest runs narrower than ``rest``, tried before ``above``
            candidates.insert(0, bisect.bisect_left(_HEADER_RUN_WIDTHS, _HEADER_RUN_WIDTHS[above - 1]))
        for index in candidates:
            width, text = _HEADER_RUNS[index]
            if abs(rest - width) < best[0]:
                best = (abs(rest - width), figures * FIGURE_SPACE + text)
    return best[1]


def _header_units(label: str) -> float:
    return sum(_BOLD_UNITS.get(c, 2048) + _HEADER_SPACING for c in label.upper())


def figures_line(lines: list[dict[str, Any]], currency: str) -> dict[str, str] | None:
    """A line's four figures as one run of text in one cell, each where its own cell would have put it.

    A table cell costs WeasyPrint about half a millisecond to style, lay out and
    draw, whatever it holds, so the quantity, unit price, tax rate and amount of
    a line share one right-aligned cell instead of one each. They are digits,
    "," "." and "%" only, in DejaVu Sans, whose figures and figure spaces have
    one width and whose separators and punctuation spaces another, with no
    kerning between them: padded with figure and punctuation spaces to its
    column's widest, and a fixed gap before it, each figure ends exactly where
    its column's right edge puts it, at any length. The header is one run too,
    its labels padded to end over their figures (``_header_pad``).

    Each line gets ``figures``; the result has the cell's width (``width``, its
    content) and the header's text (``header``). ``None`` (each figure in its
    own cell then) if a figure holds another character, which the formatting
    never gives.
    """
    total_mm = float(figure_column_width([line["quantity"] for line in lines], 16).removesuffix("mm"))
    total_mm += _CELL_PADDING_MM
    layout = {}
    header = "Qty"
    for column, (label, minimum_mm) in _PADDED_COLUMNS.items():
        counts = []
        for line in lines:
            value = line[column]
            rest = value.lstrip("0123456789,.")
            if rest not in ("", "%") or any(c in "0123456789,." for c in rest):
                return None
            counts.append((sum(c.isdigit() for c in value), sum(c in ",." for c in value), rest))
        if len({rest for _, _, rest in counts}) > 1:
            return None
        most_figures = max(f for f, _, _ in counts)
        most_points = max(p for _, p, _ in counts)
        units = _FIGURES_GAP_UNITS + most_figures * _FIGURE_UNITS + most_points * _POINT_UNITS
        units += _PERCENT_UNITS if counts[0][2] == "%" else 0
        extra = max(0, math.ceil((minimum_mm / _MM_PER_UNIT - units) / _POINT_UNITS))  # to the column's least width
        units += extra * _POINT_UNITS
        layout[column] = (counts, most_figures, most_points + extra)
        width_mm = units * _MM_PER_UNIT
        total_mm += width_mm
        label = f"{label} ({currency})" if column == "amount" else label
        header += _header_pad(width_mm / _HEADER_MM_PER_UNIT - _header_units(label)) + label
    for index, line in enumerate(lines):
        run = [line["quantity"]]
        for column, (counts, most_figures, most_points) in layout.items():
            figures, points, _ = counts[index]
            pad = (most_figures - figures) * FIGURE_SPACE + (most_points - points) * PUNCTUATION_SPACE
            run.append(_FIGURES_GAP + pad + line[column])
        line["figures"] = "".join(run)
    return {"width": f"{total_mm - _CELL_PADDING_MM:.3f}mm", "header": header}


def _figure_columns(lines: list[dict[str, Any]], currency: str) -> dict[str, Any]:
    """The lines table's figures: one run per line (``figures_line``) or, failing that, a cell per figure."""
    run = figures_line(lines, currency)
    if run is not None:
        return {**run, "one_run": True}
    # Minimums: the (uppercase, letter-spaced) headers' widths.
    return {
        "quantity": figure_column_width([line["quantity"] for line in lines], 16),
        "unit_price": figure_column_width([line["unit_price"] for line in lines], 30),
        "tax_rate": figure_column_width([line["tax_rate"] for line in lines], 16),
        "amount": figure_column_width([line["amount"] for line in lines], 34),
        "one_run": False,
    }


def _lines_and_totals(document: Invoice | Quote) -> dict[str, Any]:
    """The lines table and the §5.1 totals of an invoice or a quote, formatted from the stored figures."""
    currency = document.currency

    def show(name: str) -> str:
        return formatting.format_money(document.amount(name), currency)

    lines = [
        {
            "number": line_number(line.position),
            "description": line.description,
            "quantity": formatting.format_quantity(line.quantity),
            "unit_price": formatting.format_unit_price(line.unit_price, currency),
            "tax_rate": formatting.format_rate(line.tax_rate),
            "amount": formatting.format_number(line.amount, currency),
        }
        for line in document.lines
    ]
    return {
        "currency": currency,
        "lines": lines,
        "columns": _figure_columns(lines, currency),
        "totals": {
            "subtotal": show("subtotal"),
            "discount": show("discount_total") if document.discount_total > 0 else None,
            "discount_label": _discount_label(document),
            "tax": show("tax_total"),
            "tax_by_rate": [
                {"label": f"Tax {formatting.format_rate(r.rate)}", "amount": formatting.format_money(r.tax, currency)}
                for r in document.tax_by_rate
            ]
            if document.shows_tax_by_rate
            else [],
            "total": show("total"),
        },
    }


def _charged_rows(totals: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Subtotal, discount and tax rows of the totals box (invoice, quote, credit note), before the total."""
    rows = [("Subtotal", totals["subtotal"], "")]
    if totals.get("discount"):
        rows.append((totals["discount_label"], "\N{MINUS SIGN}" + totals["discount"], ""))
    rows += [(rate["label"], rate["amount"], "") for rate in totals["tax_by_rate"]] or [("Tax", totals["tax"], "")]
    return rows


def quote_stamp(quote: Quote, as_of: dt.date) -> Stamp | None:
    if quote.is_draft:
        return Stamp("DRAFT", "muted")
    if quote.is_expired_on(as_of):
        return Stamp("EXPIRED", "muted")
    if quote.is_declined:
        return Stamp("DECLINED", "bad")
    if quote.is_accepted or quote.is_invoiced:
        return Stamp("ACCEPTED", "good")
    return None


def quote_context(quote: Quote, settings: Settings, *, as_of: dt.date) -> dict[str, Any]:
    """Everything the quote template shows, formatted, from the stored rows only."""
    created = quote.sent_at or quote.created_at
    events = [created, quote.accepted_at, quote.declined_at, quote.updated_at if quote.is_draft else None]
    acceptance = None
    if quote.accepted_at is not None:
        acceptance = f"Accepted by {quote.accepted_by} on {formatting.format_date(quote.accepted_at.date())}."
    elif quote.declined_at is not None:
        acceptance = "Declined" + (f": {quote.declined_reason}" if quote.declined_reason else ".")
    context = {
        "kind": "quote",
        "title": f"Quote {quote.number}" if quote.number else "Draft quote",
        "created": _w3c(created),
        "modified": _w3c(max(t for t in events if t is not None)),
        "company": _company(settings),
        "client": quote.billed_to,
        "quote": quote,
        "number": quote.number,
        "stamp": quote_stamp(quote, as_of),
        "acceptance": acceptance,
        **_lines_and_totals(quote),
    }
    totals = context["totals"]
    context["facts"] = facts_table(
        ([("Quote number", quote.number)] if quote.number else [])
        + [
            ("Issue date", formatting.format_date(quote.issue_date)),
            ("Valid until", formatting.format_date(quote.valid_until)),
        ]
        + ([("Purchase order", quote.purchase_order)] if quote.purchase_order else [])
        + [("Currency", quote.currency)],
        [("Total", totals["total"])],
    )
    context["totals_box"] = totals_table([*_charged_rows(totals), ("Total", totals["total"], "grand")])
    return context


def invoice_context(invoice: Invoice, settings: Settings, *, as_of: dt.date) -> dict[str, Any]:
    """Everything the invoice template shows, formatted, from the stored rows only."""
    currency = invoice.currency
    created, modified = _document_times(invoice)
    context = {
        "kind": "invoice",
        "title": f"Invoice {invoice.number}" if invoice.number else "Draft invoice",
        "created": _w3c(created),
        "modified": _w3c(modified),
        "company": _company(settings),
        "client": invoice.billed_to,
        "invoice": invoice,
        "number": invoice.number,
        "stamp": invoice_stamp(invoice, as_of),
        "payment_qr": payment_qr_svg(invoice, settings),
        **_lines_and_totals(invoice),
        "credit_notes": [
            {"number": note.number, "date": note.issue_date, "amount": formatting.format_money(note.total, currency)}
            for note in invoice.credit_notes
        ],
    }
    totals = context["totals"]
    totals["amount_paid"] = formatting.format_money(invoice.amount("amount_paid"), currency)
    # SPEC §11: credits applied (credit notes and client credit) show on the invoice when there are any.
    if invoice.amount_credited > 0:
        totals["amount_credited"] = formatting.format_money(invoice.amount("amount_credited"), currency)
    else:
        totals["amount_credited"] = None
    totals["balance_due"] = formatting.format_money(invoice.balance_due, currency)
    context["facts"] = facts_table(
        ([("Invoice number", invoice.number)] if invoice.number else [])
        + [
            ("Issue date", formatting.format_date(invoice.issue_date)),
            ("Due date", formatting.format_date(invoice.due_date)),
        ]
        + ([("Purchase order", invoice.purchase_order)] if invoice.purchase_order else [])
        + [("Currency", currency)],
        [("Balance due", totals["balance_due"])],
    )
    context["totals_box"] = totals_table(
        [
            *_charged_rows(totals),
            ("Total", totals["total"], "grand"),
            ("Amount paid", totals["amount_paid"], ""),
            *(
                [("Credits applied", "\N{MINUS SIGN}" + totals["amount_credited"], "")]
                if totals["amount_credited"]
                else []
            ),
            ("Balance due", totals["balance_due"], "balance"),
        ]
    )
    return context


def credit_note_context(note: CreditNote, settings: Settings) -> dict[str, Any]:
    """Everything the credit-note template shows, formatted, from the stored rows only."""
    invoice = note.invoice
    currency = note.currency

    def show(name: str) -> str:
        return formatting.format_money(note.amount(name), currency)

    lines = [
        {
            "number": line_number(item.position),
            "description": item.description,
            "quantity": formatting.format_quantity(item.quantity),
            "unit_price": formatting.format_unit_price(item.unit_price, currency),
            "tax_rate": formatting.format_rate(item.tax_rate),
            "amount": formatting.format_number(item.amount, currency),
        }
        for item in note.items
    ]
    context = {
        "kind": "credit-note",
        "title": f"Credit note {note.number}",
        "created": _w3c(note.created_at),
        "modified": _w3c(note.created_at),
        "company": _company(settings),
        "client": invoice.billed_to,
        "invoice": invoice,
        "note": note,
        "number": note.number,
        "stamp": None,
        "lines": lines,
        "columns": _figure_columns(lines, currency),
        "totals": {
            "subtotal": show("subtotal"),
            "tax": show("tax_total"),
            "tax_by_rate": [
                {"label": f"Tax {formatting.format_rate(r.rate)}", "amount": formatting.format_money(r.tax, currency)}
                for r in note.tax_by_rate
            ]
            if note.shows_tax_by_rate
            else [],
            "total": show("total"),
            "applied": show("applied"),
            "to_credit": show("to_credit") if note.to_credit > 0 else None,
            "zero": formatting.format_money(Decimal(0), currency),
        },
    }
    totals = context["totals"]
    context["facts"] = facts_table(
        [
            ("Credit note number", note.number),
            ("Issue date", formatting.format_date(note.issue_date)),
            ("Corrects invoice", invoice.number),
            ("Invoice date", formatting.format_date(invoice.issue_date)),
            ("Currency", currency),
        ],
        [("Amount credited", totals["total"])],
    )
    context["totals_box"] = totals_table(
        [
            *_charged_rows(totals),
            ("Total credited", totals["total"], "grand"),
            ("Set against the invoice", totals["applied"], ""),
            ("To your credit", totals["to_credit"] or totals["zero"], "balance"),
        ]
    )
    return context


def render_credit_note_pdf(session: Session, note: CreditNote, *, variant: str | None = None) -> bytes:
    """A credit note as a PDF (SPEC §11): the invoice's look, titled CREDIT NOTE, naming the invoice it corrects.

    ``variant="pdf/a-3b"`` makes the archival PDF its Factur-X file is built on (SPEC §16).
    """
    settings = get_settings(session)
    context = credit_note_context(note, settings)
    identifier = f"credit_note:{note.id}:{note.number}"
    return _write_pdf(render_html("credit_note.html", context), settings, identifier, variant)


def receipt_context(payment: Payment, settings: Settings) -> dict[str, Any]:
    invoice = payment.invoice
    currency = payment.currency
    # "Paid to date" as it stood once this payment arrived: live payments up to
    # and including this one, so a later payment does not change this receipt.
    paid_to_date = sum((p.amount for p in invoice.payments if not p.is_void and p.id <= payment.id), Decimal(0))
    remaining = invoice.total - paid_to_date
    modified = payment.voided_at or payment.created_at
    method = formatting.method_label(payment.method)
    amounts = {
        "received": formatting.format_money(payment.amount, currency),
        "invoice_total": formatting.format_money(invoice.total, currency),
        "paid_to_date": formatting.format_money(paid_to_date, currency),
        "remaining": formatting.format_money(remaining, currency),
    }
    return {
        "kind": "receipt",
        "title": f"Receipt {payment.receipt_number}",
        "created": _w3c(payment.created_at),
        "modified": _w3c(modified),
        "company": _company(settings),
        "client": invoice.billed_to,
        "invoice": invoice,
        "payment": payment,
        "number": payment.receipt_number,
        "stamp": Stamp("VOID", "bad") if payment.is_void else None,
        "method": method,
        "amounts": amounts,
        "facts": facts_table(
            [
                ("Receipt number", payment.receipt_number),
                ("Payment date", formatting.format_date(payment.paid_on)),
                ("Method", method),
            ]
            + ([("Reference", payment.reference)] if payment.reference else [])
            + [("For invoice", invoice.number)],
            [("Amount received", amounts["received"])],
        ),
        "totals_box": totals_table(
            [
                ("Invoice total", amounts["invoice_total"], ""),
                ("This payment", amounts["received"], ""),
                ("Paid to date", amounts["paid_to_date"], "grand"),
                ("Balance remaining", amounts["remaining"], "balance"),
            ]
        ),
    }


def _statement_details(entry: StatementEntry) -> str:
    if entry.kind == "invoice":
        return f"Invoice, due {formatting.format_date(entry.due_date)}"
    if entry.kind == "credit_note":
        return f"Credit note for {entry.invoice_number}"
    if entry.kind == "refund":
        return f"Refund of credit, {formatting.method_label(entry.method or '')}"
    return f"{formatting.method_label(entry.method or '')}, for {entry.invoice_number}"


def statement_context(statement: Statement, settings: Settings) -> dict[str, Any]:
    """The statement template's facts: one section per currency, each with its running balance."""
    as_of = dt.datetime.combine(statement.as_of, dt.time(0, 0), tzinfo=dt.UTC)
    sections = []
    for section in statement.sections:
        currency = section.currency
        sections.append(
            {
                "currency": currency,
                "entries": [
                    {
                        "date": entry.date,
                        "reference": entry.reference,
                        "details": _statement_details(entry),
                        "charge": formatting.format_number(entry.charge, currency) if entry.charge is not None else "",
                        "payment": formatting.format_number(entry.payment, currency)
                        if entry.payment is not None
                        else "",
                        "balance": formatting.format_number(entry.balance, currency),
                    }
                    for entry in section.entries
                ],
                "invoiced": formatting.format_money(section.invoiced, currency),
                "received": formatting.format_money(section.paid, currency),
                "balance": formatting.format_money(section.balance, currency),
                "overdue": formatting.format_money(section.overdue, currency) if section.overdue > 0 else None,
            }
        )
        figures = sections[-1]
        figures["totals_box"] = totals_table(
            [
                ("Total invoiced", figures["invoiced"], ""),
                ("Total paid", figures["received"], ""),
                *([("Of which overdue", figures["overdue"], "")] if figures["overdue"] else []),
                ("Balance due", figures["balance"], "balance"),
            ]
        )
    return {
        "kind": "statement",
        "title": f"Statement of account, {formatting.format_date(statement.as_of)}",
        "created": _w3c(as_of),
        "modified": _w3c(as_of),
        "company": _company(settings),
        "client": statement.client.snapshot(),
        "as_of": statement.as_of,
        "stamp": None,
        "sections": sections,
        "has_amount_due": statement.has_amount_due,
        "facts": facts_table(
            [("Statement date", formatting.format_date(statement.as_of))],
            [(f"Balance due ({section['currency']})", section["balance"]) for section in sections],
        ),
    }


# The templates' indentation: whitespace alone between two tags (HTML's spaces, never a no-break space).
_BETWEEN_TAGS = re.compile(r">[ \t\r\n\f]+<")


def render_html(template: str, context: dict[str, Any]) -> str:
    """The document's HTML, without the templates' indentation between tags.

    That whitespace shows nowhere (the only inline neighbours, the contact
    details, are spaced by the stylesheet), but WeasyPrint parses it and makes
    a text box of each run: dropping it takes about a twentieth off a render.
    Autoescaping keeps ``<`` and ``>`` out of anything a user typed, so only
    whitespace between two of our own tags goes.
    """
    return _BETWEEN_TAGS.sub("><", environment.get_template(template).render(**context))


def page_css(settings: Settings) -> str:
    """The company's page set-up: its paper size, and the footer (name, tax ID, website) with the page number.

    One margin box holds the footer and "Page 2 of 3" (a running element and
    a second box cost more). It is a stylesheet of its own, not a ``<style>``
    in the document, so the engine parses it once per company rather than on
    every render (``engine.page_stylesheet``).
    """
    footer = " · ".join(
        part
        for part in (
            settings.company_name,
            f"Tax ID {settings.company_tax_id}" if settings.company_tax_id else "",
            settings.company_website,
        )
        if part
    )
    return (
        f"@page {{ size: {PAPER_CSS[settings.paper_size]}; "
        f'@bottom-left {{ content: {css_string(footer + " · Page ")} counter(page) " of " counter(pages); }} }}'
    )


def _write_pdf(html: str, settings: Settings, identifier: str, variant: str | None = None) -> bytes:
    logo = settings.logo or b""
    page = page_css(settings)
    key = hashlib.sha256(
        b"\0".join((html.encode(), page.encode(), hashlib.sha256(logo).digest(), identifier.encode()))
        + (variant or "").encode()
    ).hexdigest()
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    from shared.documents import engine  # WeasyPrint: imported on the first render, not with the package

    try:
        pdf = engine.write_pdf(
            html,
            page_css=page,
            logo=settings.logo,
            logo_mime=settings.logo_mime,
            identifier=identifier,
            variant=variant,
        )
    except Exception as exc:  # WeasyPrint raises many types; the caller needs one
        raise DocumentError(f"PDF rendering failed: {type(exc).__name__}: {exc}") from exc
    with _cache_lock:
        _cache[key] = pdf
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return pdf


def clear_cache() -> None:
    """Forget rendered PDFs (tests use it to prove re-rendering gives the same bytes)."""
    with _cache_lock:
        _cache.clear()


def render_invoice_pdf(
    session: Session, invoice: Invoice, *, as_of: dt.date | None = None, variant: str | None = None
) -> bytes:
    """The invoice as a PDF. ``as_of`` decides the OVERDUE stamp (default: today).

    A draft renders with a DRAFT stamp and no number, for review before issuing.
    ``variant="pdf/a-3b"`` makes the archival PDF a Factur-X file is built on (SPEC §16).
    """
    settings = get_settings(session)
    context = invoice_context(invoice, settings, as_of=as_of or dt.date.today())
    return _write_pdf(render_html("invoice.html", context), settings, f"invoice:{invoice.public_token}", variant)


# What a web request may render: about 600 printed rows of lines take WeasyPrint
# some 7 s here (a 100-line invoice 1.1 s, docs/benchmarks.md), well inside
# gunicorn's 30 s worker timeout even on a busy machine. A 500-line invoice of
# 500-character descriptions is over 4,000 rows and some 40 s.
MAX_ROWS_ON_REQUEST = 600
_DESCRIPTION_CHARS_PER_ROW = 60  # the description column at 9 pt, conservatively


class DocumentTooLong(Conflict):
    """The document is too long to render inside a web request (HTTP 409, with where to get it)."""


def printed_rows(invoice: Invoice | Quote) -> int:
    """An estimate of the rows the invoice's lines take on paper: a line's description wraps."""
    return sum(
        sum(max(1, -(-len(part) // _DESCRIPTION_CHARS_PER_ROW)) for part in line.description.split("\n"))
        for line in invoice.lines
    )


def check_renders_on_request(invoice: Invoice | Quote) -> None:
    """Refuse, with the reason and the way round it, an invoice (or quote) too long to render in a request."""
    rows = printed_rows(invoice)
    if rows > MAX_ROWS_ON_REQUEST:
        what = "Quote" if isinstance(invoice, Quote) else "Invoice"
        name = f"{what} {invoice.number}" if invoice.number else f"This draft {what.lower()}"
        raise DocumentTooLong(
            f"{name} is too long to render on request (about {rows:,} printed rows of lines; the limit is "
            f"{MAX_ROWS_ON_REQUEST:,}). Its PDF is attached to the e-mail the invoice is sent with, which is "
            "rendered in the background: send it, or resend it to yourself, to get the PDF."
        )


def render_invoice_pdf_on_request(session: Session, invoice: Invoice) -> bytes:
    """:func:`render_invoice_pdf` for a web request that returns the PDF: bounded by :func:`check_renders_on_request`.

    Requests that do not return the PDF never render it; the worker renders
    e-mail attachments of any length with :func:`render_invoice_pdf`.
    """
    check_renders_on_request(invoice)
    return render_invoice_pdf(session, invoice)


def render_quote_pdf(session: Session, quote: Quote, *, as_of: dt.date | None = None) -> bytes:
    """The quote as a PDF, titled QUOTE. ``as_of`` decides the EXPIRED stamp (default: today)."""
    settings = get_settings(session)
    context = quote_context(quote, settings, as_of=as_of or dt.date.today())
    return _write_pdf(render_html("quote.html", context), settings, f"quote:{quote.public_token}")


def render_quote_pdf_on_request(session: Session, quote: Quote) -> bytes:
    """:func:`render_quote_pdf` for a web request, bounded like the invoice's."""
    check_renders_on_request(quote)
    return render_quote_pdf(session, quote)


def render_receipt_pdf(session: Session, payment: Payment) -> bytes:
    """The receipt of a payment as a PDF; a voided payment's receipt shows VOID."""
    settings = get_settings(session)
    context = receipt_context(payment, settings)
    return _write_pdf(render_html("receipt.html", context), settings, f"receipt:{payment.id}:{payment.receipt_number}")


def render_statement_pdf(session: Session, client_id: int, *, as_of: dt.date | None = None) -> bytes:
    """A client's statement of account as of ``as_of`` (default today): the same day gives the same bytes."""
    settings = get_settings(session)
    statement = client_statement(session, client_id, as_of=as_of or dt.date.today())
    context = statement_context(statement, settings)
    identifier = f"statement:{client_id}:{statement.as_of.isoformat()}"
    return _write_pdf(render_html("statement.html", context), settings, identifier)


def statement_filename(client: Client, as_of: dt.date) -> str:
    """``statement-adaeze-okafor-2026-11-25.pdf``: safe as a file name, whatever the client is called."""
    name = re.sub(r"[^a-z0-9]+", "-", client.name.lower()).strip("-")[:60] or f"client-{client.id}"
    return f"statement-{name}-{as_of.isoformat()}.pdf"


def pdf_filename(document: Invoice | Payment | CreditNote | Quote) -> str:
    """``INV-2026-00001.pdf``, ``RCT-2026-00001.pdf``, ``CN-2026-00001.pdf``, ``draft-invoice-12.pdf``: file-name safe."""
    if isinstance(document, Payment):
        name = document.receipt_number
    elif document.number:
        name = document.number
    elif isinstance(document, Quote):
        name = f"draft-quote-{document.id}"
    else:
        name = f"draft-invoice-{document.id}"
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") + ".pdf"
