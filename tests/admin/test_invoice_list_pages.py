"""The invoice list pages by id (Newest, Newer, Older, Oldest) and counts no further than a cap."""

import html
import re

import pytest

from main_service.admin import pagination
from main_service.admin.pagination import KeysetPage

# Pages, documents and messages read the same rows on either backend: SQLite only (the README's rule).
pytestmark = pytest.mark.backends("sqlite")

ROW_LINK = re.compile(r'<td[^>]*><a href="/admin/invoices/(\d+)">')


@pytest.fixture
def small_pages(monkeypatch):
    """Four invoices a page, so a dozen invoices make three pages."""
    monkeypatch.setattr(pagination, "PER_PAGE", 4)


@pytest.fixture
def eleven(make_invoice, make_client, small_pages) -> list[int]:
    """Eleven drafts for one client, oldest first."""
    client = make_client()
    return [make_invoice(client=client).id for _ in range(11)]


def shown(body: str) -> list[int]:
    return [int(found) for found in ROW_LINK.findall(body)]


def link(body: str, text: str) -> str | None:
    found = re.search(r'<a href="([^"]+)"[^>]*>' + re.escape(text) + "</a>", body)
    return html.unescape(found.group(1)) if found else None


def walk(admin, url: str, text: str) -> list[tuple[list[int], str]]:
    """Every page from ``url`` on, following the ``text`` link until there is none."""
    pages = []
    while url:
        response = admin.get(url)
        assert response.status_code == 200, url
        body = response.get_data(as_text=True)
        pages.append((shown(body), body))
        url = link(body, text)
        assert len(pages) < 20, "the pager goes round in circles"
    return pages


def test_older_visits_every_invoice_once_newest_first(admin, eleven):
    pages = walk(admin, "/admin/invoices", "Older ›")
    assert [ids for ids, _ in pages] == [eleven[10:6:-1], eleven[6:2:-1], eleven[2::-1]]
    first, middle, last = (body for _, body in pages)
    assert "Showing 1–4 of 11 invoices" in first and "Showing 5–8 of 11 invoices" in middle
    assert "Showing 9–11 of 11 invoices" in last
    assert link(first, "Newest") is None and link(first, "‹ Newer") is None
    assert link(last, "Older ›") is None and link(last, "Oldest") is None


def test_newer_walks_back_over_the_same_pages(admin, eleven):
    older = walk(admin, "/admin/invoices", "Older ›")
    last_url = "/admin/invoices?before=" + str(older[-2][0][-1])
    newer = walk(admin, last_url, "‹ Newer")
    assert [ids for ids, _ in newer] == [ids for ids, _ in reversed(older)]
    assert link(older[-1][1], "Newest") == "/admin/invoices"


def test_oldest_is_the_last_page_and_newer_leads_back(admin, eleven):
    body = admin.get("/admin/invoices?oldest=1").get_data(as_text=True)
    assert shown(body) == eleven[3::-1]
    assert "Showing 8–11 of 11 invoices" in body
    assert link(body, "Older ›") is None and link(body, "Oldest") is None
    assert link(body, "‹ Newer") == f"/admin/invoices?after={eleven[3]}"
    newer = admin.get(link(body, "‹ Newer")).get_data(as_text=True)
    assert shown(newer) == eleven[7:3:-1]
    assert "Showing 4–7 of 11 invoices" in newer


def test_filters_are_kept_in_every_pager_link(admin, make_invoice, make_client, small_pages):
    mine, theirs = make_client(), make_client()
    wanted = []
    for n in range(16):
        invoice = make_invoice(client=mine if n % 2 else theirs, issue=n % 3 != 0)
        if invoice.client_id == mine.id and invoice.status == "open":
            wanted.append(invoice.id)
    assert len(wanted) == 5
    filters = f"status=open&client_id={mine.id}&q=INV"

    pages = walk(admin, f"/admin/invoices?{filters}", "Older ›")
    assert [ids for ids, _ in pages] == [wanted[:0:-1], wanted[:1]]
    first, last = (body for _, body in pages)
    assert "Showing 1–4 of 5 invoices" in first and "Showing 5 of 5 invoices" in last
    assert link(first, "Older ›") == f"/admin/invoices?{filters}&before={wanted[1]}"
    assert link(first, "Oldest") == f"/admin/invoices?{filters}&oldest=1"
    assert link(last, "Newest") == f"/admin/invoices?{filters}"
    assert link(last, "‹ Newer") == f"/admin/invoices?{filters}&after={wanted[0]}"
    oldest = admin.get(f"/admin/invoices?{filters}&oldest=1").get_data(as_text=True)
    assert shown(oldest) == wanted[3::-1]


