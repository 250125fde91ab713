"""Guessing API keys is cut short: ten wrong keys from one address in five minutes give 429 (api_service/auth.py)."""

from __future__ import annotations

from api_service.auth import MAX_FAILED_KEYS


def get(api_app, key: str, address: str = "203.0.113.7"):
    return api_app.test_client().get(
        "/api/v1/clients", headers={"Authorization": f"Bearer {key}"}, environ_base={"REMOTE_ADDR": address}
    )


def test_wrong_keys_from_one_address_are_limited_with_429(api_app, keys):
    for n in range(MAX_FAILED_KEYS):
        assert get(api_app, f"inv_guess_{n}").status_code == 401
    refused = get(api_app, "inv_guess_next")
    assert refused.status_code == 429
    assert refused.mimetype == "application/problem+json"
    assert refused.get_json()["status"] == 429
    assert int(refused.headers["Retry-After"]) > 0
    # While limited, even the right key is refused from that address: a lucky guess gains nothing ...
    assert get(api_app, keys["read"]).status_code == 429
    # ... and other addresses are not affected.
    assert get(api_app, keys["read"], address="198.51.100.9").status_code == 200


def test_right_keys_and_missing_headers_do_not_count(api_app, keys):
    for _ in range(MAX_FAILED_KEYS * 2):
        assert get(api_app, keys["read"]).status_code == 200
        assert (
            api_app.test_client().get("/api/v1/clients", environ_base={"REMOTE_ADDR": "203.0.113.7"}).status_code == 401
        )
    assert get(api_app, keys["read"]).status_code == 200


def test_the_limit_ends_when_the_window_passes(api_app, keys):
    import api_service.auth as auth

    clock = [1000.0]
    api_app.extensions["api_key_limiter"] = auth.FailedKeyLimiter(
        auth.MAX_FAILED_KEYS, auth.FAILED_KEY_WINDOW_SECONDS, clock=lambda: clock[0]
    )
    for n in range(MAX_FAILED_KEYS):
        get(api_app, f"inv_guess_{n}")
    assert get(api_app, keys["read"]).status_code == 429
    clock[0] += auth.FAILED_KEY_WINDOW_SECONDS + 1
    assert get(api_app, keys["read"]).status_code == 200


def test_429_is_in_the_openapi_document(api_app):
    document = api_app.test_client().get("/api/v1/openapi.json").get_json()
    assert "429" in document["paths"]["/clients"]["get"]["responses"]
