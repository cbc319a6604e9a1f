"""What gunicorn serves: the fast path, with the Flask app built when a request first
needs it.

The fast path (proxy/fast_path.py) answers the well-formed requests of the three
endpoints Aha! calls; Flask answers everything else and every refusal. So a worker
that only ever sees well-formed requests never imports Flask: it is ready in about
half the time and holds some 6 MB less. The first request Flask must answer waits
for its import, once per worker.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from proxy import settings
from proxy.fast_path import ProxyFastPath
from proxy.load_failure import could_not_load
from services.core.logger import configure_logging
from services.core.registry import Registry, default_registry
from services.core.wsgi_fast_path import WsgiApp

_log = logging.getLogger("services.proxy")


class BuiltOnFirstUse:
    """A WSGI app made by ``build`` when the first request reaches it. While it cannot be
    built (a save left ``proxy/app.py`` broken), each request that needs it is answered
    with the error, as JSON, as a worker whose code does not load answers; the next
    request tries again."""

    def __init__(self, build: Callable[[], WsgiApp]):
        self._build = build
        self._app: WsgiApp | None = None
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        app = self._app
        if app is None:
            with self._lock:
                if self._app is None:
                    try:
                        self._app = self._build()
                    except Exception as error:
                        _log.exception("The proxy could not load")
                        return could_not_load(error)(environ, start_response)
                app = self._app
        return app(environ, start_response)


def debug_requested() -> bool:
    """``FLASK_DEBUG`` as Flask reads it: debug answers come from Flask alone."""
    value = os.environ.get("FLASK_DEBUG", "")
    return bool(value) and value.lower() not in ("0", "false", "no")


def serving_app(registry: Registry | None = None) -> WsgiApp:
    """The proxy as a WSGI app, for every service this process can load by default."""
    if debug_requested():
        from proxy.app import create_app

        return create_app(registry)
    configure_logging()
    registry = default_registry() if registry is None else registry
    registry.log_failures(_log)  # once, as the worker starts

    def build_flask() -> WsgiApp:
        from proxy.app import flask_app

        return flask_app(registry)

    return ProxyFastPath(BuiltOnFirstUse(build_flask), registry, settings.max_body())
