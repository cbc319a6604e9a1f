"""``POST /send_event`` answered without Flask's request machinery.

Aha! sends every event here, and an event a service ignores costs far less than
Flask's own work per request (a request context, routing, a request and a response
object). So a well-formed ``/send_event`` request is read, run and answered here,
with the bytes Flask would send. Anything else (another path or method, a body
without a usable ``Content-Length`` or over the limit, a request the proxy refuses)
goes on to Flask, which answers it as always: its JSON errors stay the only ones.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from proxy.event_request import RequestError, answer_event
from services.core.registry import Registry
from services.core.wsgi_fast_path import Answer, JsonFastPath, WsgiApp

_log = logging.getLogger("services.proxy")

# What Flask's JSON answers are, outside debug mode: compact, keys in the service's order.
_encoder = json.JSONEncoder(separators=(",", ":"))


class SendEventFastPath(JsonFastPath):
    """WSGI middleware in front of the Flask app (``app.wsgi_app``)."""

    def __init__(self, app: WsgiApp, registry: Registry, max_body: int):
        super().__init__(app, max_body)
        self.registry = registry

    def takes(self, environ: dict[str, Any]) -> bool:
        return environ.get("PATH_INFO") == "/send_event" and environ.get("REQUEST_METHOD") == "POST"

    def answer(self, environ: dict[str, Any], body: bytes) -> Answer | None:
        try:
            return "200 OK", _json(answer_event(self.registry, body))
        except RequestError:
            return None
        except Exception as error:  # as Flask's handler of unexpected errors answers
            _log.exception("Unexpected error in the proxy")
            return "500 INTERNAL SERVER ERROR", _json(
                {"error": f"Internal error: {type(error).__name__}"}
            )


def _json(value: Any) -> bytes:
    return (_encoder.encode(value) + "\n").encode()
