"""A fake third party (and Aha! API) on loopback, for the mixed events of the memory run.

Every request gets ``200`` with JSON: an empty list to a GET (so that a service paging
through results stops at once), an object with the fields trackers read back (``id``,
``number``, ``key``, ``url``) to anything else. Services fail on some of these answers;
that is fine here, where only what a worker holds after running them counts.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_LIST = b"[]"
_OBJECT = json.dumps(
    {
        "id": 4242,
        "number": 42,
        "iid": 42,
        "key": "BENCH-42",
        "name": "bench",
        "url": "http://127.0.0.1/bench/42",
        "html_url": "http://127.0.0.1/bench/42",
        "web_url": "http://127.0.0.1/bench/42",
        "self": "http://127.0.0.1/bench/42",
    }
).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        body = _LIST if self.command == "GET" else _OBJECT
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: thousands of requests."""


@contextmanager
def fake_third_party() -> Iterator[int]:
    """Serve the fake on a free loopback port; yield the port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
