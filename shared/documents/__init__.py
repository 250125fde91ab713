"""Invoice, receipt and statement documents: Jinja templates rendered to PDF by WeasyPrint (SPEC §8)."""

from shared.documents.pdf import (
    DocumentError,
    DocumentTooLong,
    check_renders_on_request,
    pdf_filename,
    render_credit_note_pdf,
    render_invoice_pdf,
    render_invoice_pdf_on_request,
    render_quote_pdf,
    render_quote_pdf_on_request,
    render_receipt_pdf,
    render_statement_pdf,
    statement_filename,
)

__all__ = [
    "DocumentError",
    "DocumentTooLong",
    "check_renders_on_request",
    "pdf_filename",
    "render_credit_note_pdf",
    "render_invoice_pdf",
    "render_invoice_pdf_on_request",
    "render_quote_pdf",
    "render_quote_pdf_on_request",
    "render_receipt_pdf",
    "render_statement_pdf",
    "statement_filename",
]
