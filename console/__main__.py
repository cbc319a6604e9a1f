"""``python -m console``: serve the console on 127.0.0.1:CONSOLE_PORT (4568).

Started beside the proxy by the Procfile's ``web`` line. It binds loopback only,
whatever HOST says, runs at a lower priority than the proxy's workers, and stops
when the process ``--parent`` names (the proxy's arbiter) is gone. ``CONSOLE_PORT=0``
switches it off.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from contextlib import suppress

from werkzeug.serving import BaseWSGIServer, make_server

from console.app import create_app

PORT_SETTING = "CONSOLE_PORT"
DEFAULT_PORT = 4568
PARENT_CHECK = 1.0


def port_setting() -> int:
    """The console's port from ``CONSOLE_PORT``; 0 when it is switched off."""
    text = os.environ.get(PORT_SETTING, "").strip() or str(DEFAULT_PORT)
    if not text.isdigit() or int(text) > 65535:
        raise SystemExit(f"console: {PORT_SETTING} must be a port number (0: off), not {text!r}")
    return int(text)


def parent_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stop_with(server: BaseWSGIServer, parent: int) -> None:
    while parent_alive(parent):
        time.sleep(PARENT_CHECK)
    server.shutdown()


def parent_option(argv: list[str]) -> int | None:
    """``--parent PID``: the process whose end ends the console (the proxy's arbiter)."""
    if len(argv) == 2 and argv[0] == "--parent" and argv[1].isdigit():
        return int(argv[1])
    if argv:
        raise SystemExit("usage: python -m console [--parent PID]")
    return None


def main(argv: list[str] | None = None) -> None:
    parent = parent_option(sys.argv[1:] if argv is None else argv)
    port = port_setting()
    if not port:
        return
    os.nice(10)
    # A port in use ends this process with werkzeug's message; the proxy keeps running.
    server = make_server("127.0.0.1", port, create_app(), threaded=True)
    server.daemon_threads = True  # type: ignore[attr-defined]
    print(f"console: http://127.0.0.1:{port}/", file=sys.stderr, flush=True)
    if parent is not None:
        threading.Thread(target=_stop_with, args=(server, parent), daemon=True).start()
    with suppress(KeyboardInterrupt):  # Ctrl-C reaches the whole group: end quietly
        server.serve_forever()


if __name__ == "__main__":
    main()
