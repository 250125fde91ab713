"""Turn models into the JSON shapes of SPEC §7 (documented in ``schemas``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import current_app

from shared import money
from shared.models import Client, Expense, Invoice, Payment, QueuedMessage, Quote
from shared.models.enums import MessageState


def _plain(value: Decimal, min_places: int = 0) -> str:
    """A decimal without trailing zeros, but with at least ``min_places`` decimals."""
    text = format(value.normalize(), "f")
    places = len(text.split(".")[1]) if "." in text else 0
    if places < min_places:
        text = format(value.quantize(Decimal(1).scaleb(-min_places)), "f")
    return text


def _time(value: dt.datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


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
        "sms_opt_in": client.sms_opt_in,
        "reminders_opt_out": client.reminders_opt_out,
        "archived": client.archived_at is not None,
        "created_at": _time(client.created_at),
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
            "amount": money.format_amount(line.amount, currency),
            "discount": money.format_amount(line.discount, currency),
            "tax": money.format_amount(line.tax, currency),
        }
        for line in document.lines
    ]


def quote_json(quote: Quote, notifications: list[QueuedMessage], today: dt.date | None = None) -> dict:
    def amount(name: str) -> str:
        return money.format_amount(getattr(quote, name), quote.currency)

    base = current_app.config["PUBLIC_BASE_URL"]
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
    currency = invoice.currency

    def amount(value: Decimal) -> str:
        return money.format_amount(value, currency)

    base = current_app.config["PUBLIC_BASE_URL"]
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
        "discount": _discount(invoice),
        "tax_rounding": invoice.tax_rounding,
        "items": _items(invoice),
        "subtotal": amount(invoice.subtotal),
        "discount_total": amount(invoice.discount_total),
        "tax_total": amount(invoice.tax_total),
        "total": amount(invoice.total),
        "amount_paid": amount(invoice.amount_paid),
        "balance_due": amount(invoice.balance_due),
        "issued_at": _time(invoice.issued_at),
        "voided_at": _time(invoice.voided_at),
        "viewed_at": _time(invoice.viewed_at),
        "created_at": _time(invoice.created_at),
        "notifications": [notification_json(row) for row in notifications],
        "links": {
            "pdf": f"/api/v1/invoices/{invoice.id}/pdf",
            "public": f"{base}/i/{invoice.public_token}" if not invoice.is_draft else None,
        },
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
