"""The only way a document may load anything: its own assets and the company logo.

WeasyPrint follows every URL in the HTML and CSS it renders. Client names,
descriptions and notes reach our templates only autoescaped, so they cannot
add an element; this fetcher is the second wall: no network, no file outside
``shared/documents/assets``, no ``data:`` URL, whatever the markup asks for.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint.urls import URLFetcher, URLFetcherResponse

ASSETS_DIR = (Path(__file__).resolve().parent / "assets").resolve()
ASSETS_URL = ASSETS_DIR.as_uri() + "/"
LOGO_URL = "logo:company"


class FetchRefused(ValueError):
    """A document asked for something outside its assets and logo."""


def asset_path(url: str) -> Path | None:
    """The file under ``assets/`` that ``url`` names, or None for anything else."""
    parts = urlsplit(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        return None
    path = Path(unquote(parts.path)).resolve()
    if not path.is_relative_to(ASSETS_DIR) or not path.is_file():
        return None
    return path


class DocumentURLFetcher(URLFetcher):
    """Serves ``assets/`` files and the stored logo (at ``logo:company``); refuses the rest."""

    def __init__(self, logo: bytes | None = None, logo_mime: str | None = None) -> None:
        super().__init__(timeout=1, allowed_protocols=("file", "logo"), allow_redirects=False)
        self.logo = logo
        self.logo_mime = logo_mime or "application/octet-stream"
        self.requested: list[str] = []

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        self.requested.append(url)
        if url == LOGO_URL and self.logo:
            return URLFetcherResponse(url, body=self.logo, headers={"Content-Type": self.logo_mime})
        path = asset_path(url)
        if path is None:
            raise FetchRefused(f"refused to fetch {url[:200]!r}: documents load only their own assets and logo")
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": mime})
