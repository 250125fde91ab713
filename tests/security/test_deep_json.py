"""Issue 12 item 4: deeply nested JSON (``[`` × 1000) was a 500 (RecursionError).

Python's json module recurses once per level; a body nested past the
interpreter's limit raised RecursionError, and a body nested a little less
passed the parser but overflowed the idempotency fingerprint (``json.dumps``).
Every body nested deeper than any request shape is now a 400 problem.
The admin has no JSON endpoints (its forms are form-encoded).
"""

import pytest

# Pages, documents and messages read the same rows on either backend: SQLite only (the README's rule).
pytestmark = pytest.mark.backends("sqlite")

DEPTHS = [1000, 100_000]


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "/clients"), ("post", "/invoices"), ("patch", "/clients/1"), ("post", "/invoices/1/payments")],
)
def test_a_deeply_nested_body_is_a_400_problem(api_app, keys, method, path, depth):
    client = api_app.test_client()
    response = getattr(client, method)(
        f"/api/v1{path}",
        data=_nested(depth),
        content_type="application/json",
        headers={"Authorization": f"Bearer {keys['write']}", "Idempotency-Key": f"deep-{depth}"},
    )
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/problem+json"
    assert "nested" in response.get_json()["detail"]


def test_a_deeply_nested_value_inside_an_object_is_a_400_problem(api_app, keys):
    body = '{"name": "Ada", "email": ' + "[" * 500 + "]" * 500 + "}"
    response = api_app.test_client().post(
        "/api/v1/clients",
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {keys['write']}", "Idempotency-Key": "deep-object"},
    )
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"


def test_ordinary_nesting_is_still_accepted(api_app, keys):
    body = {
        "client": {"name": "Ada", "email": "ada@example.com"},
        "currency": "USD",
        "issue": False,
        "items": [{"description": "Work", "quantity": "1", "unit_price": "10.00"}],
    }
    response = api_app.test_client().post(
        "/api/v1/invoices", json=body, headers={"Authorization": f"Bearer {keys['write']}"}
    )
    assert response.status_code == 201, response.get_data(as_text=True)
