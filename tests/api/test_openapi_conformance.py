"""The API keeps the promises of its own OpenAPI document (SPEC §7).

Schemathesis generates requests from ``/api/v1/openapi.json`` for every
operation, on SQLite, with an admin-scope key, and checks
that no response is a server error, has a status code or a content type the
document does not list, or breaks its documented schema. A few rows are seeded
first so that item endpoints with small ids sometimes reach real objects.
On PostgreSQL the same checks run with more examples, and in stateful
sequences, in tests/resilience/test_api_fuzzing.py (part of ``make test``).
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate as validate_openapi
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from api_service.routes import ROUTES
from shared.db import db
from shared.inputs import ClientInput, ExpenseInput, InvoiceDraft, PaymentInput
from shared.services import (
    Actor,
    Notify,
    create_client,
    create_draft,
    issue_invoice,
    record_payment,
    request_expense,
)
from support.openapi import CurrentApp, load_schema

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    ignored_auth,  # the document says every operation needs the bearer key: without one, 401
    unsupported_method,  # a method the document does not list: 405 with an Allow header
]
MAX_EXAMPLES = 10
NOT_DOCUMENTED = {"index", "openapi", "docs"}  # the unauthenticated meta routes, not API operations


def seed(session) -> None:
    """A client, an issued invoice with a payment, a draft, an expense and queued notifications."""
    actor = Actor.system("conformance seed")
    client = create_client(
        session, actor=actor, data=ClientInput(name="Seed Client", email="seed@example.com", phone="+2348030000001")
    )
    items = [{"description": "Consulting", "quantity": "2", "unit_price": "15000.00", "tax_rate": "7.5"}]
    invoice = create_draft(
        session,
        actor=actor,
        data=InvoiceDraft.from_mapping({"client_id": client.id, "currency": "NGN", "items": items}),
    )
    invoice, _ = issue_invoice(session, actor=actor, invoice_id=invoice.id, notify=Notify(email=True, sms=True))
    record_payment(
        session, actor=actor, invoice_id=invoice.id, data=PaymentInput(amount="1000.00"), notify=Notify(email=True)
    )
    create_draft(
        session,
        actor=actor,
        data=InvoiceDraft.from_mapping({"client_id": client.id, "currency": "USD", "items": items}),
    )
    request_expense(
        session, actor=actor, data=ExpenseInput(title="Printer toner", category="Supplies", amount="120.50")
    )


CURRENT_APP = CurrentApp()
schema = load_schema(CURRENT_APP, max_examples=MAX_EXAMPLES)


@pytest.fixture
def seeded_api(api_app, keys):
    with api_app.app_context():
        seed(db.session)
    CURRENT_APP.app = api_app
    yield api_app
    CURRENT_APP.app = None


@schema.parametrize()
# SQLite only: the same generated requests run on Postgres, with more examples and stateful
# sequences, in tests/resilience/test_api_fuzzing.py; the regression inputs below run on both.
@pytest.mark.backends("sqlite")
@pytest.mark.slow  # hundreds of generated requests: make test runs them, make test-fast does not
# The fixtures hold the app and its seeded database for all of one operation's examples, on purpose.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_response_matches_the_document(case, seeded_api, keys):
    case.call_and_validate(headers={"Authorization": f"Bearer {keys['admin']}"}, checks=CHECKS)


# Inputs schemathesis found that once gave a 500 or a bare 405, kept as plain regression tests.
FOUND = [
    ("get", "/clients/8019195559064901042184147351633920", None, 404),  # past the id range: overflowed SQLite
    ("post", "/invoices/16499515466086293504/issue", {}, 404),
    ("post", "/expenses", '{"title": "T", "category": "C", "amount": 3.402823466e+38}', 422),  # a JSON number
    ("post", "/expenses", {"title": "T", "category": "C", "amount": "1e999999999"}, 422),
    ("post", "/expenses", {"title": "T", "category": "C", "amount": "1", "currency": "XYZ"}, 422),
    ("post", "/invoices/1/payments", {"amount": "1e40"}, 422),
    # A client id past INTEGER's range overflowed SQLite in the quote, invoice and recurring services.
    ("post", "/quotes", {"client_id": 496283578757771034624, "items": [{"description": "W", "unit_price": "1"}]}, 422),
    (
        "post",
        "/invoices",
        {"client_id": 496283578757771034624, "items": [{"description": "W", "unit_price": "1"}]},
        422,
    ),
    (
        "post",
        "/recurring-invoices",
        {"client_id": 496283578757771034624, "items": [{"description": "W", "unit_price": "1"}]},
        422,
    ),
]


@pytest.mark.parametrize(("method", "path", "body", "status"), FOUND)
def test_inputs_that_once_failed_get_a_problem_answer(admin_api, api_app, method, path, body, status):
    with api_app.app_context():
        seed(db.session)
    raw = body if body is None or isinstance(body, str) else json.dumps(body)
    kwargs = {} if raw is None else {"data": raw, "content_type": "application/json"}
    response = getattr(admin_api.client, method)(
        f"/api/v1{path}", headers={"Authorization": f"Bearer {admin_api.secret}"}, **kwargs
    )
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"


def test_an_undeclared_method_is_405_with_allow(admin_api):
    response = admin_api.client.open(
        "/api/v1/clients", method="TRACE", headers={"Authorization": f"Bearer {admin_api.secret}"}
    )
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    assert response.mimetype == "application/problem+json"


def test_a_200_action_with_an_idempotency_key_answers(admin_api, api_app):
    """Approve returns a bare body (status 200); with a key it used to fail unpacking it."""
    with api_app.app_context():
        seed(db.session)
    response = admin_api.post("/expenses/1/approve", json={}, headers={"Idempotency-Key": "approve-1"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "approved"


# ---------------------------------------------------------------- the document itself


def test_openapi_document_is_valid_openapi_3_1(anonymous_api):
    response = anonymous_api.get("/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    validate_openapi(document)  # raises OpenAPIValidationError with the offending path


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule).rstrip("/") or "/"


def test_every_route_and_method_is_documented(anonymous_api):
    paths = anonymous_api.get("/openapi.json").get_json()["paths"]
    missing = []
    for resource, rule, endpoint in ROUTES:
        if endpoint in NOT_DOCUMENTED:
            continue
        path = _openapi_path(rule)
        implemented = {method for method in ("get", "post", "put", "patch", "delete") if hasattr(resource, method)}
        assert implemented, f"{resource.__name__} implements no method"
        documented = set(paths.get(path, {}))
        missing += [f"{method.upper()} {path}" for method in sorted(implemented - documented)]
    assert not missing, f"routes missing from openapi.json: {missing}"


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.stylesheets: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name in ("src", "href"):
            if attributes.get(name):
                self.urls.append(attributes[name])
        if tag == "link" and "stylesheet" in (attributes.get("rel") or "").split():
            self.stylesheets.append(attributes["href"])


def test_docs_page_uses_only_local_assets_and_its_css_loads(anonymous_api):
    response = anonymous_api.get("/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    parser = _Assets()
    parser.feed(response.get_data(as_text=True))
    external = [url for url in parser.urls if urlsplit(url).scheme or url.startswith("//")]
    assert not external, f"the docs page loads assets from elsewhere: {external}"
    assert parser.stylesheets, "the docs page has no stylesheet"
    for href in parser.stylesheets:
        css = anonymous_api.client.get(href)
        try:
            assert css.status_code == 200, href
            assert css.mimetype == "text/css"
            assert css.get_data()
        finally:
            css.close()  # a static file is streamed from an open file
