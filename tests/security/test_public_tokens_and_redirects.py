"""Public invoice links are unguessable and say nothing about other invoices; sign-in never redirects off-site."""

from __future__ import annotations

import base64
import math
import statistics
import time
from collections import Counter
from urllib.parse import urlsplit

import pytest

from shared.services.invoices import new_public_token
from support import ADMIN_PASSWORD, csrf_from

# SQLite only: tokens and redirects are decided in Python; the timing test below runs on Postgres.
pytestmark = pytest.mark.backends("sqlite")


def entropy_bits(token: str) -> float:
    return len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) * 8


def test_tokens_carry_at_least_128_random_bits(make_invoice):
    tokens = [new_public_token() for _ in range(2000)]
    assert len(set(tokens)) == len(tokens)
    assert min(entropy_bits(t) for t in tokens) >= 128
    # Random, not a counter or a clock: every character position varies and the characters spread evenly.
    for position in range(0, 40, 7):
        assert len({t[position] for t in tokens}) > 40
    counts = Counter("".join(tokens))
    assert max(counts.values()) / min(counts.values()) < 2
    a, b = make_invoice(issue=True), make_invoice(issue=True)
    assert entropy_bits(a.public_token) >= 128 and a.public_token[:8] != b.public_token[:8]


def test_a_draft_token_and_wrong_tokens_are_the_same_404(admin_app, make_invoice):
    client = admin_app.test_client()
    draft = make_invoice()
    issued = make_invoice(issue=True)
    assert client.get(f"/i/{issued.public_token}").status_code == 200
    near_miss = issued.public_token[:-1] + ("A" if issued.public_token[-1] != "A" else "B")
    answers = [
        client.get(f"/i/{draft.public_token}"),
        client.get(f"/i/{draft.public_token}.pdf"),
        client.get(f"/i/{near_miss}"),
        client.get(f"/i/{new_public_token()}"),
        client.get("/i/' OR 1=1 --"),
        client.get(f"/i/{issued.id}"),
    ]
    assert [r.status_code for r in answers] == [404] * len(answers)
    bodies = {r.get_data(as_text=True) for r in answers}
    assert len(bodies) == 1  # one page for every miss: nothing tells a draft from a wrong token
    assert issued.number not in bodies.pop()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_wrong_tokens_take_as_long_as_a_draft_token(admin_app, make_invoice):
    """No timing hint: a miss of the right shape costs one indexed query whether or not a draft has it."""
    client = admin_app.test_client()
    draft = make_invoice()

    def median(token: str) -> float:
        samples = []
        for _ in range(30):
            start = time.perf_counter()
            client.get(f"/i/{token}")
            samples.append(time.perf_counter() - start)
        return statistics.median(samples)

    median(new_public_token())  # warm up
    draft_time, wrong_time = median(draft.public_token), median(new_public_token())
    assert math.isclose(draft_time, wrong_time, rel_tol=1.0, abs_tol=0.005), (draft_time, wrong_time)


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/x",
        "https://evil.example/",
        "http:evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/%2F/evil.example",
        "javascript:alert(1)",
        " //evil.example",
        "/\t/evil.example",
        "///evil.example",
    ],
)
def test_sign_in_next_never_leaves_the_site(admin_app, users, target):
    client = admin_app.test_client()
    token = csrf_from(client.get("/admin/login").get_data(as_text=True))
    response = client.post(
        "/admin/login",
        query_string={"next": target},
        data={"csrf_token": token, "email": "admin@example.com", "password": ADMIN_PASSWORD},
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    parts = urlsplit(location)
    assert not parts.scheme and not parts.netloc, location
    assert location.startswith("/") and not location.startswith(("//", "/\\")) and "\t" not in location


def test_sign_in_next_keeps_a_same_site_path(admin_app, users):
    client = admin_app.test_client()
    token = csrf_from(client.get("/admin/login").get_data(as_text=True))
    response = client.post(
        "/admin/login?next=/admin/invoices",
        data={"csrf_token": token, "email": "admin@example.com", "password": ADMIN_PASSWORD},
    )
    assert response.headers["Location"] == "/admin/invoices"
