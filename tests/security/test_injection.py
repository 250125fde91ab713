"""Template injection, HTML and SSRF through text fields: literal text in pages, PDFs, e-mails and texts.

A client is created through the API with a hostile name, address and notes:
Jinja syntax must come out literally (never evaluated), HTML escaped, and an
<img> pointing at a local HTTP server must never be fetched by the PDF
renderer, the pages or the e-mail builder.
"""

from __future__ import annotations

import email
import email.policy
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from shared.messages.delivery import drain_queue
from support import sign_in
from support.delivery import make_config, pdf_text, squeeze


class RecordingServer:
    """An HTTP server on 127.0.0.1 that keeps every request it gets (it should get none)."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.http.server_address[1]
        self.thread = threading.Thread(target=self.http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def listener():
    with RecordingServer() as server:
        yield server


def hostile(port: int) -> dict[str, str]:
    img = f'<img src="http://127.0.0.1:{port}/ssrf.png">'
    return {
        "name": "{{7*7}} {% raw %}Raw{% endraw %} " + img,
        "address": "{{ config.SECRET_KEY }} <link rel=stylesheet href=http://127.0.0.1:" + str(port) + "/x.css>",
        "notes": "{{ ''.__class__ }} " + img + " <script>alert(1)</script>",
    }


def test_hostile_text_is_literal_everywhere_and_nothing_is_fetched(
    admin_app, api_app, keys, users, database_url, session, tmp_path, listener
):
    text = hostile(listener.port)
    response = api_app.test_client().post(
        "/api/v1/invoices",
        headers={"Authorization": f"Bearer {keys['write']}"},
        json={
            "client": {
                "name": text["name"],
                "email": "victim@example.com",
                "phone": "+2348031234567",
                "billing_address": text["address"],
            },
            "currency": "USD",
            "notes": text["notes"],
            "items": [{"description": text["name"], "quantity": "1", "unit_price": "7.00", "tax_rate": "0"}],
            "notify": {"email": True, "sms": True},
        },
    )
    assert response.status_code == 201, response.get_json()
    invoice = response.get_json()
    token = invoice["links"]["public"].rsplit("/", 1)[-1]

    # Admin pages and the public page: Jinja syntax literal, HTML escaped.
    admin = sign_in(admin_app, "admin@example.com")
    pages = [
        admin.get(f"/admin/invoices/{invoice['id']}").get_data(as_text=True),
        admin.get("/admin/clients").get_data(as_text=True),
        admin_app.test_client().get(f"/i/{token}").get_data(as_text=True),
    ]
    for page in pages:
        assert "{{7*7}}" in page
        assert "&lt;img" in page and '<img src="http://127.0.0.1' not in page
        assert "test-secret-key" not in page
    assert "{% raw %}Raw{% endraw %}" in pages[0]
    assert "&lt;script&gt;alert(1)" in pages[0]

    # The PDF (served to the public and rendered by WeasyPrint): the same words as text.
    pdf = admin_app.test_client().get(f"/i/{token}.pdf")
    assert pdf.status_code == 200
    words = squeeze(pdf_text(pdf.data, layout=False))
    assert squeeze("{{7*7}} {% raw %}Raw{% endraw %}") in words
    assert "test-secret-key" not in words

    # The e-mail (text and HTML parts) and the SMS, through the file backends.
    config = make_config(database_url, tmp_path, MAIL_BACKEND="file", SMS_BACKEND="file")
    assert drain_queue(session, owner="security-test", config=config) == {"sent": 2}
    outbox = Path(config["OUTBOX_DIR"])
    (eml,) = outbox.glob("*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "{{7*7}}" in plain and "49 " not in plain.split("\n")[0]
    assert "{{7*7}}" in html and "&lt;img" in html and '<img src="http://127.0.0.1' not in html
    for part in message.iter_attachments():
        if part.get_content_type() == "application/pdf":
            assert squeeze("{{7*7}}") in squeeze(pdf_text(part.get_content(), layout=False))
    (sms,) = outbox.glob("*.json")
    assert "test-secret-key" not in json.loads(sms.read_text())["body"]

    assert listener.requests == [], "something fetched a URL typed into a text field"
