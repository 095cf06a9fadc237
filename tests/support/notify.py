"""A local webhook that records what Apprise's `json://` posts, and a stand-in for a dashboard
process that looks at the catalog the way the Sync page does (status, then the stale check)."""

from __future__ import annotations

import json
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Webhook:
    """POSTs to http://127.0.0.1:<port>/<path>, kept as decoded JSON bodies in arrival order."""

    def __init__(self):
        self.received: list[dict] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                hook.received.append(json.loads(body or b"{}"))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> Webhook:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def titles(self) -> list[str]:
        return [m.get("title", "") for m in self.received]


def poll_like_a_dashboard() -> None:
    """`python -m tests.support.notify`: what each Sync page rerun does, until SIGTERM."""
    from synccore import CatalogSync, load_settings, notify

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    sync = CatalogSync(load_settings())
    while not stop.is_set():
        sync.current_status()
        notify.notify_if_stale(sync)
        time.sleep(0.2)
    sync.close()


if __name__ == "__main__":
    poll_like_a_dashboard()
