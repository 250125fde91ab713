"""Issue 12, "done when": nasty values in every admin form and every API body give no 500.

The admin half crawls the signed-in admin UI from the dashboard, collects every
``<form>`` it finds (with the values the page pre-fills), checks that every
POST route of the app was found, and submits each form once with every field
set to each nasty value and once per field with only that field nasty (the
CSRF token kept). The API half does the same for the body of every POST and
PATCH operation in the OpenAPI document, starting from a valid body per
operation. Values: NUL bytes, deep nesting, dates at and past the edges,
bidi controls, non-ASCII and odd digits, huge and odd numbers, non-money
currencies. Nothing may answer 5xx; API refusals are problem+json.
"""

from __future__ import annotations

import base64
import copy
import json
import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit

import pytest

from shared.db import db
from shared.inputs import (
    ClientInput,
    CreditNoteInput,
    ExpenseInput,
    InvoiceDraft,
    PaymentInput,
    QuoteDraft,
    RecurringInvoiceInput,
    WebhookEndpointInput,
)
from shared.models.enums import WebhookDeliveryState
from shared.services import (
    Actor,
    Notify,
    archive_client,
    create_api_key,
    create_client,
    create_draft,
    create_quote,
    create_user,
    issue_credit_note,
    issue_invoice,
    record_payment,
    request_expense,
    send_quote,
)
from shared.services.recurring import create_recurring_invoice, pause_recurring_invoice
from shared.services.settings import set_logo
from shared.services.webhooks import create_webhook_endpoint, send_test_event
from support import Browser, csrf_from

LOGO = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)

NASTY = [
    "\x00",
    "a\x00b",
    "[" * 1000,
    "9999-12-31",
    "0999-01-01",
    "20260101",
    "2026-W01-1",
    "\u202eevil\u202c \u2066x\u2069",
    "１０",
    "١٠",
    "-0",
    "²",
    "9" * 40,
    "1e999999",
    "NaN",
    "XXX",
    " ",
]
# Each field alone gets these (what breaks a parser or a column by itself); every field at once
# gets all of NASTY (dates at the edges and bidi controls included).
NASTY_ALONE = ["a\x00b", "١٠", "9" * 40, "[" * 1000]
SKIP_POSTS = {
    "admin.logout",  # no fields to fuzz, and it would end the crawl's session
    "admin.user_unlock",  # shown only while an address is blocked; a confirm button with no fields
    "public.pay_online",  # the client's Pay button (with Stripe set up): no fields; tests/payments post it
    "webhooks.stripe_webhook",  # Stripe's signed JSON, not a form; tests/payments send it bad bodies
}
# Pages no link leads to once the install is set up, visited by name.
EXTRA_PAGES = ["/admin/setup"]
MAX_PAGES = 80


