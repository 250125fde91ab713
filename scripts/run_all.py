"""``make run``: the admin UI and the API on one port, and the worker beside them.

Admin at http://127.0.0.1:5000/admin, API at http://127.0.0.1:5000/api/v1.
``PORT`` (default 5000) and ``HOST`` (default 127.0.0.1, this machine only;
0.0.0.0 for every interface) change where it listens; when
``PUBLIC_BASE_URL`` is not set, links in e-mails and SMS follow them.
Ctrl-C (SIGINT) or SIGTERM stops the web server and the worker, and this
process exits only when both are gone. For development only; production runs
each service under gunicorn (see README).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def dispatcher(admin_app, api_app):
    """Send /api/... to the API app and everything else to the admin app."""

    def application(environ, start_response):
        path = environ.get("PATH_INFO", "")
        target = api_app if path == "/api" or path.startswith("/api/") else admin_app
        return target(environ, start_response)

    return application


class SettingError(Exception):
    """PORT or HOST is malformed; the message names it."""


def listen_address(environ) -> tuple[str, int]:
    """HOST and PORT from the environment, checked."""
    host = (environ.get("HOST") or "").strip() or "127.0.0.1"
    raw_port = (environ.get("PORT") or "").strip() or "5000"
    if not (raw_port.isascii() and raw_port.isdigit() and 1 <= int(raw_port) <= 65535):
        raise SettingError(f"PORT must be a whole number from 1 to 65535 (got {raw_port!r})")
    if any(c.isspace() or c in "/?#@" for c in host):
        raise SettingError(f"HOST must be an address or host name such as 127.0.0.1 or 0.0.0.0 (got {host!r})")
    return host, int(raw_port)


def public_base_url(host: str, port: int) -> str:
    """Where a browser on this machine reaches the server: the default base of links in e-mails and SMS."""
    if host in ("0.0.0.0", "::", "*"):
        host = "127.0.0.1"
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    return f"http://{host}:{port}"


def prepare_environment(environ) -> tuple[str, int]:
    """Check HOST and PORT; point PUBLIC_BASE_URL at them unless it is set (both apps and the worker read it)."""
    host, port = listen_address(environ)
    if not (environ.get("PUBLIC_BASE_URL") or "").strip():
        environ["PUBLIC_BASE_URL"] = public_base_url(host, port)
    return host, port


def main() -> int:
    try:
        host, port = prepare_environment(os.environ)
    except SettingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    from werkzeug.serving import make_server

    import api_service
    import main_service

    app = dispatcher(main_service.create_app(), api_service.create_app())
    try:
        server = make_server(host, port, app, threaded=True)
    except OSError as exc:
        print(f"error: cannot listen on {host}:{port} ({exc.strerror}); set PORT to use another port", file=sys.stderr)
        return 1

    worker = subprocess.Popen([sys.executable, "-m", "background_service"], cwd=ROOT)
    stopping = threading.Event()

    def stop(signum, _frame):
        if not stopping.is_set():
            stopping.set()
            print("\nStopping…", flush=True)
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    base = public_base_url(host, port)
    print(f"Admin:  {base}/admin\nAPI:    {base}/api/v1\nWorker: pid {worker.pid}\nPress Ctrl-C to stop.", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
    print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
