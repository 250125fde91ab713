"""What a queued row says: the e-mail (text, HTML, PDF) or the SMS text (SPEC §8).

Kinds: ``invoice``, ``receipt``, ``reminder`` and ``credit_note`` name an invoice; ``statement``
names a client and carries the statement of account as of the day it was queued;
``quote`` names a quote and links to its public page (``/q/<token>``).

Built at send time from the stored rows, so a reminder shows the balance as it
is when it leaves. Every figure is formatted from ``Invoice.amount(...)`` and
``balance_due`` (``shared.money``) or taken from ``shared.reports`` (statements),
never added up here.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import email.utils
import hashlib
import unicodedata
from collections.abc import Mapping
from email.headerregistry import Address
from email.message import EmailMessage
from typing import Any

import jinja2
from sqlalchemy.orm import Session

from shared.config import online_payment_enabled
from shared.db import utcnow
from shared.documents import (
    pdf_filename,
    render_credit_note_pdf,
    render_invoice_pdf,
    render_quote_pdf,
    render_receipt_pdf,
    render_statement_pdf,
    statement_filename,
)
from shared.documents.formatting import (
    format_date,
    format_money,
    format_money_code,
    format_rate,
    method_label,
    strip_bidi_controls,
)
from shared.errors import ValidationFailed
from shared.lookups import get_settings
from shared.messages.errors import PermanentDeliveryError
from shared.messages.sms_length import sms_segments
from shared.models import CreditNote, Invoice, Payment, QueuedMessage, Quote, Settings
from shared.models.enums import EInvoiceFormat
from shared.reports import client_statement
from shared.services.clients import normalize_email, normalize_phone

environment = jinja2.Environment(
    loader=jinja2.PackageLoader("shared.messages", "templates"),
    # HTML bodies are escaped; plain-text bodies and SMS are not markup.
    autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    finalize=strip_bidi_controls,  # no user text can reorder the figures after it
)


ADDRESS_HEADERS = frozenset({"from", "to", "cc", "bcc", "reply-to", "sender"})


class MessagePolicy(email.policy.EmailPolicy):
    """``email.policy.default`` except that address headers are not folded (up to 998 octets).

    Python 3.11 folds a long display name by dropping its quotes, so
    ``"Smith, John ..." <c@x>`` would read back as two recipients; and a
    non-ASCII name split over several encoded words gains a space when read
    back. Unfolded, every address header reads back as the address it was built
    from. Other headers and the body fold as usual.
    """

    def fold(self, name, value):
        if name.lower() in ADDRESS_HEADERS:
            return email.policy.EmailPolicy.fold(self.clone(max_line_length=998), name, value)
        return super().fold(name, value)

    def fold_binary(self, name, value):
        if name.lower() in ADDRESS_HEADERS:
            return email.policy.EmailPolicy.fold_binary(self.clone(max_line_length=998), name, value)
        return super().fold_binary(name, value)


MESSAGE_POLICY = MessagePolicy()


def _one_line(text: str | None) -> str:
    """Header-safe: no line breaks, no runs of spaces, no directional controls (names come from users)."""
    return " ".join(strip_bidi_controls(text or "").split())


def check_recipient(channel: str, recipient: str | None) -> None:
    """A malformed address fails at once, with the reason, on every backend (SPEC §8).

    The rule is the one a client's e-mail and phone are stored by
    (``shared.services.clients``); a row written before it, or by hand, is
    refused here before any backend (the file ones included) sees it.
    """
    what = "e-mail address" if channel == "email" else "phone number"
    text = recipient or ""
    if not text.strip():
        raise PermanentDeliveryError(f"no {what} to send to")
    if any(unicodedata.category(char)[0] in "CZ" and char != " " for char in text) or text != text.strip():
        raise PermanentDeliveryError(f"malformed {what} {text!r}: it contains a line break or control character")
    try:
        if channel == "email":
            normalize_email(text, "recipient")
        else:
            normalize_phone(text, "recipient")
    except ValidationFailed as exc:
        reason = "; ".join(message for messages in exc.errors.values() for message in messages)
        raise PermanentDeliveryError(f"malformed {what} {text!r}: {reason}") from None


def public_link(config: Mapping[str, Any], invoice: Invoice) -> str:
    return f"{config['PUBLIC_BASE_URL'].rstrip('/')}/i/{invoice.public_token}"


def quote_link(config: Mapping[str, Any], quote: Quote) -> str:
    """The client's page of a quote, where it is accepted or declined."""
    return f"{config['PUBLIC_BASE_URL'].rstrip('/')}/q/{quote.public_token}"


