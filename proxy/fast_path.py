"""The three endpoints Aha! calls, answered without Flask's request machinery.

Aha! sends every event to ``/send_event``, and an event a service ignores costs far
less than Flask's own work per request (a request context, routing, a request and a
response object). So a well-formed ``GET /configuration`` (or ``HEAD``, a health
check's), ``POST /send_event`` or ``POST /remote_collection`` is read, run and answered
here, with the bytes Flask would send. Anything else (another path or method, a body
without a usable ``Content-Length`` or over the limit, a request the proxy refuses)
goes on to Flask, which answers it as always: its JSON errors stay the only ones.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from proxy.event_request import RequestError, answer_collection, answer_event
from services.core.registry import Registry
from services.core.wsgi_fast_path import Answer, JsonFastPath, WsgiApp

_log = logging.getLogger("services.proxy")

# What Flask's JSON answers are, outside debug mode: compact, keys in the service's order.
_encoder = json.JSONEncoder(separators=(",", ":"))
_ROUTES = {
    ("GET", "/configuration"),
    ("HEAD", "/configuration"),
    ("POST", "/send_event"),
    ("POST", "/remote_collection"),
}
_STATUS_LINES = {200: "200 OK", 500: "500 INTERNAL SERVER ERROR"}


class ProxyFastPath(JsonFastPath):
    """WSGI middleware in front of the Flask app (``app.wsgi_app``)."""

    def __init__(self, app: WsgiApp, registry: Registry, max_body: int):
        super().__init__(app, max_body)
        self.registry = registry
        self._configuration: bytes | None = None

    def takes(self, environ: dict[str, Any]) -> bool:
        return (environ.get("REQUEST_METHOD"), environ.get("PATH_INFO")) in _ROUTES

    def answer(self, environ: dict[str, Any], body: bytes) -> Answer | None:
        path = environ.get("PATH_INFO")
        try:
            if path == "/configuration":
                return "200 OK", self.configuration()
            if path == "/send_event":
                return "200 OK", _json(answer_event(self.registry, body))
            answer, status = answer_collection(self.registry, body)
            return _STATUS_LINES[status], _json(answer)
        except RequestError:
            return None
        except Exception as error:  # as Flask's handler of unexpected errors answers
            _log.exception("Unexpected error in the proxy")
            return _STATUS_LINES[500], _json({"error": f"Internal error: {type(error).__name__}"})

    def configuration(self) -> bytes:
        """The ``/configuration`` document, as the Flask view writes it, built once."""
        if self._configuration is None:
            self._configuration = json.dumps(self.registry.configuration()).encode()
        return self._configuration


def _json(value: Any) -> bytes:
    return (_encoder.encode(value) + "\n").encode()
