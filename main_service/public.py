"""The client's public pages, reached by unguessable links: invoices at /i/<token>, quotes at /q/<token>."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from main_service import CONTENT_SECURITY_POLICY
from main_service.admin.forms import AcceptQuoteForm, DeclineQuoteForm
from shared import stripe_checkout
from shared.config import online_payment_enabled
from shared.db import db
from shared.documents.payment_qr import payment_qr_svg
from shared.errors import DomainError
from shared.lookups import get_settings
from shared.models import Invoice, Quote
from shared.services import Actor, accept_quote, decline_quote, record_invoice_viewed, record_quote_viewed

log = logging.getLogger(__name__)

bp = Blueprint("public", __name__)

PRIVATE_PAGE_HEADERS = {
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}
# The Pay form posts here and is redirected to Stripe Checkout, whose host may be a
# custom domain: browsers apply form-action to that redirect too, so any https origin.
PUBLIC_PAGE_CSP = CONTENT_SECURITY_POLICY.replace("form-action 'self'", "form-action 'self' https:")


def _invoice_for(token: str) -> Invoice:
    # Tokens are 43 URL-safe characters; anything else cannot match, so skip the query.
    if not (20 <= len(token) <= 64) or not all(ch.isalnum() or ch in "-_" for ch in token):
        abort(404)
    invoice = db.session.scalars(select(Invoice).where(Invoice.public_token == token)).one_or_none()
    if invoice is None or invoice.is_draft:
        abort(404)
    return invoice


def _page(invoice: Invoice, token: str, template: str = "public/invoice.html", status: int = 200) -> Response:
    settings = get_settings(db.session)
    response = Response(
        render_template(
            template,
            invoice=invoice,
            settings=settings,
            token=token,
            online_payment=online_payment_enabled(current_app.config),
            payment_qr=payment_qr_svg(invoice, settings),
        ),
        status=status,
    )
    response.headers.update(PRIVATE_PAGE_HEADERS)
    response.headers["Content-Security-Policy"] = PUBLIC_PAGE_CSP
    return response


@bp.get("/i/<token>")
def invoice_page(token: str):
    invoice = _invoice_for(token)
    # The admin's session cookie is scoped to the whole site, so a signed-in member of staff is known here.
    invoice = record_invoice_viewed(db.session, invoice_id=invoice.id, by_staff=current_user.is_authenticated)
    return _page(invoice, token)


@bp.post("/i/<token>/pay")
def pay_online(token: str):
    """SPEC §14: a Stripe Checkout Session for the balance, and a 303 to it; the page again when nothing can be paid."""
    invoice = _invoice_for(token)
    if not (online_payment_enabled(current_app.config) and invoice.can_pay_online):
        return _page(invoice, token)  # paid, void, credited, no Stripe key, or an amount Stripe cannot charge
    page_url = f"{current_app.config['PUBLIC_BASE_URL']}/i/{token}"
    try:
        url = stripe_checkout.create_checkout_session(current_app.config, invoice, page_url)
    except stripe_checkout.CheckoutUnavailable as exc:
        log.warning("%s", exc)
        return _page(invoice, token, "public/payment_unavailable.html", status=502)
    response = redirect(url, code=303)
    response.headers.update(PRIVATE_PAGE_HEADERS)
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
            **PRIVATE_PAGE_HEADERS,
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