def _quote_context(session: Session, row: QueuedMessage, config: Mapping[str, Any], *, money=format_money) -> dict:
    quote = row.quote
    if quote is None or quote.number is None:
        raise PermanentDeliveryError(f"quote message {row.id} names no sent quote")
    settings = get_settings(session)
    currency = quote.currency
    return {
        "kind": "quote",
        "company": _company(settings),
        "company_name": _one_line(settings.company_name),
        "client_name": _one_line(quote.billed_to.get("name")) or "customer",
        "number": quote.number,
        "quote": quote,
        "issue_date": format_date(quote.issue_date),
        "valid_until": format_date(quote.valid_until),
        "total": money(quote.amount("total"), currency),
        "tax_by_rate": [(f"Tax {format_rate(r.rate)}", money(r.tax, currency)) for r in quote.tax_by_rate]
        if quote.shows_tax_by_rate
        else [],
        "link": quote_link(config, quote),
        "show_instructions": False,
        "receipt": None,
    }


def reminder_timing(due_date: dt.date, today: dt.date) -> tuple[str, int]:
    """``("before", 3)``, ``("today", 0)`` or ``("overdue", 5)``: wording for the day it is sent."""
    days = (due_date - today).days
    if days > 0:
        return "before", days
    if days == 0:
        return "today", 0
    return "overdue", -days


def _days_phrase(timing: str, days: int) -> str:
    unit = "day" if days == 1 else "days"
    if timing == "before":
        return "tomorrow" if days == 1 else f"in {days} {unit}"
    return f"{days} {unit} overdue"


def _payment(row: QueuedMessage) -> Payment:
    if row.payment is None:
        raise PermanentDeliveryError(f"receipt message {row.id} names no payment")
    return row.payment


def _credit_note(row: QueuedMessage) -> CreditNote:
    if row.credit_note is None:
        raise PermanentDeliveryError(f"credit note message {row.id} names no credit note")
    return row.credit_note


def _company(settings: Settings) -> dict[str, Any]:
    return {
        "name": settings.company_name,
        "address": settings.company_address,
        "email": settings.company_email,
        "phone": settings.company_phone,
        "payment_instructions": settings.payment_instructions,
    }


def statement_date(row: QueuedMessage, today: dt.date) -> dt.date:
    """A statement shows the account as of the day its row was queued, so every retry attaches the same PDF."""
    return row.created_at.date() if row.created_at else today


def _statement_context(session: Session, row: QueuedMessage, *, today: dt.date, money=format_money) -> dict[str, Any]:
    client = row.client
    if client is None:
        raise PermanentDeliveryError(f"statement message {row.id} names no client")
    settings = get_settings(session)
    as_of = statement_date(row, today)
    statement = client_statement(session, client.id, as_of=as_of)
    return {
        "kind": "statement",
        "company": _company(settings),
        "company_name": _one_line(settings.company_name),
        "client_name": _one_line(client.name) or "customer",
        "client": client,
        "as_of": as_of,
        "statement_date": format_date(as_of),
        "balances": [
            {
                "currency": section.currency,
                "balance": money(section.balance, section.currency),
                "overdue": money(section.overdue, section.currency) if section.overdue > 0 else None,
            }
            for section in statement.sections
        ],
        "link": None,
        "show_instructions": statement.has_amount_due,
        "receipt": None,
    }


