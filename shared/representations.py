"""The JSON shapes of SPEC §7: what the API answers, and what a webhook event carries as ``data`` (SPEC §15).

One home for both, so an event's ``data`` is exactly what the API's GET
returned for the object when the event happened. The API documents these
shapes in ``api_service.schemas``; it imports the functions from here.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from shared import money
from shared.config import DEFAULT_PUBLIC_BASE_URL
from shared.messages.queue import messages_for_invoice, messages_for_quote
from shared.models import (
    Client,
    ClientCredit,
    CreditNote,
    Expense,
    Invoice,
    Payment,
    QueuedMessage,
    Quote,
    RecurringInvoice,
    Refund,
    WebhookDelivery,
    WebhookEndpoint,
)
from shared.models.enums import MessageState, WebhookDeliveryState
from shared.numbering import is_provisional, settle_numbers


def _plain(value: Decimal, min_places: int = 0) -> str:
    """A decimal without trailing zeros, but with at least ``min_places`` decimals."""
    text = format(value.normalize(), "f")
    places = len(text.split(".")[1]) if "." in text else 0
    if places < min_places:
        text = format(value.quantize(Decimal(1).scaleb(-min_places)), "f")
    return text


def _time(value: dt.datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def public_base_url() -> str:
    """The base of public links: the running app's ``PUBLIC_BASE_URL`` (SPEC §3).

    A use case run outside any app (a script, a unit test) gets the default.
    """
    if has_app_context():
        return current_app.config.get("PUBLIC_BASE_URL") or DEFAULT_PUBLIC_BASE_URL
    return DEFAULT_PUBLIC_BASE_URL


def notification_json(row: QueuedMessage) -> dict:
    return {
        "id": row.id,
        "kind": row.kind,
        "channel": row.channel,
        "recipient": row.recipient,
        "state": row.state,
        "attempts": row.attempts,
        "last_error": row.last_error,
        "sent_at": _time(row.sent_at),
        "invoice_id": row.invoice_id,
        "payment_id": row.payment_id,
        "quote_id": row.quote_id,
        "next_attempt_at": _time(row.next_attempt_at) if row.state == MessageState.QUEUED else None,
        "created_at": _time(row.created_at),
    }


def client_json(client: Client) -> dict:
    return {
        "id": client.id,
        "name": client.name,
        "client_type": client.client_type,
        "email": client.email,
        "phone": client.phone,
        "billing_address": client.billing_address,
        "postal_address": client.postal_address,
        "default_currency": client.default_currency,
        "country": client.country,
        "vat_id": client.vat_id,
        "street": client.street,
        "city": client.city,
        "postal_code": client.postal_code,
        "sms_opt_in": client.sms_opt_in,
        "reminders_opt_out": client.reminders_opt_out,
        "archived": client.archived_at is not None,
        "created_at": _time(client.created_at),
    }


def client_detail_json(client: Client, credits: list[ClientCredit]) -> dict:
    """One client, with its credit per currency (SPEC §11: only currencies with credit > 0)."""
    return {
        **client_json(client),
        "credit": [
            {"currency": credit.currency, "amount": money.format_amount(credit.balance, credit.currency)}
            for credit in credits
        ],
    }


def _discount(document: Invoice | Quote) -> dict | None:
    if not document.discount_type:
        return None
    places = money.currency_exponent(document.currency) if document.discount_type == "fixed" else 0
    return {"type": document.discount_type, "value": _plain(document.discount_value, places)}


def _items(document: Invoice | Quote) -> list[dict]:
    currency = document.currency
    exponent = money.currency_exponent(currency)
    return [
        {
            "position": line.position,
            "description": line.description,
            "quantity": _plain(line.quantity),
            "unit_price": _plain(line.unit_price, exponent),
            "tax_rate": _plain(line.tax_rate),
            "unit": line.unit,
            "tax_category": line.tax_category,
            "tax_exemption_reason": line.tax_exemption_reason,
            "amount": money.format_amount(line.amount, currency),
            "discount": money.format_amount(line.discount, currency),
            "tax": money.format_amount(line.tax, currency),
        }
        for line in document.lines
    ]


def quote_json(quote: Quote, notifications: list[QueuedMessage], today: dt.date | None = None) -> dict:
    def amount(name: str) -> str:
        return money.format_amount(getattr(quote, name), quote.currency)

    base = public_base_url()
    return {
        "id": quote.id,
        "number": quote.number,
        "status": quote.status_on(today or dt.date.today()),
        "client": client_json(quote.client),
        "billed_to": quote.billed_to,
        "currency": quote.currency,
        "issue_date": quote.issue_date.isoformat(),
        "valid_until": quote.valid_until.isoformat(),
        "purchase_order": quote.purchase_order,
        "notes": quote.notes,
        "discount": _discount(quote),
        "tax_rounding": quote.tax_rounding,
        "items": _items(quote),
        "subtotal": amount("subtotal"),
        "discount_total": amount("discount_total"),
        "tax_total": amount("tax_total"),
        "total": amount("total"),
        "sent_at": _time(quote.sent_at),
        "accepted_by": quote.accepted_by,
        "accepted_at": _time(quote.accepted_at),
        "accepted_ip": quote.accepted_ip,
        "declined_at": _time(quote.declined_at),
        "declined_reason": quote.declined_reason,
        "invoice_id": quote.invoice_id,
        "converted_at": _time(quote.converted_at),
        "viewed_at": _time(quote.viewed_at),
        "created_at": _time(quote.created_at),
        "notifications": [notification_json(row) for row in notifications],
        "links": {
            "pdf": f"/api/v1/quotes/{quote.id}/pdf",
            "public": f"{base}/q/{quote.public_token}" if not quote.is_draft else None,
            "invoice": f"/api/v1/invoices/{quote.invoice_id}" if quote.invoice_id else None,
        },
    }


def invoice_json(invoice: Invoice, notifications: list[QueuedMessage], today: dt.date | None = None) -> dict:
    if is_provisional(invoice.number):  # shown before its commit: take the real number now
        settle_numbers(object_session(invoice))
    currency = invoice.currency
    exponent = money.currency_exponent(currency)

    def amount(value: Decimal) -> str:
        return money.format_amount(value, currency)

    base = public_base_url()
    discount = None
    if invoice.discount_type:
        places = exponent if invoice.discount_type == "fixed" else 0
        discount = {"type": invoice.discount_type, "value": _plain(invoice.discount_value, places)}
    return {
        "id": invoice.id,
        "number": invoice.number,
        "status": invoice.status,
        "overdue": invoice.is_overdue(today or dt.date.today()),
        "client": client_json(invoice.client),
        "billed_to": invoice.billed_to,
        "currency": currency,
        "issue_date": invoice.issue_date.isoformat(),
        "due_date": invoice.due_date.isoformat(),
        "purchase_order": invoice.purchase_order,
        "notes": invoice.notes,
        "discount": discount,
        "tax_rounding": invoice.tax_rounding,
        "items": _items(invoice),
        "subtotal": amount(invoice.subtotal),
        "discount_total": amount(invoice.discount_total),
        "tax_total": amount(invoice.tax_total),
        "total": amount(invoice.total),
        "amount_paid": amount(invoice.amount_paid),
        "amount_credited": amount(invoice.amount_credited),
        "balance_due": amount(invoice.balance_due),
        "issued_at": _time(invoice.issued_at),
        "voided_at": _time(invoice.voided_at),
        "viewed_at": _time(invoice.viewed_at),
        "created_at": _time(invoice.created_at),
        "notifications": [notification_json(row) for row in notifications],
        "links": {
            "pdf": f"/api/v1/invoices/{invoice.id}/pdf",
            "public": f"{base}/i/{invoice.public_token}" if not invoice.is_draft else None,
            "facturx": f"/api/v1/invoices/{invoice.id}/facturx.pdf" if invoice.can_send else None,
            "ubl": f"/api/v1/invoices/{invoice.id}/ubl.xml" if invoice.can_send else None,
        },
        "recurring_invoice_id": invoice.recurring_invoice_id,
    }


def payment_json(payment: Payment, notifications: list[QueuedMessage]) -> dict:
    invoice = payment.invoice
    return {
        "id": payment.id,
        "receipt_number": payment.receipt_number,
        "amount": money.format_amount(payment.amount, payment.currency),
        "currency": payment.currency,
        "method": payment.method,
        "paid_on": payment.paid_on.isoformat(),
        "reference": payment.reference,
        "note": payment.note,
        "internal_note": payment.internal_note,
        "recorded_by": payment.recorded_by,
        "void": payment.is_void,  # not a state: the API field (SPEC §7)
        "voided_at": _time(payment.voided_at),
        "void_reason": payment.void_reason,
        "invoice": {
            "id": invoice.id,
            "number": invoice.number,
            "status": invoice.status,
            "amount_paid": money.format_amount(invoice.amount_paid, invoice.currency),
            "balance_due": money.format_amount(invoice.balance_due, invoice.currency),
        },
        "notifications": [notification_json(row) for row in notifications],
        "links": {
            "receipt_pdf": f"/api/v1/payments/{payment.id}/receipt.pdf",
            "invoice": f"/api/v1/invoices/{invoice.id}",
        },
    }


def expense_json(expense: Expense) -> dict:
    return {
        "id": expense.id,
        "title": expense.title,
        "category": expense.category,
        "description": expense.description,
        "payee": expense.payee,
        "amount": money.format_amount(expense.amount, expense.currency),
        "currency": expense.currency,
        "expense_date": expense.expense_date.isoformat(),
        "status": expense.status,
        "requested_by": expense.requested_by,
        "decided_by": expense.decided_by,
        "decided_at": _time(expense.decided_at),
        "decision_note": expense.decision_note,
        "created_at": _time(expense.created_at),
    }


def credit_note_json(note: CreditNote, notifications: list[QueuedMessage]) -> dict:
    currency = note.currency
    exponent = money.currency_exponent(currency)
    invoice = note.invoice

    def amount(value: Decimal) -> str:
        return money.format_amount(value, currency)

    return {
        "id": note.id,
        "number": note.number,
        "invoice": {
            "id": invoice.id,
            "number": invoice.number,
            "status": invoice.status,
            "amount_credited": amount(invoice.amount_credited),
            "balance_due": amount(invoice.balance_due),
        },
        "client": {"id": note.client.id, "name": note.client.name},
        "currency": currency,
        "issue_date": note.issue_date.isoformat(),
        "reason": note.reason,
        "items": [
            {
                "position": item.position,
                "description": item.description,
                "quantity": _plain(item.quantity),
                "unit_price": _plain(item.unit_price, exponent),
                "tax_rate": _plain(item.tax_rate),
                "unit": item.unit,
                "tax_category": item.tax_category,
                "tax_exemption_reason": item.tax_exemption_reason,
                "amount": amount(item.amount),
                "tax": amount(item.tax),
            }
            for item in note.items
        ],
        "subtotal": amount(note.subtotal),
        "tax_total": amount(note.tax_total),
        "total": amount(note.total),
        "applied": amount(note.applied),
        "to_credit": amount(note.to_credit),
        "created_at": _time(note.created_at),
        "notifications": [notification_json(row) for row in notifications],
        "links": {
            "pdf": f"/api/v1/credit-notes/{note.id}/pdf",
            "invoice": f"/api/v1/invoices/{invoice.id}",
            "facturx": f"/api/v1/credit-notes/{note.id}/facturx.pdf",
            "ubl": f"/api/v1/credit-notes/{note.id}/ubl.xml",
        },
    }


def refund_json(refund: Refund) -> dict:
    return {
        "id": refund.id,
        "amount": money.format_amount(refund.amount, refund.currency),
        "currency": refund.currency,
        "method": refund.method,
        "reference": refund.reference,
        "refunded_on": refund.refunded_on.isoformat(),
        "note": refund.note,
        "client": {"id": refund.client.id, "name": refund.client.name},
        "created_at": _time(refund.created_at),
    }


def recurring_invoice_json(template: RecurringInvoice, last: Invoice | None) -> dict:
    currency = template.currency
    exponent = money.currency_exponent(currency)
    discount = None
    if template.discount_type:
        places = exponent if template.discount_type == "fixed" else 0
        discount = {"type": template.discount_type, "value": _plain(template.discount_value, places)}
    return {
        "id": template.id,
        "client_id": template.client_id,
        "client": {"id": template.client.id, "name": template.client.name},
        "currency": currency,
        "items": [
            {
                "description": item["description"],
                "quantity": _plain(Decimal(item["quantity"])),
                "unit_price": _plain(Decimal(item["unit_price"]), exponent),
                "tax_rate": _plain(Decimal(item["tax_rate"])),
            }
            for item in template.items
        ],
        "discount": discount,
        "notes": template.notes,
        "purchase_order": template.purchase_order,
        "total": money.format_amount(template.total, currency),
        "interval": template.interval,
        "interval_count": template.interval_count,
        "start_date": template.start_date.isoformat(),
        "end_date": template.end_date.isoformat() if template.end_date else None,
        "max_runs": template.max_runs,
        "payment_terms_days": template.payment_terms_days,
        "mode": template.mode,
        "status": template.status,
        "next_run_on": template.next_run_on.isoformat() if template.next_run_on else None,
        "upcoming_runs": [day.isoformat() for day in template.upcoming_runs(5)],
        "runs": template.runs,
        "last_invoice": {
            "id": last.id,
            "number": last.number,
            "status": last.status,
            "issue_date": last.issue_date.isoformat(),
            "total": money.format_amount(last.total, last.currency),
        }
        if last is not None
        else None,
        "last_error": template.last_error,
        "created_at": _time(template.created_at),
        "links": {"self": f"/api/v1/recurring-invoices/{template.id}"},
    }


# ------------------------------------------------------------------ what GET returns for one object


def invoice_snapshot(session: Session, invoice: Invoice) -> dict:
    """``GET /invoices/{id}``: the invoice with every message queued for it."""
    session.flush()
    return invoice_json(invoice, messages_for_invoice(session, invoice.id))


def payment_messages(session: Session, payment: Payment) -> list[QueuedMessage]:
    return list(
        session.scalars(select(QueuedMessage).where(QueuedMessage.payment_id == payment.id).order_by(QueuedMessage.id))
    )


def payment_snapshot(session: Session, payment: Payment) -> dict:
    """``GET /payments/{id}``: the payment with its receipt's messages."""
    session.flush()
    return payment_json(payment, payment_messages(session, payment))


