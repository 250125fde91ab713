"""The ``/api/v1`` blueprint and its route table (SPEC §7)."""

from __future__ import annotations

from flask import Blueprint
from flask_restful import Api

from api_service.resources.clients import ClientItem, ClientList
from api_service.resources.credit_notes import (
    ClientRefunds,
    CreditNoteItem,
    CreditNoteList,
    CreditNotePdf,
    InvoiceApplyCredit,
    InvoiceCreditNotes,
)
from api_service.resources.einvoices import CreditNoteFacturX, CreditNoteUbl, InvoiceFacturX, InvoiceUbl
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
from api_service.resources.recurring import (
    RecurringInvoiceItem,
    RecurringInvoiceList,
    RecurringInvoicePause,
    RecurringInvoiceResume,
)
from api_service.resources.webhooks import (
    WebhookDeliveryRetry,
    WebhookEndpointDeliveries,
    WebhookEndpointItem,
    WebhookEndpointList,
    WebhookEndpointRotateSecret,
    WebhookEndpointTest,
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
    (InvoiceFacturX, "/invoices/<int:invoice_id>/facturx.pdf", "invoice_facturx"),
    (InvoiceUbl, "/invoices/<int:invoice_id>/ubl.xml", "invoice_ubl"),
    (InvoicePayments, "/invoices/<int:invoice_id>/payments", "invoice_payments"),
    (InvoiceCreditNotes, "/invoices/<int:invoice_id>/credit-notes", "invoice_credit_notes"),
    (InvoiceApplyCredit, "/invoices/<int:invoice_id>/apply-credit", "invoice_apply_credit"),
    (CreditNoteList, "/credit-notes", "credit_notes"),
    (CreditNoteItem, "/credit-notes/<int:credit_note_id>", "credit_note"),
    (CreditNotePdf, "/credit-notes/<int:credit_note_id>/pdf", "credit_note_pdf"),
    (CreditNoteFacturX, "/credit-notes/<int:credit_note_id>/facturx.pdf", "credit_note_facturx"),
    (CreditNoteUbl, "/credit-notes/<int:credit_note_id>/ubl.xml", "credit_note_ubl"),
    (ClientRefunds, "/clients/<int:client_id>/refunds", "client_refunds"),
    (PaymentList, "/payments", "payments"),
    (PaymentItem, "/payments/<int:payment_id>", "payment"),
    (PaymentVoid, "/payments/<int:payment_id>/void", "payment_void"),
    (PaymentReceiptPdf, "/payments/<int:payment_id>/receipt.pdf", "payment_receipt"),
    (ExpenseList, "/expenses", "expenses"),
    (ExpenseItem, "/expenses/<int:expense_id>", "expense"),
    (ExpenseApprove, "/expenses/<int:expense_id>/approve", "expense_approve"),
    (ExpenseDecline, "/expenses/<int:expense_id>/decline", "expense_decline"),
    (RecurringInvoiceList, "/recurring-invoices", "recurring_invoices"),
    (RecurringInvoiceItem, "/recurring-invoices/<int:recurring_id>", "recurring_invoice"),
    (RecurringInvoicePause, "/recurring-invoices/<int:recurring_id>/pause", "recurring_invoice_pause"),
    (RecurringInvoiceResume, "/recurring-invoices/<int:recurring_id>/resume", "recurring_invoice_resume"),
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
    (WebhookEndpointList, "/webhook-endpoints", "webhook_endpoints"),
    (WebhookEndpointItem, "/webhook-endpoints/<int:endpoint_id>", "webhook_endpoint"),
    (WebhookEndpointRotateSecret, "/webhook-endpoints/<int:endpoint_id>/rotate-secret", "webhook_endpoint_rotate"),
    (WebhookEndpointTest, "/webhook-endpoints/<int:endpoint_id>/test", "webhook_endpoint_test"),
    (WebhookEndpointDeliveries, "/webhook-endpoints/<int:endpoint_id>/deliveries", "webhook_endpoint_deliveries"),
    (WebhookDeliveryRetry, "/webhook-deliveries/<int:delivery_id>/retry", "webhook_delivery_retry"),
]

for resource, path, endpoint in ROUTES:
    api.add_resource(resource, path, endpoint=endpoint)
