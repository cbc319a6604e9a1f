"""``python -m console``: serve the console on 127.0.0.1:CONSOLE_PORT (4568).

Started beside the proxy by the Procfile's ``web`` line. It binds loopback only,
whatever HOST says, runs at a lower priority than the proxy's workers, and stops
when the process ``--parent`` names (the proxy's arbiter) is gone. ``CONSOLE_PORT=0``
switches it off. With ``--parent`` it first waits, holding nothing but a socket, until
the proxy answers on PORT: its own start (Flask, the services) must not slow the proxy's.

``--host``: the host's console, with the host's jobs, on HOST_CONSOLE_PORT (4581),
started the same way beside the intake by the Procfile's ``host`` line.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from contextlib import suppress
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported once the proxy answers (``main``)
    from werkzeug.serving import BaseWSGIServer

    from services.core.jobs import JobSource

PORT_SETTING = "CONSOLE_PORT"
DEFAULT_PORT = 4568
HOST_PORT_SETTING = "HOST_CONSOLE_PORT"
HOST_DEFAULT_PORT = 4581
PARENT_CHECK = 1.0
# Waiting for the proxy beside it: how often to try, how long one answer may take (a
# worker still booting), and how long before the console starts anyway.
PROXY_POLL = 0.1
PROXY_ANSWER_WAIT = 10.0
PROXY_WAIT_LIMIT = 120.0
_WILDCARDS = {"", "0.0.0.0", "::", "[::]"}


def port_setting(setting: str = PORT_SETTING, default: int = DEFAULT_PORT) -> int:
    """The console's port from ``setting``; 0 when it is switched off."""
    text = os.environ.get(setting, "").strip() or str(default)
    if not text.isdigit() or int(text) > 65535:
        raise SystemExit(f"console: {setting} must be a port number (0: off), not {text!r}")
    return int(text)


def parent_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def proxy_answers(port: int, host: str = "127.0.0.1") -> bool:
    """Whether an HTTP server on ``host:port`` answers a ``GET /configuration``."""
    request = f"GET /configuration HTTP/1.0\r\nHost: {host}:{port}\r\n\r\n".encode()
    try:
        with socket.create_connection((host, port), timeout=PROXY_ANSWER_WAIT) as connection:
            connection.sendall(request)
            return connection.recv(5) == b"HTTP/"
    except OSError:
        return False


def wait_for_proxy(parent: int, limit: float = PROXY_WAIT_LIMIT) -> bool:
    """Wait until the proxy on PORT answers; False when ``parent`` ended meanwhile."""
    host = os.environ.get("HOST", "").strip()
    host = "127.0.0.1" if host in _WILDCARDS else host.strip("[]")
    port_text = os.environ.get("PORT", "").strip()
    if not port_text.isdigit():
        return parent_alive(parent)
    deadline = time.monotonic() + limit
    while parent_alive(parent):
        if proxy_answers(int(port_text), host) or time.monotonic() > deadline:
            return True
        time.sleep(PROXY_POLL)
    return False


def _stop_with(server: BaseWSGIServer, parent: int) -> None:
    while parent_alive(parent):
        time.sleep(PARENT_CHECK)
    server.shutdown()


def parent_option(argv: list[str]) -> int | None:
    """``--parent PID``: the process whose end ends the console (the proxy's arbiter)."""
    if len(argv) == 2 and argv[0] == "--parent" and argv[1].isdigit():
        return int(argv[1])
    if argv:
        raise SystemExit("usage: python -m console [--host] [--parent PID]")
    return None


def make_server(host: str, port: int, app: Any, threaded: bool) -> BaseWSGIServer:
    """werkzeug's server, imported only once the console starts."""
    from werkzeug import serving

    return serving.make_server(host, port, app, threaded=threaded)


def host_jobs() -> JobSource:
    """The host's jobs; when they cannot be opened, a source whose pages say why (the
    console keeps serving its other pages)."""
    from console.jobs_views import UnavailableJobs
    from services.core.jobs import JobsUnavailable, load_job_source

    try:
        return load_job_source()
    except JobsUnavailable as error:
        print(f"console: the host's jobs are unavailable: {error}", file=sys.stderr, flush=True)
        return UnavailableJobs(str(error))


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    host = "--host" in args
    if host:
        args.remove("--host")
    parent = parent_option(args)
    port = port_setting(HOST_PORT_SETTING, HOST_DEFAULT_PORT) if host else port_setting()
    if not port:
        return
    os.nice(10)
    if parent is not None and not wait_for_proxy(parent):
        return
    from console.app import create_app

    app = create_app(jobs=host_jobs() if host else None)
    # A port in use ends this process with werkzeug's message; the proxy keeps running.
    server = make_server("127.0.0.1", port, app, threaded=True)
    server.daemon_threads = True  # type: ignore[attr-defined]
    name = "the host's console" if host else "console"
    print(f"{name}: http://127.0.0.1:{port}/", file=sys.stderr, flush=True)
    if parent is not None:
        threading.Thread(target=_stop_with, args=(server, parent), daemon=True).start()
    with suppress(KeyboardInterrupt):  # Ctrl-C reaches the whole group: end quietly
        server.serve_forever()


if __name__ == "__main__":
    main()
