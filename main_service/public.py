"""The client's public pages, reached by unguessable links: invoices at /i/<token>, quotes at /q/<token>."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from main_service.admin.forms import AcceptQuoteForm, DeclineQuoteForm
from shared.db import db
from shared.errors import DomainError
from shared.lookups import get_settings
from shared.models import Invoice, Quote
from shared.services import Actor, accept_quote, decline_quote, record_invoice_viewed, record_quote_viewed

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


# ---------------------------------------------------------------- quotes (SPEC §13): /q/<token>


def _quote_for(token: str) -> Quote:
    if not (20 <= len(token) <= 64) or not all(ch.isalnum() or ch in "-_" for ch in token):
        abort(404)
    quote = db.session.scalars(select(Quote).where(Quote.public_token == token)).one_or_none()
    if quote is None or quote.is_draft:
        abort(404)
    return quote


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _quote_page(quote: Quote, token: str, accept: AcceptQuoteForm, decline: DeclineQuoteForm, status: int = 200):
    page = render_template(
        "public/quote.html",
        quote=quote,
        settings=get_settings(db.session),
        token=token,
        accept_form=accept,
        decline_form=decline,
    )
    return _private(Response(page, status=status))


@bp.get("/q/<token>")
def quote_page(token: str):
    quote = _quote_for(token)
    quote = record_quote_viewed(db.session, quote_id=quote.id, by_staff=current_user.is_authenticated)
    return _quote_page(quote, token, AcceptQuoteForm(formdata=None), DeclineQuoteForm(formdata=None))


@bp.post("/q/<token>/accept")
def quote_accept(token: str):
    quote = _quote_for(token)
    form = AcceptQuoteForm()
    if form.validate_on_submit():
        try:
            accept_quote(
                db.session, actor=Actor.public(), quote_id=quote.id, name=form.name.data, ip=request.remote_addr
            )
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            flash("Thank you: the quote is accepted. We will be in touch.", "success")
            return redirect(url_for("public.quote_page", token=token))
    return _quote_page(db.session.get(Quote, quote.id), token, form, DeclineQuoteForm(formdata=None), 422)


@bp.post("/q/<token>/decline")
def quote_decline(token: str):
    quote = _quote_for(token)
    form = DeclineQuoteForm()
    if form.validate_on_submit():
        try:
            decline_quote(db.session, actor=Actor.public(), quote_id=quote.id, reason=form.reason.data or "")
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            flash("The quote is declined. Thank you for letting us know.", "success")
            return redirect(url_for("public.quote_page", token=token))
    return _quote_page(db.session.get(Quote, quote.id), token, AcceptQuoteForm(formdata=None), form, 422)


@bp.get("/q/<token>.pdf")
def quote_pdf(token: str):
    from shared import documents

    quote = _quote_for(token)
    pdf = documents.render_quote_pdf_on_request(db.session, quote)
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{documents.pdf_filename(quote)}"'
    return _private(response)