def credit_note_snapshot(session: Session, note: CreditNote) -> dict:
    """``GET /credit-notes/{id}``: the credit note with the messages queued for it."""
    session.flush()
    rows = session.scalars(
        select(QueuedMessage).where(QueuedMessage.credit_note_id == note.id).order_by(QueuedMessage.id)
    )
    return credit_note_json(note, list(rows))


def quote_snapshot(session: Session, quote: Quote) -> dict:
    """``GET /quotes/{id}``: the quote with the messages queued for it."""
    session.flush()
    return quote_json(quote, messages_for_quote(session, quote.id))


# ------------------------------------------------------------------ webhooks (SPEC §15)


def webhook_endpoint_json(endpoint: WebhookEndpoint, *, secret: bool = False) -> dict:
    """An endpoint; its signing ``secret`` only in the answer that made it (create, rotate)."""
    shown = {
        "id": endpoint.id,
        "url": endpoint.url,
        "events": list(endpoint.events),
        "enabled": endpoint.enabled,
        "description": endpoint.description,
        "created_at": _time(endpoint.created_at),
        "updated_at": _time(endpoint.updated_at),
    }
    if secret:
        shown["secret"] = endpoint.secret
    return shown


def webhook_delivery_json(delivery: WebhookDelivery) -> dict:
    waiting = delivery.state == WebhookDeliveryState.PENDING
    return {
        "id": delivery.id,
        "endpoint_id": delivery.endpoint_id,
        "event_id": delivery.event.event_id,
        "event_type": delivery.event.type,
        "state": delivery.state,
        "attempts": delivery.attempts,
        "last_status": delivery.last_status,
        "last_error": delivery.last_error,
        "last_response": delivery.last_response,
        "next_attempt_at": _time(delivery.next_attempt_at) if waiting else None,
        "delivered_at": _time(delivery.delivered_at),
        "created_at": _time(delivery.created_at),
    }
