"""PNG pictures of a PDF's pages, so any browser shows the exact document on screen."""

from __future__ import annotations

import io

import pypdfium2

MAX_PREVIEW_PAGES = 20


def page_count(pdf: bytes) -> int:
    document = pypdfium2.PdfDocument(pdf)
    try:
        return len(document)
    finally:
        document.close()


def page_png(pdf: bytes, page_number: int, *, scale: float = 1.5) -> bytes:
    """Page ``page_number`` (1-based) of ``pdf`` as a PNG; IndexError past the last page."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        if not 1 <= page_number <= min(len(document), MAX_PREVIEW_PAGES):
            raise IndexError(page_number)
        page = document[page_number - 1]
        try:
            image = page.render(scale=scale).to_pil()
        finally:
            page.close()
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=True)
        return buffer.getvalue()
    finally:
        document.close()
