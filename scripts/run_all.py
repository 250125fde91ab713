"""``make run``: the admin UI and the API on one port, and the worker beside them.

Admin at http://127.0.0.1:5000/admin, API at http://127.0.0.1:5000/api/v1.
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


def main() -> int:
    from werkzeug.serving import make_server

    import api_service
    import main_service

    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "5000"))
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
    base = f"http://{host}:{port}"
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
