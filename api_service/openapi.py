"""The OpenAPI 3.1 document, built from the same pydantic models the API validates with."""

from __future__ import annotations

import functools
import re
from typing import Any

from pydantic import BaseModel

from api_service import schemas as s

REF = "#/components/schemas/{model}"

# (method, path, summary, tag, request model, (status, response model or kind), extra query parameters)
Operation = tuple[str, str, str, str, type[BaseModel] | None, tuple[int, Any], list[dict]]


def _query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


PAGING = [
    _query("limit", {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}, "Page size (1 to 200)."),
    _query("cursor", {"type": "string"}, "The `next_cursor` of the previous page."),
]


def _enum(values: tuple[str, ...]) -> dict:
    return {"type": "string", "enum": list(values)}


OPERATIONS: list[Operation] = [
    (
        "get",
        "/clients",
        "List clients",
        "clients",
        None,
        (200, s.ClientPage),
        [_query("q", {"type": "string"}, "Search in name and e-mail."), *PAGING],
    ),
    ("post", "/clients", "Create a client", "clients", s.ClientIn, (201, s.ClientOut), []),
    ("get", "/clients/{client_id}", "Get a client, with its credit", "clients", None, (200, s.ClientDetailOut), []),
    ("patch", "/clients/{client_id}", "Update a client", "clients", s.ClientPatch, (200, s.ClientDetailOut), []),
    (
        "post",
        "/clients/{client_id}/refunds",
        "Pay client credit back to the client",
        "credit notes",
        s.RefundIn,
        (201, s.RefundOut),
        [],
    ),
    ("delete", "/clients/{client_id}", "Delete a client that has no invoices", "clients", None, (204, None), []),
    (
        "get",
        "/invoices",
        "List invoices",
        "invoices",
        None,
        (200, s.InvoicePage),
        [
            _query("status", _enum(s.INVOICE_STATES), "Only invoices in this state."),
            _query("client_id", {"type": "integer", "minimum": 1}, "Only this client's invoices."),
            _query("overdue", {"type": "boolean"}, "Past due with a balance (true) or not (false)."),
            _query("issued_from", {"type": "string", "format": "date"}, "Issued on or after this date; no drafts."),
            _query("issued_to", {"type": "string", "format": "date"}, "Issued on or before this date; no drafts."),
            *PAGING,
        ],
    ),
    (
        "post",
        "/invoices",
        "Create an invoice (issued and e-mailed by default)",
        "invoices",
        s.InvoiceIn,
        (201, s.InvoiceOut),
        [],
    ),
    ("get", "/invoices/{invoice_id}", "Get an invoice", "invoices", None, (200, s.InvoiceOut), []),
    ("patch", "/invoices/{invoice_id}", "Update a draft", "invoices", s.InvoicePatch, (200, s.InvoiceOut), []),
    ("delete", "/invoices/{invoice_id}", "Delete a draft", "invoices", None, (204, None), []),
    (
        "post",
        "/invoices/{invoice_id}/issue",
        "Issue a draft: number it and freeze it",
        "invoices",
        s.IssueIn,
        (200, s.InvoiceOut),
        [],
    ),
    (
        "post",
        "/invoices/{invoice_id}/send",
        "Queue an issued invoice to the client",
        "invoices",
        s.SendIn,
        (202, s.InvoiceOut),
        [],
    ),
    (
        "post",
        "/invoices/{invoice_id}/void",
        "Void an issued invoice without payments",
        "invoices",
        s.ReasonIn,
        (200, s.InvoiceOut),
        [],
    ),
    ("get", "/invoices/{invoice_id}/pdf", "The invoice as PDF", "invoices", None, (200, "pdf"), []),
    (
        "get",
        "/invoices/{invoice_id}/facturx.pdf",
        "The issued invoice as Factur-X (PDF/A-3b with factur-x.xml, EN 16931 profile); "
        "409 for a draft or void invoice, 422 naming the fields an e-invoice still needs",
        "invoices",
        None,
        (200, "pdf"),
        [],
    ),
    (
        "get",
        "/invoices/{invoice_id}/ubl.xml",
        "The issued invoice as UBL 2.1 (Peppol BIS Billing 3.0); "
        "409 for a draft or void invoice, 422 naming the fields an e-invoice still needs",
        "invoices",
        None,
        (200, "xml"),
        [],
    ),
    (
        "get",
        "/invoices/{invoice_id}/payments",
        "List an invoice's payments",
        "payments",
        None,
        (200, s.PaymentPage),
        PAGING,
    ),
    (
        "post",
        "/invoices/{invoice_id}/payments",
        "Record a payment and issue its receipt",
        "payments",
        s.PaymentIn,
        (201, s.PaymentOut),
        [],
    ),
    (
        "post",
        "/invoices/{invoice_id}/credit-notes",
        "Issue a credit note on an invoice (whole or by items)",
        "credit notes",
        s.CreditNoteIn,
        (201, s.CreditNoteOut),
        [],
    ),
    (
        "post",
        "/invoices/{invoice_id}/apply-credit",
        "Settle an invoice with its client's credit",
        "credit notes",
        s.ApplyCreditIn,
        (201, s.InvoiceOut),
        [],
    ),
    (
        "get",
        "/credit-notes",
        "List credit notes",
        "credit notes",
        None,
        (200, s.CreditNotePage),
        [
            _query("invoice_id", {"type": "integer", "minimum": 1}, "Only this invoice's credit notes."),
            _query("client_id", {"type": "integer", "minimum": 1}, "Only this client's credit notes."),
            *PAGING,
        ],
    ),
    ("get", "/credit-notes/{credit_note_id}", "Get a credit note", "credit notes", None, (200, s.CreditNoteOut), []),
    ("get", "/credit-notes/{credit_note_id}/pdf", "The credit note as PDF", "credit notes", None, (200, "pdf"), []),
    (
        "get",
        "/credit-notes/{credit_note_id}/facturx.pdf",
        "The credit note as Factur-X (type 381 referencing its invoice); 422 naming the fields still needed",
        "credit notes",
        None,
        (200, "pdf"),
        [],
    ),
    (
        "get",
        "/credit-notes/{credit_note_id}/ubl.xml",
        "The credit note as a UBL 2.1 CreditNote (Peppol BIS Billing 3.0); 422 naming the fields still needed",
        "credit notes",
        None,
        (200, "xml"),
        [],
    ),
    (
        "get",
        "/payments",
        "List payments",
        "payments",
        None,
        (200, s.PaymentPage),
        [_query("invoice_id", {"type": "integer", "minimum": 1}, "Only this invoice's payments."), *PAGING],
    ),
    ("get", "/payments/{payment_id}", "Get a payment", "payments", None, (200, s.PaymentOut), []),
    ("post", "/payments/{payment_id}/void", "Void a payment", "payments", s.ReasonIn, (200, s.PaymentOut), []),
    ("get", "/payments/{payment_id}/receipt.pdf", "The receipt as PDF", "payments", None, (200, "pdf"), []),
    (
        "get",
        "/expenses",
        "List expenses",
        "expenses",
        None,
        (200, s.ExpensePage),
        [_query("status", _enum(s.EXPENSE_STATES), "Only expenses in this state."), *PAGING],
    ),
    ("post", "/expenses", "Request an expense", "expenses", s.ExpenseIn, (201, s.ExpenseOut), []),
    ("get", "/expenses/{expense_id}", "Get an expense", "expenses", None, (200, s.ExpenseOut), []),
    (
        "patch",
        "/expenses/{expense_id}",
        "Update a pending expense",
        "expenses",
        s.ExpensePatch,
        (200, s.ExpenseOut),
        [],
    ),
    ("delete", "/expenses/{expense_id}", "Withdraw a pending expense", "expenses", None, (204, None), []),
    (
        "post",
        "/expenses/{expense_id}/approve",
        "Approve a pending expense (admin scope)",
        "expenses",
        s.DecisionIn,
        (200, s.ExpenseOut),
        [],
    ),
    (
        "post",
        "/expenses/{expense_id}/decline",
        "Decline a pending expense with a note (admin scope)",
        "expenses",
        s.DecisionIn,
        (200, s.ExpenseOut),
        [],
    ),
    (
        "get",
        "/recurring-invoices",
        "List recurring invoices",
        "recurring invoices",
        None,
        (200, s.RecurringInvoicePage),
        [
            _query("status", _enum(s.RECURRING_STATES), "Only recurring invoices in this state."),
            _query("client_id", {"type": "integer", "minimum": 1}, "Only this client's recurring invoices."),
            *PAGING,
        ],
    ),
    (
        "post",
        "/recurring-invoices",
        "Create a recurring invoice (a template issuing invoices on a schedule)",
        "recurring invoices",
        s.RecurringInvoiceIn,
        (201, s.RecurringInvoiceOut),
        [],
    ),
    (
        "get",
        "/recurring-invoices/{recurring_id}",
        "Get a recurring invoice with its next run dates",
        "recurring invoices",
        None,
        (200, s.RecurringInvoiceOut),
        [],
    ),
    (
        "patch",
        "/recurring-invoices/{recurring_id}",
        "Update a recurring invoice (the runs not made yet)",
        "recurring invoices",
        s.RecurringInvoicePatch,
        (200, s.RecurringInvoiceOut),
        [],
    ),
    (
        "delete",
        "/recurring-invoices/{recurring_id}",
        "Delete a recurring invoice that has made no invoice",
        "recurring invoices",
        None,
        (204, None),
        [],
    ),
    (
        "post",
        "/recurring-invoices/{recurring_id}/pause",
        "Pause a recurring invoice",
        "recurring invoices",
        s.EmptyIn,
        (200, s.RecurringInvoiceOut),
        [],
    ),
    (
        "post",
        "/recurring-invoices/{recurring_id}/resume",
        "Resume a paused recurring invoice; runs dated before today are skipped",
        "recurring invoices",
        s.EmptyIn,
        (200, s.RecurringInvoiceOut),
        [],
    ),
    (
        "get",
        "/quotes",
        "List quotes",
        "quotes",
        None,
        (200, s.QuotePage),
        [
            _query("status", _enum(s.QUOTE_STATES), "Only quotes in this state (expired: sent, past valid_until)."),
            _query("client_id", {"type": "integer", "minimum": 1}, "Only this client's quotes."),
            *PAGING,
        ],
    ),
    ("post", "/quotes", "Create a draft quote", "quotes", s.QuoteIn, (201, s.QuoteOut), []),
    ("get", "/quotes/{quote_id}", "Get a quote", "quotes", None, (200, s.QuoteOut), []),
    ("patch", "/quotes/{quote_id}", "Update a draft quote", "quotes", s.QuotePatch, (200, s.QuoteOut), []),
    ("delete", "/quotes/{quote_id}", "Delete a draft quote", "quotes", None, (204, None), []),
    (
        "post",
        "/quotes/{quote_id}/send",
        "Number a draft quote and e-mail it (or e-mail a sent one again); an expired quote is a 409",
        "quotes",
        s.QuoteSendIn,
        (200, s.QuoteOut),
        [],
    ),
    (
        "post",
        "/quotes/{quote_id}/accept",
        "Record the client's acceptance given another way",
        "quotes",
        s.AcceptIn,
        (200, s.QuoteOut),
        [],
    ),
    ("post", "/quotes/{quote_id}/decline", "Record the client declining", "quotes", s.DeclineIn, (200, s.QuoteOut), []),
    (
        "post",
        "/quotes/{quote_id}/convert",
        "Turn an accepted (or sent) quote into an invoice, once; a second convert is a 409 naming the invoice",
        "quotes",
        s.ConvertIn,
        (201, s.InvoiceOut),
        [],
    ),
    ("get", "/quotes/{quote_id}/pdf", "The quote as PDF", "quotes", None, (200, "pdf"), []),
    (
        "get",
        "/notifications",
        "List queued, sent and failed messages",
        "notifications",
        None,
        (200, s.NotificationPage),
        [
            _query("state", _enum(s.MESSAGE_STATES), "Only messages in this state."),
            _query("channel", _enum(s.CHANNELS), "email or sms."),
            _query("kind", _enum(s.MESSAGE_KINDS), "invoice, receipt, reminder, statement, credit_note or quote."),
            _query("invoice_id", {"type": "integer", "minimum": 1}, "Only this invoice's messages."),
            *PAGING,
        ],
    ),
    ("get", "/notifications/{notification_id}", "Get a message", "notifications", None, (200, s.NotificationOut), []),
    (
        "post",
        "/notifications/{notification_id}/retry",
        "Queue a failed or cancelled message again",
        "notifications",
        s.EmptyIn,
        (200, s.NotificationOut),
        [],
    ),
    (
        "post",
        "/notifications/{notification_id}/cancel",
        "Cancel a queued message",
        "notifications",
        s.EmptyIn,
        (200, s.NotificationOut),
        [],
    ),
    (
        "get",
        "/webhook-endpoints",
        "List webhook endpoints (admin scope)",
        "webhooks",
        None,
        (200, s.WebhookEndpointPage),
        PAGING,
    ),
    (
        "post",
        "/webhook-endpoints",
        "Add a webhook endpoint; the answer shows its signing secret once (admin scope)",
        "webhooks",
        s.WebhookEndpointIn,
        (201, s.WebhookEndpointWithSecretOut),
        [],
    ),
    (
        "get",
        "/webhook-endpoints/{endpoint_id}",
        "Get a webhook endpoint (admin scope)",
        "webhooks",
        None,
        (200, s.WebhookEndpointOut),
        [],
    ),
    (
        "patch",
        "/webhook-endpoints/{endpoint_id}",
        "Change a webhook endpoint (admin scope)",
        "webhooks",
        s.WebhookEndpointPatch,
        (200, s.WebhookEndpointOut),
        [],
    ),
    (
        "delete",
        "/webhook-endpoints/{endpoint_id}",
        "Delete a webhook endpoint and its deliveries (admin scope)",
        "webhooks",
        None,
        (204, None),
        [],
    ),
    (
        "post",
        "/webhook-endpoints/{endpoint_id}/rotate-secret",
        "Give the endpoint a new signing secret, shown once (admin scope)",
        "webhooks",
        s.EmptyIn,
        (200, s.WebhookEndpointWithSecretOut),
        [],
    ),
    (
        "post",
        "/webhook-endpoints/{endpoint_id}/test",
        "Send a webhook.test event to this endpoint (admin scope)",
        "webhooks",
        s.EmptyIn,
        (202, s.WebhookDeliveryOut),
        [],
    ),
    (
        "get",
        "/webhook-endpoints/{endpoint_id}/deliveries",
        "List an endpoint's deliveries, newest first (admin scope)",
        "webhooks",
        None,
        (200, s.WebhookDeliveryPage),
        [_query("state", _enum(s.WEBHOOK_DELIVERY_STATES), "Only deliveries in this state."), *PAGING],
    ),
    (
        "post",
        "/webhook-deliveries/{delivery_id}/retry",
        "Send a failed or pending delivery now (admin scope)",
        "webhooks",
        s.EmptyIn,
        (200, s.WebhookDeliveryOut),
        [],
    ),
]