def message_context(
    session: Session, row: QueuedMessage, config: Mapping[str, Any], *, today: dt.date, money=format_money
) -> dict[str, Any]:
    """The facts every template of ``row.kind`` may show, already formatted."""
    if row.kind == "statement":
        return _statement_context(session, row, today=today, money=money)
    if row.kind == "quote":
        return _quote_context(session, row, config, money=money)
    invoice = row.invoice
    if invoice is None or invoice.number is None:
        raise PermanentDeliveryError(f"message {row.id} names no issued invoice")
    if row.kind not in ("invoice", "receipt", "reminder", "credit_note"):
        raise PermanentDeliveryError(f"{row.kind} messages are not supported")
    settings = get_settings(session)
    currency = invoice.currency
    timing, days = reminder_timing(invoice.due_date, today)
    context: dict[str, Any] = {
        "kind": row.kind,
        "company": _company(settings),
        "company_name": _one_line(settings.company_name),
        "client_name": _one_line(invoice.billed_to.get("name")) or "customer",
        "number": invoice.number,
        "issue_date": format_date(invoice.issue_date),
        "due_date": format_date(invoice.due_date),
        "total": money(invoice.amount("total"), currency),
        "tax_by_rate": [(f"Tax {format_rate(r.rate)}", money(r.tax, currency)) for r in invoice.tax_by_rate]
        if invoice.shows_tax_by_rate
        else [],
        "amount_paid": money(invoice.amount("amount_paid"), currency),
        "balance_due": money(invoice.balance_due, currency),
        "link": public_link(config, invoice),
        "timing": timing,
        "days": days,
        "days_phrase": _days_phrase(timing, days),
        "show_instructions": row.kind not in ("receipt", "credit_note") and invoice.balance_due > 0,
        "receipt": None,
        "credit_note": None,
    }
    if row.kind == "credit_note":
        note = _credit_note(row)
        context["credit_note"] = {
            "number": note.number,
            "issue_date": format_date(note.issue_date),
            "reason": note.reason,
            "total": money(note.amount("total"), currency),
            "applied": money(note.amount("applied"), currency),
            "to_credit": money(note.amount("to_credit"), currency) if note.to_credit > 0 else None,
        }
    if row.kind == "receipt":
        payment = _payment(row)
        remaining = invoice.balance_due
        context["receipt"] = {
            "number": payment.receipt_number,
            "amount": money(payment.amount, payment.currency),
            "paid_on": format_date(payment.paid_on),
            "method": method_label(payment.method),
            "remaining": money(remaining, currency),
            "remaining_is_zero": remaining == 0,
        }
    return context


def _facts(context: dict[str, Any]) -> list[tuple[str, str]]:
    if context["kind"] == "statement":
        facts = [("Statement date", context["statement_date"])]
        for section in context["balances"]:
            facts.append((f"Balance due ({section['currency']})", section["balance"]))
            if section["overdue"]:
                facts.append((f"Of which overdue ({section['currency']})", section["overdue"]))
        return facts
    if context["kind"] == "credit_note":
        note = context["credit_note"]
        facts = [
            ("Credit note", note["number"]),
            ("Credit note date", note["issue_date"]),
            ("Corrects invoice", context["number"]),
            ("Amount credited", note["total"]),
        ]
        if note["to_credit"]:
            facts.append(("Held as credit", note["to_credit"]))
        facts.append(("Invoice balance due", context["balance_due"]))
        return facts
    if context["kind"] == "quote":
        return [
            ("Quote number", context["number"]),
            *context["tax_by_rate"],
            ("Quote total", context["total"]),
            ("Valid until", context["valid_until"]),
        ]
    if context["kind"] == "receipt":
        receipt = context["receipt"]
        return [
            ("Receipt number", receipt["number"]),
            ("Amount received", receipt["amount"]),
            ("Payment date", receipt["paid_on"]),
            ("Method", receipt["method"]),
            ("Invoice", context["number"]),
            ("Balance remaining", receipt["remaining"]),
        ]
    facts = [("Invoice number", context["number"]), *context["tax_by_rate"], ("Invoice total", context["total"])]
    if context["kind"] == "reminder" or context["balance_due"] != context["total"]:
        facts.append(("Balance due", context["balance_due"]))
    facts.append(("Due date", context["due_date"]))
    return facts


def email_subject(context: dict[str, Any]) -> str:
    if context["kind"] == "statement":
        return f"Statement of account from {context['company_name']}, {context['statement_date']}"
    number, company = context["number"], context["company_name"]
    if context["kind"] == "quote":
        return f"Quote {number} from {company}"
    if context["kind"] == "invoice":
        return f"Invoice {number} from {company}"
    if context["kind"] == "receipt":
        return f"Receipt {context['receipt']['number']} for invoice {number} from {company}"
    if context["kind"] == "credit_note":
        return f"Credit note {context['credit_note']['number']} for invoice {number} from {company}"
    if context["timing"] == "before":
        return f"Reminder: invoice {number} is due on {context['due_date']}"
    if context["timing"] == "today":
        return f"Invoice {number} is due today"
    return f"Overdue: invoice {number} was due on {context['due_date']}"