def seed(session) -> None:
    actor = Actor.system("fuzz seed")
    client = create_client(
        session, actor=actor, data=ClientInput(name="Fuzz Client", email="fuzz@example.com", phone="+2348030000001")
    )
    items = [{"description": "Consulting", "quantity": "2", "unit_price": "15000.00", "tax_rate": "7.5"}]
    invoice = create_draft(
        session,
        actor=actor,
        data=InvoiceDraft.from_mapping({"client_id": client.id, "currency": "NGN", "items": items}),
    )
    invoice, _ = issue_invoice(session, actor=actor, invoice_id=invoice.id, notify=Notify(email=True))
    record_payment(
        session, actor=actor, invoice_id=invoice.id, data=PaymentInput(amount="1000.00"), notify=Notify(email=True)
    )
    # SPEC §11: the paid part of a fully credited invoice becomes client credit, which an open NGN invoice can take.
    issue_credit_note(session, actor=actor, invoice_id=invoice.id, data=CreditNoteInput(reason="Fuzz", full=True))
    owing = create_draft(
        session,
        actor=actor,
        data=InvoiceDraft.from_mapping({"client_id": client.id, "currency": "NGN", "items": items}),
    )
    issue_invoice(session, actor=actor, invoice_id=owing.id, notify=Notify())
    create_draft(
        session,
        actor=actor,
        data=InvoiceDraft.from_mapping({"client_id": client.id, "currency": "USD", "items": items}),
    )
    unpaid = create_draft(
        session,
        actor=actor,
        data=InvoiceDraft.from_mapping({"client_id": client.id, "currency": "USD", "items": items}),
    )
    issue_invoice(session, actor=actor, invoice_id=unpaid.id, notify=Notify())
    request_expense(
        session, actor=actor, data=ExpenseInput(title="Printer toner", category="Supplies", amount="120.50")
    )
    create_user(session, actor=actor, email="other@example.com", name="Other", role="staff", password="x" * 20)
    create_api_key(session, actor=actor, name="fuzz key", scope="read")
    archived = create_client(session, actor=actor, data=ClientInput(name="Archived Client"))
    archive_client(session, actor=actor, client_id=archived.id)
    set_logo(session, actor=actor, data=LOGO)
    # Quote 1 stays a draft (its editor and review page); quote 2 is sent (its convert form).
    for _ in range(2):
        quote = create_quote(
            session,
            actor=actor,
            data=QuoteDraft.from_mapping({"client_id": client.id, "currency": "NGN", "items": items}),
        )
    send_quote(session, actor=actor, quote_id=quote.id)
    for _ in range(2):  # recurring invoices far in the future: one active, one paused (for pause and resume)
        recurring = create_recurring_invoice(
            session,
            actor=actor,
            data=RecurringInvoiceInput.from_mapping(
                {"client_id": client.id, "items": items, "start_date": "2099-01-31", "mode": "issue"}
            ),
        )
    pause_recurring_invoice(session, actor=actor, recurring_id=recurring.id)
    admin = Actor.system("fuzz seed", is_admin=True)
    endpoint = create_webhook_endpoint(
        session, actor=admin, data=WebhookEndpointInput(url="https://203.0.113.10/hooks"), allow_private=True
    )
    send_test_event(session, actor=admin, endpoint_id=endpoint.id).state = WebhookDeliveryState.FAILED  # a Retry button
    session.commit()


# ---------------------------------------------------------------- crawling the admin


