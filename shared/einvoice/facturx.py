"""Factur-X 1.0 (EN 16931 profile): the invoice PDF as PDF/A-3b with ``factur-x.xml`` embedded (SPEC §16).

The ``factur-x`` package embeds the XML and writes the Factur-X XMP schema;
it stamps the attachment and the metadata with the current time, which would
make every render differ. Those timestamps are the document's own time here
(when it was issued), so the same document always gives the same bytes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Iterator

from facturx import facturx as _facturx

PDF_VARIANT = "pdf/a-3b"
FILENAME = "factur-x.xml"
# The clock the factur-x package reads is swapped while it works: one embedding at a time.
_clock_lock = threading.Lock()


@contextlib.contextmanager
def _document_clock(moment: dt.datetime) -> Iterator[None]:
    moment = moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    pdf_time = moment.strftime("D:%Y%m%d%H%M%S+00'00'")
    xmp_time = moment.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    saved = _facturx._get_pdf_timestamp, _facturx._get_metadata_timestamp
    with _clock_lock:
        _facturx._get_pdf_timestamp = lambda date=None: pdf_time if date is None else saved[0](date)
        _facturx._get_metadata_timestamp = lambda: xmp_time
        try:
            yield
        finally:
            _facturx._get_pdf_timestamp, _facturx._get_metadata_timestamp = saved


def embed(pdf: bytes, xml: bytes, *, moment: dt.datetime, title: str, author: str, subject: str) -> bytes:
    """``pdf`` (a PDF/A-3b) with ``xml`` embedded as ``factur-x.xml`` and the Factur-X XMP metadata.

    ``moment`` is the document's time, written wherever the PDF holds a date.
    The XML was checked against the XSD when it was made, so it is not checked again.
    """
    metadata = {"author": author, "keywords": "Factur-X, Invoice", "title": title, "subject": subject}
    with _document_clock(moment):
        return _facturx.generate_from_binary(
            pdf, xml, flavor="factur-x", level="en16931", check_xsd=False, pdf_metadata=metadata, lang="en-GB"
        )
