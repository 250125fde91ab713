"""The client's public invoice page, reached by an unguessable link: /i/<token>."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template
from flask_login import current_user
from sqlalchemy import select

from shared.db import db
from shared.lookups import get_settings
from shared.models import Invoice
from shared.services import record_invoice_viewed

bp = Blueprint("public", __name__)


def _invoice_for(token: str) -> Invoice:
    # Tokens are 43 URL-safe characters; anything else cannot match, so skip the query.
    if not (20 <= len(token) <= 64) or not all(ch.isalnum() or ch in "-_" for ch in token):
        abort(404)
    invoice = db.session.scalars(select(Invoice).where(Invoice.public_token == token)).one_or_none()
    if invoice is None or invoice.is_draft:
        abort(404)
    return invoice


@bp.get("/i/<token>")
def invoice_page(token: str):
    invoice = _invoice_for(token)
    # The admin's session cookie is scoped to the whole site, so a signed-in member of staff is known here.
    invoice = record_invoice_viewed(db.session, invoice_id=invoice.id, by_staff=current_user.is_authenticated)
    response = Response(
        render_template("public/invoice.html", invoice=invoice, settings=get_settings(db.session), token=token)
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.get("/i/<token>.pdf")
def invoice_pdf(token: str):
    from shared import documents

    invoice = _invoice_for(token)
    pdf = documents.render_invoice_pdf_on_request(db.session, invoice)
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{documents.pdf_filename(invoice)}"',
            "Cache-Control": "private, no-store",
            "Referrer-Policy": "no-referrer",
            "X-Robots-Tag": "noindex, nofollow",
        },
    )


@bp.get("/i/<token>/logo")
def invoice_logo(token: str):
    """The company logo for the public page: reachable only through a live invoice's link, like the page."""
    _invoice_for(token)
    settings = get_settings(db.session)
    if not settings.logo:
        abort(404)
    return Response(
        settings.logo,
        mimetype=settings.logo_mime or "application/octet-stream",
        headers={
            "Content-Security-Policy": "default-src 'none'",
            "Cache-Control": "private, max-age=300",
            "Referrer-Policy": "no-referrer",
            "X-Robots-Tag": "noindex, nofollow",
        },
    )
