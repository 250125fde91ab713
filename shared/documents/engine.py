"""WeasyPrint, imported on the first render only: ``shared.documents`` and the apps load without it.

Importing WeasyPrint costs most of a second of CPU (Pango, HarfBuzz, fontTools,
its CSS tables), which every process that only builds e-mails, answers API
calls or runs a test would pay for nothing. ``shared.documents.pdf`` imports
this module inside ``_write_pdf``; nothing else in the package imports WeasyPrint.

What a render reuses, per process or thread: the parsed stylesheets, the font
configuration, the URL fetcher and the decoded logo.
"""

from __future__ import annotations

import collections
import hashlib
import re
import threading
import warnings

import tinyhtml5.inputstream
from weasyprint import CSS, HTML
from weasyprint.html import UA_COUNTER_STYLE
from weasyprint.text import ffi as weasyprint_ffi
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from shared.documents import fetcher

STYLESHEET = fetcher.ASSETS_DIR / "document.css"
UA_STYLESHEET = fetcher.ASSETS_DIR / "ua.css"
_stylesheet: tuple[int, CSS] | None = None
_stylesheet_lock = threading.Lock()
_fonts = threading.local()
_images: tuple[bytes, dict] = (b"", {})

if weasyprint_ffi.harfbuzz_subset is None:  # pragma: no cover - depends on the system
    # Without libharfbuzz-subset WeasyPrint subsets fonts with fontTools, which
    # stamps each embedded font with the current time, so two renders of one
    # invoice would differ. Pin that timestamp: a PDF must be a pure function
    # of its document. (Install libharfbuzz-subset0 to take the faster path.)
    from fontTools.ttLib.tables import _h_e_a_d

    _h_e_a_d.timestampNow = lambda: 0


class _CharsUntilPatterns(dict):
    """tinyhtml5's cache of ``chars_until`` patterns, keyed as it looks them up.

    tinyhtml5 2.1.0 stores each compiled pattern under ``(pattern, opposite)``
    (``characters = cache[key] = regex`` rebinds ``characters`` first) but looks
    it up under ``(characters, opposite)``, so every lookup misses and rebuilds
    the pattern: a third of the time WeasyPrint spends parsing a document. This
    builds the same pattern on the first miss and keeps it under the key asked for.
    """

    def __missing__(self, key):
        characters, opposite = key
        escaped = "".join(f"\\x{ord(character):02x}" for character in characters)
        pattern = self[key] = re.compile(f"[{'' if opposite else '^'}{escaped}]+")
        return pattern


tinyhtml5.inputstream.characters_until_regex = _CharsUntilPatterns()


class DocumentURLFetcher(URLFetcher):
    """Serves ``assets/`` files and the stored logo (at ``logo:company``); refuses the rest (``fetcher.fetch``).

    It keeps nothing of the documents it serves, so renders share one (``url_fetcher``).
    """

    def __init__(self, logo: bytes | None = None, logo_mime: str | None = None) -> None:
        super().__init__(timeout=1, allowed_protocols=("file", "logo"), allow_redirects=False)
        self.logo = logo
        self.logo_mime = logo_mime

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        body, mime = fetcher.fetch(url, self.logo, self.logo_mime)
        return URLFetcherResponse(url, body=body, headers={"Content-Type": mime})


_fetcher: DocumentURLFetcher | None = None


def url_fetcher(logo: bytes | None, logo_mime: str | None) -> DocumentURLFetcher:
    """The fetcher for documents showing ``logo``, made again only when the logo changes, not on every render.

    A ``URLFetcher`` is a urllib opener: making one sets up urllib's nine
    handlers (HTTP, FTP, proxies...), a third of a millisecond of a 1-page
    render, for fetching that ``DocumentURLFetcher.fetch`` never does.
    """
    global _fetcher
    current = _fetcher
    if current is None or current.logo != logo or current.logo_mime != logo_mime:
        current = _fetcher = DocumentURLFetcher(logo, logo_mime)
    return current


