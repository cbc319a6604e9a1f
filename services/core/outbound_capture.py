"""The outbound requests of the event being recorded, for the console's event page.

The HTTP client reports each answered request here; only while ``capturing()`` is
active (the event log is on and records this event) is anything kept, so the
client pays one context-variable read per request otherwise. Credential headers are
filtered as they are captured; the event log redacts the rest before storing it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from services.core.redaction import FILTERED
from services.core.redirects import is_credential_header

if TYPE_CHECKING:
    import requests

BODY_LIMIT = 64 * 1024

_sink: ContextVar[list[dict[str, Any]] | None] = ContextVar("outbound_capture", default=None)


@contextmanager
def capturing() -> Iterator[list[dict[str, Any]]]:
    """Collect the requests sent in this context (this thread's event) into a list."""
    sink: list[dict[str, Any]] = []
    token = _sink.set(sink)
    try:
        yield sink
    finally:
        _sink.reset(token)


def capture(response: requests.Response, elapsed: float, streamed: bool = False) -> None:
    """Keep one request and its answer, when an event is being recorded."""
    sink = _sink.get()
    if sink is None:
        return
    request = response.request
    sink.append(
        {
            "method": request.method,
            "url": request.url,
            "status": response.status_code,
            "seconds": round(elapsed, 4),
            "request_headers": _headers(request.headers),
            "request_body": _body(request.body),
            "response_headers": _headers(response.headers),
            "response_body": "<streamed>" if streamed else _body(response.content),
        }
    )


def _headers(headers: Mapping[str, Any]) -> dict[str, str]:
    return {
        name: FILTERED if is_credential_header(name) else str(value)
        for name, value in headers.items()
    }


def _body(body: Any) -> str:
    """A body as text, cut at 64 KB; binary bodies as their size."""
    if body is None:
        return ""
    if isinstance(body, str):
        data = body.encode("utf-8", "replace")
    elif isinstance(body, bytes | bytearray):
        data = bytes(body)
    else:  # a file or a generator: sent as a stream, not read here
        return "<stream>"
    cut = data[:BODY_LIMIT]
    try:
        text = cut.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(cut) - 3:
            return f"<binary: {len(data)} bytes>"
        text = cut[: error.start].decode("utf-8")
    if len(data) > BODY_LIMIT:
        text += f"... (cut at 64 KB of {len(data)} bytes)"
    return text