def test_the_count_stops_at_the_cap(admin, eleven, monkeypatch):
    monkeypatch.setattr(pagination, "COUNT_CAP", 5)
    first = admin.get("/admin/invoices").get_data(as_text=True)
    assert "Showing 1–4 of 5+ invoices" in first
    deep = admin.get(f"/admin/invoices?before={eleven[3]}").get_data(as_text=True)
    assert shown(deep) == eleven[2::-1]
    assert "Showing 3 of 5+ invoices" in deep  # position unknown: more than the cap are newer
    oldest = admin.get("/admin/invoices?oldest=1").get_data(as_text=True)
    assert "Showing 4 of 5+ invoices" in oldest


def test_counts_are_worded_for_one_many_and_capped():
    def page(n: int, **fields) -> KeysetPage:
        defaults = dict(has_newer=True, has_older=True, total=50, capped=False, first=26)
        return KeysetPage(items=[object()] * n, **{**defaults, **fields})

    assert page(1, has_newer=False, has_older=False, total=1, first=1).summary("invoice", "invoices") == "1 invoice"
    assert page(0, has_newer=False, has_older=False, total=0, first=None).summary("invoice", "invoices") == (
        "0 invoices"
    )
    assert page(25).summary("invoice", "invoices") == "Showing 26–50 of 50 invoices"
    assert page(25, total=10_000, capped=True, first=1).summary("invoice", "invoices") == (
        "Showing 1–25 of 10,000+ invoices"
    )
    assert page(25, total=10_000, capped=True, first=None).summary("invoice", "invoices") == (
        "Showing 25 of 10,000+ invoices"
    )
    assert page(1, first=1_234, total=1_234).summary("invoice", "invoices") == "Showing 1,234 of 1,234 invoices"


@pytest.mark.parametrize(
    "query",
    [
        "before=abc",
        "before=-5",
        "after=%C2%B2",
        "before=1.5",
        "after=",
        "before=" + "9" * 40,
        "oldest=yes",
        "page=abc",
        "page=99999",
        "page=-1",
    ],
)
def test_junk_cursors_show_the_newest_page(admin, eleven, query):
    response = admin.get(f"/admin/invoices?{query}")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert shown(body) == eleven[10:6:-1]
    assert "Showing 1–4 of 11 invoices" in body


def test_a_cursor_past_the_end_shows_an_empty_page_with_a_way_back(admin, eleven):
    body = admin.get(f"/admin/invoices?before={eleven[0]}&_external=1").get_data(as_text=True)
    assert shown(body) == []
    assert "No invoices match these filters." in body
    assert link(body, "Newest") == "/admin/invoices"
    assert link(body, "Older ›") is None


def test_one_page_needs_no_pager_links(admin, make_invoice):
    make_invoice()
    body = admin.get("/admin/invoices").get_data(as_text=True)
    assert '<p class="pager muted">1 invoice</p>' in body
    for text in ("Newest", "‹ Newer", "Older ›", "Oldest"):
        assert link(body, text) is None


def test_void_and_draft_invoices_owe_nothing_in_the_list(admin, session, actor, make_invoice):
    from shared.services import void_invoice

    voided = make_invoice(issue=True)
    void_invoice(session, actor=actor, invoice_id=voided.id, reason="entered twice")
    make_invoice()  # a draft
    make_invoice(issue=True)
    body = admin.get("/admin/invoices").get_data(as_text=True)
    assert "Nothing is owed on a void invoice" in body
    assert "Nothing is owed on a draft invoice" in body
    assert body.count("Nothing is owed on a") == 2
