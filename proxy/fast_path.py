"""``POST /send_event`` answered without Flask's request machinery.

Aha! sends every event here, and an event a service ignores costs far less than
Flask's own work per request (a request context, routing, a request and a response
object). So a well-formed ``/send_event`` request is read, run and answered here,
with the bytes Flask would send. Anything else (another path or method, a body
without a usable ``Content-Length`` or over the limit, a request the proxy refuses)
goes on to Flask, which answers it as always: its JSON errors stay the only ones.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from proxy.event_request import RequestError, answer_event
from services.core.registry import Registry

_log = logging.getLogger("services.proxy")

# What Flask's JSON answers are, outside debug mode: compact, keys in the service's order.
_encoder = json.JSONEncoder(separators=(",", ":"))

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class SendEventFastPath:
    """WSGI middleware in front of the Flask app (``app.wsgi_app``)."""

    def __init__(self, app: WsgiApp, registry: Registry, max_body: int):
        self.app = app
        self.registry = registry
        self.max_body = max_body

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO") != "/send_event" or environ.get("REQUEST_METHOD") != "POST":
            return self.app(environ, start_response)
        length = environ.get("CONTENT_LENGTH") or ""
        if not (length.isascii() and length.isdigit()) or int(length) > self.max_body:
            return self.app(environ, start_response)
        data = environ["wsgi.input"].read(int(length))
        try:
            status, body = "200 OK", _json(answer_event(self.registry, data))
        except RequestError:
            return self._to_flask(environ, start_response, data)
        except Exception as error:  # as Flask's handler of unexpected errors answers
            _log.exception("Unexpected error in the proxy")
            status = "500 INTERNAL SERVER ERROR"
            body = _json({"error": f"Internal error: {type(error).__name__}"})
        start_response(
            status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        )
        return [body]

    def _to_flask(
        self, environ: dict[str, Any], start_response: Callable[..., Any], data: bytes
    ) -> Any:
        """Flask reads the body again, and answers the refusal in its words."""
        environ["wsgi.input"] = io.BytesIO(data)
        return self.app(environ, start_response)


def _json(value: Any) -> bytes:
    return (_encoder.encode(value) + "\n").encode()
