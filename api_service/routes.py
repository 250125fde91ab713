"""The ``/api/v1`` blueprint and its route table (SPEC §7)."""

from __future__ import annotations

from flask import Blueprint
from flask_restful import Api

from api_service.resources.clients import ClientItem, ClientList
from api_service.resources.expenses import ExpenseApprove, ExpenseDecline, ExpenseItem, ExpenseList
from api_service.resources.invoices import (
    InvoiceIssue,
    InvoiceItem,
    InvoiceList,
    InvoicePdf,
    InvoiceSend,
    InvoiceVoid,
)
from api_service.resources.meta import Docs, Index, OpenApiDocument
from api_service.resources.notifications import (
    NotificationCancel,
    NotificationItem,
    NotificationList,
    NotificationRetry,
)
from api_service.resources.payments import (
    InvoicePayments,
    PaymentItem,
    PaymentList,
    PaymentReceiptPdf,
    PaymentVoid,
)
from api_service.resources.quotes import (
    QuoteAccept,
    QuoteConvert,
    QuoteDecline,
    QuoteItem,
    QuoteList,
    QuotePdf,
    QuoteSend,
)

bp = Blueprint("api", __name__, url_prefix="/api/v1", static_folder="static", static_url_path="/static")


class ProblemApi(Api):
    """Leave every error to the app's problem+json handlers, not Flask-RESTful's."""

    def error_router(self, original_handler, e):
        return original_handler(e)


api = ProblemApi(bp, catch_all_404s=False)

ROUTES = [
    (Index, "/", "index"),
    (OpenApiDocument, "/openapi.json", "openapi"),
    (Docs, "/docs", "docs"),
    (ClientList, "/clients", "clients"),
    (ClientItem, "/clients/<int:client_id>", "client"),
    (InvoiceList, "/invoices", "invoices"),
    (InvoiceItem, "/invoices/<int:invoice_id>", "invoice"),
    (InvoiceIssue, "/invoices/<int:invoice_id>/issue", "invoice_issue"),
    (InvoiceSend, "/invoices/<int:invoice_id>/send", "invoice_send"),
    (InvoiceVoid, "/invoices/<int:invoice_id>/void", "invoice_void"),
    (InvoicePdf, "/invoices/<int:invoice_id>/pdf", "invoice_pdf"),
    (InvoicePayments, "/invoices/<int:invoice_id>/payments", "invoice_payments"),
    (PaymentList, "/payments", "payments"),
    (PaymentItem, "/payments/<int:payment_id>", "payment"),
    (PaymentVoid, "/payments/<int:payment_id>/void", "payment_void"),
    (PaymentReceiptPdf, "/payments/<int:payment_id>/receipt.pdf", "payment_receipt"),
    (ExpenseList, "/expenses", "expenses"),
    (ExpenseItem, "/expenses/<int:expense_id>", "expense"),
    (ExpenseApprove, "/expenses/<int:expense_id>/approve", "expense_approve"),
    (ExpenseDecline, "/expenses/<int:expense_id>/decline", "expense_decline"),
    (QuoteList, "/quotes", "quotes"),
    (QuoteItem, "/quotes/<int:quote_id>", "quote"),
    (QuoteSend, "/quotes/<int:quote_id>/send", "quote_send"),
    (QuoteAccept, "/quotes/<int:quote_id>/accept", "quote_accept"),
    (QuoteDecline, "/quotes/<int:quote_id>/decline", "quote_decline"),
    (QuoteConvert, "/quotes/<int:quote_id>/convert", "quote_convert"),
    (QuotePdf, "/quotes/<int:quote_id>/pdf", "quote_pdf"),
    (NotificationList, "/notifications", "notifications"),
    (NotificationItem, "/notifications/<int:notification_id>", "notification"),
    (NotificationRetry, "/notifications/<int:notification_id>/retry", "notification_retry"),
    (NotificationCancel, "/notifications/<int:notification_id>/cancel", "notification_cancel"),
]

for resource, path, endpoint in ROUTES:
    api.add_resource(resource, path, endpoint=endpoint)