class PageParser(HTMLParser):
    """Links and forms (action, method, fields with their pre-filled values) of one page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            self._form = {"action": a.get("action") or "", "method": (a.get("method") or "get").lower(), "fields": {}}
            self.forms.append(self._form)
        elif self._form is None or not a.get("name"):
            return
        elif tag == "input" and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                self._form["fields"].setdefault(a["name"], "")
            else:
                self._form["fields"][a["name"]] = a.get("value") or ""
        elif tag == "select":
            self._select = a["name"]
            self._form["fields"].setdefault(a["name"], "")
        elif tag == "option" and self._select and ("selected" in a or not self._form["fields"][self._select]):
            self._form["fields"][self._select] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = a["name"]
            self._form["fields"][a["name"]] = ""

    def handle_data(self, data):
        if self._textarea and self._form is not None:
            self._form["fields"][self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def crawl(browser: Browser) -> tuple[list[str], dict[tuple[str, str], dict]]:
    """Every admin page reachable from the dashboard (paths only), and every form on them."""
    seen, queue, forms = set(), deque(["/admin/", "/admin/clients?show=archived", *EXTRA_PAGES]), {}
    while queue and len(seen) < MAX_PAGES:
        path = queue.popleft()
        if path in seen:
            continue
        seen.add(path)
        response = browser.get(path)
        assert response.status_code < 500, (path, response.status_code)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        parser = PageParser()
        parser.feed(response.get_data(as_text=True))
        for form in parser.forms:
            action = urlsplit(form["action"]).path or urlsplit(path).path
            forms.setdefault((form["method"], action), form["fields"])
        for href in parser.links:
            link = urlsplit(href).path
            # The client's quote page (linked from a sent quote) holds the accept and decline forms.
            if link.startswith(("/admin/", "/q/")) and not link.endswith((".pdf", ".csv")) and link not in seen:
                queue.append(link)
    return sorted(seen), forms


def fuzzed(fields: dict[str, str]):
    """Each nasty value in every field at once, then some in each field alone (one row of a line editor)."""
    names = [name for name in fields if name != "csrf_token"]
    for value in NASTY:
        yield {**fields, **dict.fromkeys(names, value)}
    for name in names:
        if not re.match(r"lines-[1-9]", name):
            for value in NASTY_ALONE:
                yield {**fields, name: value}


# The admin forms are fuzzed in SHARDS tests, each crawling and taking every SHARDS-th
# form, so that pytest-xdist spreads the work instead of one test running last and long.
SHARDS = 4


# NUL is the one value that only Postgres refuses; SQLite adds nothing but minutes.
@pytest.mark.parametrize("backend", ["postgresql"])
@pytest.mark.parametrize("shard", range(SHARDS))
def test_no_admin_form_answers_nasty_values_with_a_server_error(admin_app, users, shard):
    with admin_app.app_context():
        seed(db.session)
        db.session.remove()
    browser = Browser(admin_app.test_client())
    browser.post_form("/admin/login", {"email": "admin@example.com", "password": "a-long-test-password"})
    pages, forms = crawl(browser)
    # The line editor's script posts the editor's own fields for its live totals.
    forms[("post", "/admin/invoices/preview-totals")] = forms[("post", "/admin/invoices/new")]
    token = csrf_from(browser.get("/admin/clients/new").get_data(as_text=True))

    adapter = admin_app.url_map.bind("localhost")
    posted = {adapter.match(action, method="POST")[0] for method, action in forms if method == "post"}
    every_post = {rule.endpoint for rule in admin_app.url_map.iter_rules() if "POST" in rule.methods}
    missing = every_post - posted - {"admin.login"} - SKIP_POSTS
    assert not missing, f"forms not found by the crawl: {missing}; pages: {pages}"

    # One form per endpoint; forms with nothing but a CSRF token (archive, delete, sign out...) take no input.
    chosen: dict[str, tuple[str, str, dict]] = {}
    for (method, action), fields in sorted(forms.items()):
        endpoint = adapter.match(action, method=method.upper())[0]
        if endpoint not in chosen and not set(fields) <= {"csrf_token"}:
            chosen[endpoint] = (method, action, fields)
    assert len(pages) > 20 and len(chosen) >= 18, (pages, sorted(chosen))

    failures = []
    for method, action, fields in list(chosen.values())[shard::SHARDS]:
        for data in fuzzed(fields):
            if method == "post":
                response = browser.client.post(action, data={**data, "csrf_token": token})
            else:
                response = browser.get(f"{action}?{urlencode(data)}")
            if response.status_code >= 500:
                failures.append((method, action, data, response.status_code))
    if shard == 0:
        anonymous = Browser(admin_app.test_client())
        for data in fuzzed({"email": "someone@example.com", "password": "not-the-password"}):
            response = anonymous.post_form("/admin/login", data)
            if response.status_code >= 500:
                failures.append(("post", "/admin/login", data, response.status_code))
    assert not failures, failures[:10]


# ---------------------------------------------------------------- the API bodies

VALID_BODIES = {
    ("post", "/clients"): {"name": "Ada", "email": "ada@example.com", "default_currency": "USD"},
    ("patch", "/clients/{client_id}"): {"name": "Ada", "phone": "+2348030000002"},
    ("post", "/invoices"): {
        "client": {"name": "Ada", "email": "ada@example.com"},
        "currency": "USD",
        "issue_date": "2026-01-05",
        "due_date": "2026-01-20",
        "discount": {"type": "fixed", "value": "1.00"},
        "items": [{"description": "Work", "quantity": "1", "unit_price": "10.00", "tax_rate": "7.5"}],
        "issue": False,
    },
    ("patch", "/invoices/{invoice_id}"): {
        "currency": "USD",
        "issue_date": "2026-01-05",
        "items": [{"description": "Work", "quantity": "1", "unit_price": "10.00", "tax_rate": "0"}],
    },
    ("post", "/invoices/{invoice_id}/payments"): {"amount": "1.00", "paid_on": "2026-01-06", "reference": "T1"},
    ("post", "/expenses"): {"title": "Toner", "category": "Supplies", "amount": "10.00", "expense_date": "2026-01-05"},
    ("patch", "/expenses/{expense_id}"): {"title": "Toner", "amount": "12.00"},
    ("post", "/invoices/{invoice_id}/issue"): {"notify": {"email": False, "sms": False}},
    ("post", "/invoices/{invoice_id}/send"): {"notify": {"email": True, "sms": False}},
    ("post", "/invoices/{invoice_id}/void"): {"reason": "mistake"},
    ("post", "/payments/{payment_id}/void"): {"reason": "mistake"},
    ("post", "/expenses/{expense_id}/approve"): {"note": "ok"},
    ("post", "/expenses/{expense_id}/decline"): {"note": "no"},
    ("post", "/webhook-endpoints"): {
        "url": "https://203.0.113.10/hooks",
        "events": ["invoice.paid"],
        "description": "x",
    },
    ("patch", "/webhook-endpoints/{endpoint_id}"): {"url": "https://203.0.113.10/v2", "enabled": False},
    ("post", "/recurring-invoices"): {
        "client_id": 1,
        "currency": "USD",
        "items": [{"description": "Rent", "quantity": "1", "unit_price": "10.00", "tax_rate": "0"}],
        "interval": "week",
        "interval_count": 2,
        "start_date": "2099-01-05",
        "end_date": "2099-12-31",
        "max_runs": 3,
        "payment_terms_days": 7,
        "mode": "draft",
    },
    ("patch", "/recurring-invoices/{recurring_id}"): {"interval": "month", "end_date": "2099-06-30"},
    ("post", "/quotes"): {
        "client_id": 1,
        "currency": "USD",
        "issue_date": "2026-01-05",
        "valid_until": "2026-02-05",
        "discount": {"type": "percent", "value": "5"},
        "items": [{"description": "Work", "quantity": "1", "unit_price": "10.00", "tax_rate": "7.5"}],
    },
    ("patch", "/quotes/{quote_id}"): {"valid_until": "2026-12-31", "notes": "n"},
    ("post", "/quotes/{quote_id}/send"): {"notify": {"email": True}},
    ("post", "/quotes/{quote_id}/accept"): {"name": "Ada"},
    ("post", "/quotes/{quote_id}/decline"): {"reason": "no"},
    ("post", "/quotes/{quote_id}/convert"): {"issue": True, "notify": {"email": False, "sms": False}},
}
# The seed's issued invoice is 1 and its draft 2: edits go to the draft, money to the issued one.
IDS = {
    "client_id": 1,
    "invoice_id": 2,
    "expense_id": 1,
    "payment_id": 1,
    "notification_id": 1,
    "endpoint_id": 1,
    "delivery_id": 1,
    "recurring_id": 1,
    "quote_id": 1,
}
ISSUED = ("/payments", "/send", "/void")


def leaf_paths(body, prefix=()):
    if isinstance(body, dict):
        for key, value in body.items():
            yield from leaf_paths(value, (*prefix, key))
    elif isinstance(body, list):
        for index, value in enumerate(body):
            yield from leaf_paths(value, (*prefix, index))
    else:
        yield prefix


def with_value(body, path, value):
    body = copy.deepcopy(body)
    node = body
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return body


@pytest.mark.parametrize("backend", ["postgresql"])
@pytest.mark.parametrize("shard", range(SHARDS))
def test_no_api_body_answers_nasty_values_with_a_server_error(api_app, keys, shard):
    with api_app.app_context():
        seed(db.session)
        document = api_app.test_client().get("/api/v1/openapi.json").get_json()
        db.session.remove()
    client = api_app.test_client()
    auth = {"Authorization": f"Bearer {keys['admin']}"}
    operations = [(m, path) for path, item in document["paths"].items() for m in item if m in ("post", "patch")]
    assert len(operations) >= 12, operations

    failures = []
    for method, path in operations[shard::SHARDS]:
        ids = {**IDS, "invoice_id": 1} if path.endswith(ISSUED) else IDS
        url = "/api/v1" + path.format(**ids)
        valid = VALID_BODIES.get((method, path), {})
        bodies = [json.dumps(with_value(valid, p, v)) for p in leaf_paths(valid) if p for v in NASTY]
        bodies += [json.dumps(dict.fromkeys(valid, v)) for v in NASTY]
        bodies += ["[" * 1000 + "]" * 1000, '{"a\\u0000": 1}', '{"reason": "\\u0000"}', '{"note": "[[["}']
        for body in bodies:
            response = getattr(client, method)(url, data=body, content_type="application/json", headers=auth)
            if response.status_code >= 500 or (
                response.status_code >= 400 and response.mimetype != "application/problem+json"
            ):
                failures.append((method, path, body[:120], response.status_code))
    assert not failures, failures[:10]