def message_id(row: QueuedMessage, config: Mapping[str, Any]) -> str:
    """``<email-queue-12.3f9a0c1b2d4e@example.com>``: the same for every attempt at one row.

    The hash of the row's identity keeps two databases (say, staging and
    production) from ever minting the same id for their row 12.
    """
    domain = email.utils.parseaddr(config.get("MAIL_FROM") or "")[1].rpartition("@")[2] or "localhost"
    created = row.created_at.isoformat() if row.created_at else ""
    digest = hashlib.sha256(f"{row.id}|{row.kind}|{row.channel}|{row.recipient}|{created}".encode()).hexdigest()[:12]
    return f"<email-queue-{row.id}.{digest}@{domain}>"


def _attachment_name(row: QueuedMessage, context: dict[str, Any]) -> str:
    if row.kind == "statement":
        return statement_filename(context["client"], context["as_of"])
    if row.kind == "credit_note":
        return pdf_filename(_credit_note(row))
    if row.kind == "quote":
        return pdf_filename(context["quote"])
    return pdf_filename(_payment(row) if row.kind == "receipt" else row.invoice)


def _attachment(session: Session, row: QueuedMessage, context: dict[str, Any]) -> bytes:
    if row.kind == "statement":
        return render_statement_pdf(session, context["client"].id, as_of=context["as_of"])
    if row.kind == "receipt":
        return render_receipt_pdf(session, _payment(row))
    if row.kind == "credit_note":
        return render_credit_note_pdf(session, _credit_note(row))
    if row.kind == "quote":
        return render_quote_pdf(session, context["quote"], as_of=row.created_at.date() if row.created_at else None)
    # The stamp (OVERDUE or not) is decided as of the day the row was queued,
    # so every retry of this row attaches byte-identical PDFs.
    as_of = row.created_at.date() if row.created_at else None
    return render_invoice_pdf(session, row.invoice, as_of=as_of)


def link_label(config: Mapping[str, Any], kind: str) -> str:
    """The words on the link to the public page: never a promise of online payment it cannot keep."""
    if kind == "quote":
        return "View and accept the quote online"
    if kind in ("invoice", "reminder") and online_payment_enabled(config):
        return "View and pay online"
    return "View the invoice online"


def build_email_parts(
    session: Session,
    row: QueuedMessage,
    config: Mapping[str, Any],
    *,
    now: dt.datetime | None = None,
    attach: bool = True,
) -> dict[str, Any]:
    """Subject, text and HTML bodies of ``row``'s e-mail, and its PDF (``attach=False`` skips rendering it).

    The admin review page shows these before anything is queued;
    :func:`build_email` wraps them into the message that is sent.
    """
    now = now or utcnow()
    context = message_context(session, row, config, today=now.date())
    context["facts"] = _facts(context)
    context["facts_width"] = max(len(label) for label, _ in context["facts"]) + 1
    context["subject"] = email_subject(context)
    context["button"] = link_label(config, row.kind)
    filename = _attachment_name(row, context)
    document = {"receipt": "receipt", "statement": "statement", "credit_note": "credit note", "quote": "quote"}.get(
        row.kind, "invoice"
    )
    context["attachment_note"] = f"The {document} is attached as {filename}."
    pdf = _attachment(session, row, context) if attach else None
    extra: list[tuple[str, str, bytes]] = []
    if attach and row.kind in ("invoice", "credit_note"):
        pdf, extra = _einvoice_attachments(session, row, pdf)
    return {
        "subject": context["subject"],
        "client_name": context["client_name"],
        "company_name": context["company_name"],
        "text": environment.get_template(f"email/{row.kind}.txt").render(**context),
        "html": environment.get_template(f"email/{row.kind}.html").render(**context),
        "filename": filename,
        "pdf": pdf,
        "extra": extra,
    }


