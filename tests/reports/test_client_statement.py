"""A client's statement: on screen, as a PDF with its running balance, and e-mailed through the queue."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import os
import shutil
import subprocess
import tempfile

import pytest
from report_books import TODAY
from sqlalchemy import select

from shared.config import load_config
from shared.documents import pdf as documents_pdf
from shared.documents import render_statement_pdf
from shared.errors import Conflict, ValidationFailed
from shared.inputs import ClientInput, InvoiceDraft
from shared.messages.compose import build_sms
from shared.messages.delivery import drain_queue
from shared.messages.errors import PermanentDeliveryError
from shared.models import Activity, QueuedMessage
from shared.services import Actor, Notify, create_client, queue_statement, retry_message

# SQLite only: the statement's page, PDF and e-mail; its figures run on both backends in test_report_figures.
pytestmark = pytest.mark.backends("sqlite")

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
RUNNING_BALANCES = ["29,025.00", "19,025.00", "0.00", "53,750.00", "33,750.00", "36,900.00", "44,900.00"]


def pdf_text(pdf: bytes) -> str:
    if shutil.which("pdftotext") is None:
        if IN_CI:
            pytest.fail("pdftotext is missing: apt-get install poppler-utils")
        pytest.skip("pdftotext is missing: apt-get install poppler-utils")
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(pdf)
        handle.flush()
        text = subprocess.run(["pdftotext", "-layout", handle.name, "-"], capture_output=True, check=True).stdout
    return text.decode().replace("\xa0", " ")


def balance_column(text: str) -> list[str]:
    """The last figure of every statement line (its running balance), top to bottom."""
    found = []
    for line in text.splitlines():
        words = line.split()
        if words and words[0].isdigit() and len(words) > 4 and words[2].isdigit() and "-" in words[3]:
            found.append(words[-1])  # "10 Jan 2025 INV-2025-00002 ... 29,025.00"
    return found


def test_statement_on_screen_is_linked_from_the_client_page(admin, books):
    client_page = admin.get(f"/admin/clients/{books.ada}").get_data(as_text=True)
    assert f"/admin/clients/{books.ada}/statement" in client_page
    html = admin.get(f"/admin/clients/{books.ada}/statement").get_data(as_text=True)
    assert "Account in NGN" in html and "Account in USD" in html
    for figure in RUNNING_BALANCES:
        assert f"NGN {figure}" in html.replace("\xa0", " ")
    assert "$20.00" in html
    assert "Wrong client" not in html  # the void invoice N5 is not on it


def test_statement_pdf_shows_the_running_balance_and_is_deterministic(session, books):
    pdf = render_statement_pdf(session, books.ada, as_of=TODAY)
    text = pdf_text(pdf)
    assert "STATEMENT" in text.upper() and "Ada Obi" in text
    assert balance_column(text) == RUNNING_BALANCES + ["20.00"]
    assert "Balance due (NGN)" in text and "NGN 44,900.00" in text and "$20.00" in text
    documents_pdf.clear_cache()
    assert render_statement_pdf(session, books.ada, as_of=TODAY) == pdf


def test_statement_pdf_download(admin, books):
    response = admin.get(f"/admin/clients/{books.ada}/statement.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "statement-ada-obi-" in response.headers["Content-Disposition"]
    assert "44,900.00" in pdf_text(response.data)


def test_sending_queues_a_statement_row_and_an_activity_entry(admin, session, books):
    page = f"/admin/clients/{books.ada}/statement"
    response = admin.post_form(page, {}, to=f"{page}/send", follow=True)
    assert "Statement queued for e-mail to ada@example.com" in response.get_data(as_text=True)
    session.rollback()  # see what the app committed
    row = session.scalars(select(QueuedMessage)).one()
    assert (row.kind, row.channel, row.recipient, row.client_id, row.invoice_id, row.state) == (
        "statement",
        "email",
        "ada@example.com",
        books.ada,
        None,
        "queued",
    )
    client_page = admin.get(f"/admin/clients/{books.ada}").get_data(as_text=True)
    assert "Statement of account queued by e-mail to ada@example.com" in client_page


def test_a_queued_statement_is_sent_with_its_pdf_by_the_file_backend(session, books, database_url, tmp_path):
    rows = queue_statement(session, actor=Actor.system("tests"), client_id=books.ada, notify=Notify(email=True))
    config = load_config(
        {"DATABASE_URL": database_url, "SECRET_KEY": "s" * 40, "APP_ENV": "testing", "MAIL_BACKEND": "file"},
        folder=tmp_path,
    )
    outcomes = drain_queue(session, owner="statement-test", config=config)
    assert outcomes == {"sent": 1}
    session.expire_all()
    row = session.get(QueuedMessage, rows[0].id)
    assert row.state == "sent" and row.provider_message_id.startswith("file:")

    (eml,) = list((tmp_path / "outbox").glob("*.eml"))
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    today = row.created_at.date()
    assert message["To"] == "Ada Obi <ada@example.com>"
    assert message["Subject"].startswith("Statement of account from ")
    body = message.get_body(("plain",)).get_content()
    assert "Balance due (NGN): NGN 44,900.00" in " ".join(body.replace("\xa0", " ").split())
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == f"statement-ada-obi-{today.isoformat()}.pdf"
    assert balance_column(pdf_text(attachment.get_content()))[-1] == "20.00"
    sent = session.scalars(select(Activity).where(Activity.verb == "sent")).one()
    assert sent.client_id == books.ada and sent.summary == "Statement of account e-mail to ada@example.com"


def test_statement_refusals(session, books):
    actor = Actor.system("tests")
    with pytest.raises(ValidationFailed) as no_sms:
        queue_statement(session, actor=actor, client_id=books.ada, notify=Notify(email=True, sms=True))
    assert "notify.sms" in no_sms.value.errors
    nobody = create_client(session, actor=actor, data=ClientInput(name="No Mail"))
    with pytest.raises(Conflict):
        queue_statement(session, actor=actor, client_id=nobody.id, notify=Notify(email=True))
    assert session.scalars(select(QueuedMessage)).all() == []


def test_a_statement_is_never_sent_by_sms_and_can_be_retried(session, books):
    actor = Actor.system("tests")
    (row,) = queue_statement(session, actor=actor, client_id=books.ada, notify=Notify(email=True))
    row.channel = "sms"
    with pytest.raises(PermanentDeliveryError):
        build_sms(session, row, {"PUBLIC_BASE_URL": "http://x"}, now=dt.datetime.now(dt.UTC))
    session.rollback()
    row = session.get(QueuedMessage, row.id)
    row.state = "failed"
    session.commit()
    retry_message(session, actor=actor, message_id=row.id)
    assert session.get(QueuedMessage, row.id).state == "queued"
    verbs = session.scalars(select(Activity.verb).where(Activity.client_id == books.ada)).all()
    assert "retried" in verbs and "statement_queued" in verbs


def test_client_without_email_cannot_be_sent_a_statement(admin, session, books):
    actor = Actor.system("tests")
    from shared.services import create_draft, issue_invoice

    client = create_client(session, actor=actor, data=ClientInput(name="Paper Only"))
    draft = create_draft(
        session,
        actor=actor,
        data=InvoiceDraft.from_mapping(
            {"client_id": client.id, "items": [{"description": "x", "quantity": "1", "unit_price": "5.00"}]}
        ),
    )
    issue_invoice(session, actor=actor, invoice_id=draft.id)
    html = admin.get(f"/admin/clients/{client.id}/statement").get_data(as_text=True)
    assert "Add an e-mail address to send the statement." in html
    with pytest.raises(ValidationFailed) as missing:
        queue_statement(session, actor=actor, client_id=client.id, notify=Notify(email=True))
    assert "notify.email" in missing.value.errors
