"""Take the SPEC §14 screenshots: the client's page with and without Stripe, and a EUR invoice PDF with its QR.

    .venv/bin/python scripts/screenshots_online_payments.py [--out docs/screenshots]

Needs Debian's chromium and poppler-utils (pdftoppm) and the playwright package.
No request reaches Stripe: the pages are only looked at, the Pay button is not pressed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
STRIPE = {"STRIPE_SECRET_KEY": "sk_test_screenshots", "STRIPE_WEBHOOK_SECRET": "whsec_screenshots"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp())
    os.environ.update(DATABASE_URL=f"sqlite:///{tmp / 'screens.db'}", SECRET_KEY="s" * 40, APP_ENV="development")

    from flask_migrate import upgrade
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    import main_service
    from shared import documents
    from shared.db import db
    from shared.inputs import ClientInput, InvoiceDraft, PaymentInput, SettingsChanges
    from shared.services import Actor, Notify, create_client, create_draft, issue_invoice, record_payment
    from shared.services.settings import update_settings

    plain = main_service.create_app()
    who = Actor.system("screenshots", is_admin=True)
    with plain.app_context():
        upgrade()
        update_settings(
            db.session,
            actor=who,
            data=SettingsChanges(
                company_name="Lagoon Digital GmbH",
                company_address="Torstraße 12\n10119 Berlin",
                company_email="billing@lagoon.example",
                default_currency="EUR",
                country="DE",
                account_holder="Lagoon Digital GmbH",
                iban="DE89 3704 0044 0532 0130 00",
                bic="COBADEFFXXX",
            ),
        )
        client = create_client(
            db.session,
            actor=who,
            data=ClientInput(name="Ada Obi", email="ada@example.com", billing_address="12 Marina Road\nLagos"),
        )
        draft = create_draft(
            db.session,
            actor=who,
            data=InvoiceDraft.from_mapping(
                {
                    "client_id": client.id,
                    "currency": "EUR",
                    "issue_date": dt.date.today().isoformat(),
                    "items": [
                        {"description": "Website redesign", "quantity": "1", "unit_price": "2400.00", "tax_rate": "19"},
                        {
                            "description": "Hosting, 12 months",
                            "quantity": "12",
                            "unit_price": "18.50",
                            "tax_rate": "19",
                        },
                    ],
                }
            ),
        )
        invoice, _ = issue_invoice(db.session, actor=who, invoice_id=draft.id, notify=Notify())
        record_payment(db.session, actor=who, invoice_id=invoice.id, data=PaymentInput(amount="1000.00"))
        invoice = db.session.get(type(invoice), invoice.id)
        token = invoice.public_token
        (tmp / "invoice.pdf").write_bytes(documents.render_invoice_pdf(db.session, invoice))
        db.session.remove()
    stripe = main_service.create_app({**STRIPE})

    servers = {}
    for name, app in (("plain", plain), ("stripe", stripe)):
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers[name] = f"http://127.0.0.1:{server.server_port}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for name, width in (("stripe", 1366), ("plain", 1366), ("stripe", 390)):
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto(f"{servers[name]}/i/{token}")
            suffix = "pay-online" if name == "stripe" else "no-stripe"
            page.screenshot(path=str(out / f"public-invoice-{suffix}-{width}.png"), full_page=True)
            page.close()
        browser.close()
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "80",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(tmp / "invoice.pdf"),
            str(out / "invoice-pdf-payment-qr"),
        ],
        check=True,
    )
    print(f"screenshots in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
