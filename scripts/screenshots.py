"""Take the README's screenshots: seed a demo database, drive Chromium, save PNGs in docs/.

    .venv/bin/python scripts/screenshots.py [--out docs]

Needs Debian's chromium and poppler-utils (pdftoppm) and the playwright package.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
EMAIL, PASSWORD = "screens@example.com", "screenshots-password"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp())
    os.environ.update(DATABASE_URL=f"sqlite:///{tmp / 'screens.db'}", SECRET_KEY="s" * 40, APP_ENV="development")

    from flask_migrate import upgrade
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    import main_service
    from main_service.demo import seed_demo
    from shared.db import db
    from shared.services import Actor, create_user

    app = main_service.create_app()
    with app.app_context():
        upgrade()
        seed_demo(db.session, echo=lambda _: None)
        create_user(db.session, actor=Actor.system(), email=EMAIL, name="Ada Admin", role="admin", password=PASSWORD)
        from sqlalchemy import select

        from shared.models import Invoice

        issued = db.session.scalars(select(Invoice).where(Invoice.status == "partially_paid").limit(1)).one()
        draft = db.session.scalars(select(Invoice).where(Invoice.status == "draft").limit(1)).one()
        issued_id, draft_id = issued.id, draft.id
        from shared import documents

        (tmp / "invoice.pdf").write_bytes(documents.render_invoice_pdf(db.session, issued))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1360, "height": 900})
        page.goto(f"{base}/admin/login")
        page.fill("#email", EMAIL)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/admin/")
        # docs/dashboard.png comes from tests/browser/test_dashboard_charts.py (a year of bulk data):
        # UPDATE_SCREENSHOTS=1 .venv/bin/python -m pytest tests/browser/test_dashboard_charts.py -k sqlite
        for name, path in [
            ("invoice-page", f"/admin/invoices/{issued_id}"),
            ("review-page", f"/admin/invoices/{draft_id}/review"),
            ("invoice-list", "/admin/invoices"),
        ]:
            page.goto(base + path)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(out / f"{name}.png"), full_page=True)
            print(f"saved {out / f'{name}.png'}")
        browser.close()
    server.shutdown()
    subprocess.run(
        ["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", str(tmp / "invoice.pdf"), str(out / "invoice-pdf")],
        check=True,
    )
    produced = out / "invoice-pdf-1.png"
    if produced.exists():
        produced.replace(out / "invoice-pdf.png")
    print(f"saved {out / 'invoice-pdf.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
