"""Reading figures back out of report pages and CSV files, as a user comparing them would."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from html.parser import HTMLParser


class _Tables(HTMLParser):
    """Rows of every ``<table data-report=...>``: {report: {row key: [cell texts]}}."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, dict[str, list[str]]] = {}
        self._table: str | None = None
        self._row: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and "data-report" in attrs:
            self._table = attrs["data-report"]
            self.tables[self._table] = {}
        elif tag == "tr" and self._table and "data-key" in attrs:
            self._row = attrs["data-key"]
            self.tables[self._table][self._row] = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self.tables[self._table][self._row].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr":
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def page_tables(html: str) -> dict[str, dict[str, list[str]]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def amount(text: str) -> Decimal | None:
    """``NGN 29,025.00`` -> 29025.00, ``-$1.50`` -> -1.50, an empty cell -> None."""
    digits = re.sub(r"[^0-9.\-]", "", text.replace("\u2212", "-"))
    return Decimal(digits) if digits not in ("", "-", ".") else None


def read_csv(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