ERRORS = {
    400: "Malformed JSON",
    401: "Missing, invalid or revoked API key",
    403: "The key's scope does not allow this",
    404: "No such object",
    409: "The object's state forbids this (e.g. editing an issued invoice, overpaying)",
    413: "The body is too large",
    415: "The body is not JSON",
    422: "Validation failed; `errors` maps field paths to messages",
    429: "Too many invalid API keys from this address; wait for Retry-After seconds",
    503: "The database is unreachable; retry shortly",
}

PROBLEM_EXAMPLES = {
    409: {
        "type": "https://invoicing.example/problems/conflict",
        "title": "Conflict",
        "status": 409,
        "detail": "the payment of USD 500.00 is more than the balance due of USD 320.00",
    },
    422: {
        "type": "https://invoicing.example/problems/validation-failed",
        "title": "Validation failed",
        "status": 422,
        "detail": "items.0.quantity: must be more than 0 and at most 1,000,000",
        "errors": {"items.0.quantity": ["must be more than 0 and at most 1,000,000"]},
    },
}


def _schema_ref(model: type[BaseModel], mode: str, components: dict) -> dict:
    schema = model.model_json_schema(ref_template=REF, mode=mode)
    for name, definition in schema.pop("$defs", {}).items():
        components.setdefault(name, definition)
    components.setdefault(model.__name__, schema)
    return {"$ref": REF.format(model=model.__name__)}


