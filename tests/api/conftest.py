"""API fixtures: an app on the test database and keys of each scope."""

from __future__ import annotations

import pytest


class ApiClient:
    """A test client that sends one API key and JSON by default."""

    def __init__(self, client, secret: str | None):
        self.client = client
        self.secret = secret

    def _headers(self, headers: dict | None) -> dict:
        sent = {"Authorization": f"Bearer {self.secret}"} if self.secret else {}
        sent.update(headers or {})
        return sent

    def get(self, path: str, **kwargs):
        return self.client.get(f"/api/v1{path}", headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def delete(self, path: str, **kwargs):
        return self.client.delete(f"/api/v1{path}", headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def post(self, path: str, json=None, **kwargs):
        return self.client.post(
            f"/api/v1{path}", json=json, headers=self._headers(kwargs.pop("headers", None)), **kwargs
        )

    def patch(self, path: str, json=None, **kwargs):
        return self.client.patch(
            f"/api/v1{path}", json=json, headers=self._headers(kwargs.pop("headers", None)), **kwargs
        )


@pytest.fixture
def api(api_app, keys) -> ApiClient:
    return ApiClient(api_app.test_client(), keys["write"])


@pytest.fixture
def admin_api(api_app, keys) -> ApiClient:
    return ApiClient(api_app.test_client(), keys["admin"])


@pytest.fixture
def read_api(api_app, keys) -> ApiClient:
    return ApiClient(api_app.test_client(), keys["read"])


@pytest.fixture
def anonymous_api(api_app) -> ApiClient:
    return ApiClient(api_app.test_client(), None)


NGN_BODY = {
    "client": {"name": "Adaeze Okafor", "email": "ada@example.com", "phone": "+2348031234567"},
    "currency": "NGN",
    "purchase_order": "PO-778",
    "discount": {"type": "percent", "value": "10"},
    "items": [{"description": "Consulting", "quantity": "2", "unit_price": "15000.00", "tax_rate": "7.5"}],
}


@pytest.fixture
def ngn_body() -> dict:
    import copy

    return copy.deepcopy(NGN_BODY)
