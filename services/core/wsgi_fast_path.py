"""A WSGI app's busiest request, answered without its framework's machinery.

A Flask request costs a request context, routing, and request and response objects,
often more than the work it asks for. A fast path sits in front of the app: it reads
the body of a request it may take (one with a usable ``Content-Length`` within the
limit, received whole), and answers it with the bytes the app would send, or hands
it on, body included, to the app, whose answers (refusals above all) stay the only
ones. The proxy's ``/send_event`` and the host's intake each have one.
"""

from __future__ import annotations

import io
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from typing import Any

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
# A status line ("202 ACCEPTED", as werkzeug writes it) and a JSON body.
Answer = tuple[str, bytes]


class JsonFastPath(ABC):
    """WSGI middleware in front of an app (``flask_app.wsgi_app``). A subclass says which
    requests it ``takes`` (from the environ, before the body is read) and ``answer``s
    them, or returns None to leave one to the app."""

    def __init__(self, app: WsgiApp, max_body: int):
        self.app = app
        self.max_body = max_body

    @abstractmethod
    def takes(self, environ: dict[str, Any]) -> bool:
        """Whether the request may be one to answer here; cheap, and the body unread."""

    @abstractmethod
    def answer(self, environ: dict[str, Any], body: bytes) -> Answer | None:
        """The answer the app would give, or None for a request the app answers itself."""

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if not self.takes(environ):
            return self.app(environ, start_response)
        length = environ.get("CONTENT_LENGTH") or ""
        head = environ.get("REQUEST_METHOD") == "HEAD"
        if not length and (head or environ.get("REQUEST_METHOD") == "GET"):
            length = "0"  # a GET or HEAD without a body
        if not (length.isascii() and length.isdigit()) or int(length) > self.max_body:
            return self.app(environ, start_response)
        body = environ["wsgi.input"].read(int(length)) if length != "0" else b""
        answer = self.answer(environ, body) if len(body) == int(length) else None
        if answer is None:  # the app reads the body again, and answers in its own words
            environ["wsgi.input"] = io.BytesIO(body)
            return self.app(environ, start_response)
        status, data = answer
        start_response(
            status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
        )
        return [] if head else [data]  # HEAD: the headers its GET would have, no body