def _error_statuses(method: str, path: str) -> list[int]:
    statuses = [401, 403, 422, 429, 503]
    if method in ("post", "patch"):
        statuses += [400, 413, 415, 409]
    if "{" in path:
        statuses += [404, 409]
    if method == "delete":
        statuses += [409]
    return sorted(set(statuses))


# OpenAPI links from a created object to the operations on it (used by stateful testing and docs).
LINKS: dict[tuple[str, str], dict[str, tuple[str, str]]] = {
    ("post", "/clients"): {
        "GetClient": ("get_clients_client_id", "client_id"),
        "UpdateClient": ("patch_clients_client_id", "client_id"),
    },
    ("post", "/invoices"): {
        "GetInvoice": ("get_invoices_invoice_id", "invoice_id"),
        "PayInvoice": ("post_invoices_invoice_id_payments", "invoice_id"),
        "VoidInvoice": ("post_invoices_invoice_id_void", "invoice_id"),
        "CreditInvoice": ("post_invoices_invoice_id_credit_notes", "invoice_id"),
    },
    ("post", "/invoices/{invoice_id}/credit-notes"): {
        "GetCreditNote": ("get_credit_notes_credit_note_id", "credit_note_id"),
    },
    ("post", "/webhook-endpoints"): {
        "GetWebhookEndpoint": ("get_webhook_endpoints_endpoint_id", "endpoint_id"),
        "ListDeliveries": ("get_webhook_endpoints_endpoint_id_deliveries", "endpoint_id"),
    },
    ("post", "/recurring-invoices"): {
        "GetRecurringInvoice": ("get_recurring_invoices_recurring_id", "recurring_id"),
        "PauseRecurringInvoice": ("post_recurring_invoices_recurring_id_pause", "recurring_id"),
    },
    ("post", "/quotes"): {
        "GetQuote": ("get_quotes_quote_id", "quote_id"),
        "SendQuote": ("post_quotes_quote_id_send", "quote_id"),
    },
    ("post", "/invoices/{invoice_id}/payments"): {
        "GetPayment": ("get_payments_payment_id", "payment_id"),
        "VoidPayment": ("post_payments_payment_id_void", "payment_id"),
    },
}