class DocumentHTML(HTML):
    """WeasyPrint's ``HTML`` with the user-agent stylesheet cut down to what templates/ use (``assets/ua.css``).

    WeasyPrint's own styles every HTML element, forms, lists and footnotes
    included, and its universal ``::marker``, ``::footnote-*`` and ``::note-*``
    rules make it compute six pseudo-element styles for every element of the
    document, used or not: a tenth of an invoice's render. A document renders
    to the same bytes with either.
    """

    _ua: CSS | None = None

    def _ua_stylesheets(self, forms=False):
        if DocumentHTML._ua is None:
            DocumentHTML._ua = CSS(string=UA_STYLESHEET.read_text("utf-8"), counter_style=UA_COUNTER_STYLE)
        return [DocumentHTML._ua]


def document_stylesheet() -> CSS:
    """``document.css`` parsed once per process (again only when the file changes).

    Parsing it and compiling its selectors was an eighth of every render; the
    parsed sheet is only read during layout, so every render and thread shares it.
    It is fetched through ``DocumentURLFetcher`` like anything else a document loads.
    """
    global _stylesheet
    mtime = STYLESHEET.stat().st_mtime_ns
    with _stylesheet_lock:
        if _stylesheet is None or _stylesheet[0] != mtime:
            _stylesheet = (mtime, CSS(url=STYLESHEET.as_uri(), url_fetcher=DocumentURLFetcher()))
        return _stylesheet[1]


_page_sheets: collections.OrderedDict[str, CSS] = collections.OrderedDict()
_PAGE_SHEETS = 32  # companies' page set-ups kept parsed (one install has one, tests a few)


def page_stylesheet(css: str) -> CSS:
    """A company's page set-up (``pdf.page_css``: paper size, footer) parsed once, not on every render."""
    with _stylesheet_lock:
        sheet = _page_sheets.get(css)
        if sheet is None:
            sheet = _page_sheets[css] = CSS(string=css)
            while len(_page_sheets) > _PAGE_SHEETS:
                _page_sheets.popitem(last=False)
        else:
            _page_sheets.move_to_end(css)
        return sheet


def font_config() -> FontConfiguration:
    """One fontconfig set-up per thread: loading it scans the system fonts on every render.

    Pango font maps are not thread-safe, hence one per thread rather than per process.
    Our stylesheet has no ``@font-face``, so nothing a document does changes it.
    """
    config = getattr(_fonts, "config", None)
    if config is None:
        config = _fonts.config = FontConfiguration()
    return config


def image_cache(logo: bytes) -> dict:
    """WeasyPrint's image cache for documents showing ``logo``: the logo is decoded once, not on every render.

    WeasyPrint keys images by URL, and the logo is always at ``logo:company``, so
    the cache belongs to one logo: a new logo starts a new one. Our assets hold
    no other image, and the payment QR is inline SVG, so this is all it holds.
    """
    global _images
    digest = hashlib.sha256(logo).digest()
    current = _images
    if current[0] != digest:
        current = _images = (digest, {})
    return current[1]


def write_pdf(
    html: str,
    *,
    page_css: str = "",
    logo: bytes | None,
    logo_mime: str | None,
    identifier: str,
    variant: str | None,
) -> bytes:
    """``html`` (templates/) as PDF bytes, with ``document.css`` and ``page_css`` (``pdf.page_css``).

    WeasyPrint's own exceptions pass through.
    """
    document = DocumentHTML(string=html, base_url=fetcher.ASSETS_URL, url_fetcher=url_fetcher(logo, logo_mime))
    with warnings.catch_warnings():
        # WeasyPrint's PDF/A writer opens its sRGB profile without closing it (a ResourceWarning, nothing more).
        warnings.simplefilter("ignore", ResourceWarning)
        return document.write_pdf(
            stylesheets=[document_stylesheet(), page_stylesheet(page_css)] if page_css else [document_stylesheet()],
            font_config=font_config(),
            pdf_identifier=hashlib.sha256(identifier.encode()).hexdigest()[:32].encode(),
            pdf_variant=variant,
            cache=image_cache(logo or b""),
        )
