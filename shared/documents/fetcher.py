"""The only way a document may load anything: its own assets and the company logo.

WeasyPrint follows every URL in the HTML and CSS it renders. Client names,
descriptions and notes reach our templates only autoescaped, so they cannot
add an element; this policy is the second wall: no network, no file outside
``shared/documents/assets``, no ``data:`` URL, whatever the markup asks for.
WeasyPrint asks for every URL through ``shared.documents.engine.DocumentURLFetcher``,
which answers with :func:`fetch` (this module does not import WeasyPrint, so
importing ``shared.documents`` does not either).
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

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


def fetch(url: str, logo: bytes | None = None, logo_mime: str | None = None) -> tuple[bytes, str]:
    """The body and content type ``url`` stands for: an ``assets/`` file, or the stored logo at ``logo:company``.

    Raises :class:`FetchRefused` for anything else (and for the logo when none is stored).
    """
    if url == LOGO_URL and logo:
        return logo, logo_mime or "application/octet-stream"
    path = asset_path(url)
    if path is None:
        raise FetchRefused(f"refused to fetch {url[:200]!r}: documents load only their own assets and logo")
    return path.read_bytes(), mimetypes.guess_type(path.name)[0] or "application/octet-stream"