@functools.lru_cache(maxsize=1)
def openapi_document() -> dict:
    components: dict[str, Any] = {}
    problem = _schema_ref(s.Problem, "serialization", components)
    paths: dict[str, dict] = {}
    for method, path, summary, tag, request_model, (status, response), extra in OPERATIONS:
        operation: dict[str, Any] = {
            "summary": summary,
            "operationId": f"{method}_{re.sub(r'[^a-z0-9]+', '_', path.lower()).strip('_')}",
            "tags": [tag],
            "security": [{"bearerAuth": []}],
            "parameters": [
                {"name": name, "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
                for name in re.findall(r"{(\w+)}", path)
            ]
            + list(extra),
        }
        if method == "post":
            operation["parameters"].append(
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                    "description": "Retry safely: the same key and body within 24 h replays the first response.",
                }
            )
        if request_model is not None:
            body_schema = _schema_ref(request_model, "validation", components)
            content: dict[str, Any] = {"schema": body_schema}
            examples = (request_model.model_config.get("json_schema_extra") or {}).get("examples")
            if examples:
                content["example"] = examples[0]
            operation["requestBody"] = {
                "required": method != "post" or "{" not in path,
                "content": {"application/json": content},
            }
        responses: dict[str, Any] = {}
        if response == "pdf":
            responses[str(status)] = {
                "description": "PDF document",
                "content": {"application/pdf": {"schema": {"type": "string", "contentMediaType": "application/pdf"}}},
            }
        elif response == "xml":
            responses[str(status)] = {
                "description": "XML document",
                "content": {"application/xml": {"schema": {"type": "string", "contentMediaType": "application/xml"}}},
            }
        elif response is None:
            responses[str(status)] = {"description": "Done; no content"}
        else:
            responses[str(status)] = {
                "description": "OK",
                "content": {"application/json": {"schema": _schema_ref(response, "serialization", components)}},
            }
        for code in _error_statuses(method, path):
            media: dict[str, Any] = {"schema": problem}
            if code in PROBLEM_EXAMPLES:
                media["example"] = PROBLEM_EXAMPLES[code]
            responses[str(code)] = {"description": ERRORS[code], "content": {"application/problem+json": media}}
        links = LINKS.get((method, path))
        if links:
            responses[str(status)]["links"] = {
                name: {"operationId": operation_id, "parameters": {parameter: "$response.body#/id"}}
                for name, (operation_id, parameter) in links.items()
            }
        operation["responses"] = responses
        paths.setdefault(path, {})[method] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Invoicing API",
            "version": "1.0.0",
            "description": (
                "Create invoices, record payments and follow their delivery. Amounts are decimal strings with "
                "exactly the currency's decimals; requests may send strings or JSON numbers (never parsed as "
                "floats). Every POST takes an optional Idempotency-Key. Errors are application/problem+json."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(components.items())),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "description": "An API key"}},
        },
    }