def _einvoice_attachments(
    session: Session, row: QueuedMessage, pdf: bytes
) -> tuple[bytes, list[tuple[str, str, bytes]]]:
    """SPEC §16 ``einvoice_format``: the Factur-X PDF instead of the plain one, or the UBL file beside it.

    The same for an invoice and a credit note. One that cannot be an e-invoice
    (a client without a country, ...) still goes out with its plain PDF: the
    e-mail is not held back for it.
    """
    from shared import einvoice
    from shared.errors import DomainError

    fmt = get_settings(session).einvoice_format
    if fmt == EInvoiceFormat.NONE:
        return pdf, []
    try:
        if row.kind == "credit_note":
            document = _credit_note(row)
            if fmt == EInvoiceFormat.FACTURX:
                return einvoice.credit_note_facturx_pdf(session, document), []
            xml = einvoice.credit_note_ubl(session, document)
        else:
            document = row.invoice
            if document is None or not document.can_send:
                return pdf, []
            if fmt == EInvoiceFormat.FACTURX:
                as_of = row.created_at.date() if row.created_at else None
                return einvoice.invoice_facturx_pdf(session, document, as_of=as_of), []
            xml = einvoice.invoice_ubl(session, document)
    except DomainError:
        return pdf, []
    return pdf, [(einvoice.einvoice_filename(document, "ubl.xml"), "xml", xml)]


def _address(name: str, addr_spec: str) -> Address:
    """One mailbox; local part and domain given apart, so an internationalised address is kept as it is."""
    username, _, domain = addr_spec.rpartition("@")
    return Address(display_name=name, username=username, domain=domain)


def build_email(
    session: Session, row: QueuedMessage, config: Mapping[str, Any], *, now: dt.datetime | None = None
) -> EmailMessage:
    """The e-mail for ``row``: text and HTML alternatives, the PDF attached, a stable Message-ID."""
    now = now or utcnow()
    parts = build_email_parts(session, row, config, now=now)
    sender_name, sender = email.utils.parseaddr(config.get("MAIL_FROM") or "invoices@localhost")
    message = EmailMessage(policy=MESSAGE_POLICY)
    message["Subject"] = parts["subject"]
    # Address objects, not strings: a name is never parsed as (part of) an address.
    message["From"] = _address(_one_line(sender_name) or parts["company_name"], sender)
    message["To"] = _address(parts["client_name"], row.recipient)
    reply_to = config.get("MAIL_REPLY_TO") or get_settings(session).company_email
    if reply_to:
        message["Reply-To"] = reply_to
    message["Date"] = email.utils.format_datetime(now.astimezone(dt.UTC))
    message["Message-ID"] = message_id(row, config)
    if row.kind == "reminder":
        message["Auto-Submitted"] = "auto-generated"
    message.set_content(parts["text"])
    message.add_alternative(parts["html"], subtype="html")
    message.add_attachment(parts["pdf"], maintype="application", subtype="pdf", filename=parts["filename"])
    for filename, subtype, data in parts.get("extra", ()):
        message.add_attachment(data, maintype="application", subtype=subtype, filename=filename)
    return message


def build_sms(
    session: Session, row: QueuedMessage, config: Mapping[str, Any], *, now: dt.datetime | None = None
) -> str:
    """The text for ``row``: number, amount, due date and link, in one segment where it fits.

    Amounts use the ISO code (``NGN 29,025.00``): currency signs such as ``₦``
    are outside the GSM alphabet and would halve the segment to 70 characters.
    When everything does not fit one segment, an invoice or reminder drops the
    company name (the link is how the client pays); a receipt drops the link
    first, since a text saying money was received must say who received it.
    """
    now = now or utcnow()
    if row.kind in ("statement", "credit_note", "quote"):
        raise PermanentDeliveryError(f"{row.kind.replace('_', ' ')}s are sent by e-mail only")
    context = message_context(session, row, config, today=now.date(), money=format_money_code)
    template = environment.get_template(f"sms/{row.kind}.txt")
    company, link = context["company_name"], context["link"]
    variants = (
        [(company, link), (company, None), ("", link)] if row.kind == "receipt" else [(company, link), ("", link)]
    )
    candidates = []
    for company_name, shown_link in variants:
        text = " ".join(template.render(**{**context, "company_name": company_name, "link": shown_link}).split())
        candidates.append(text[:1].upper() + text[1:])
    return next((text for text in candidates if sms_segments(text) == 1), candidates[-1])
