"""Invoice and receipt documents: Jinja templates rendered to PDF by WeasyPrint (SPEC §8)."""

from shared.documents.pdf import DocumentError, pdf_filename, render_invoice_pdf, render_receipt_pdf

__all__ = ["DocumentError", "pdf_filename", "render_invoice_pdf", "render_receipt_pdf"]
