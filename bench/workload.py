"""The requests the benchmarks send: a small event no service handles, as the outside
check posts it, so that the fixed cost per event shows."""

from __future__ import annotations

import json

IGNORED_EVENT: dict[str, object] = {
    "service_name": "webhooks",
    "event": "no_such_event",
    "user_data": {},
    "payload": {},
    "meta_data": {},
}

IGNORED_EVENT_BODY = json.dumps(IGNORED_EVENT).encode()

# What each server answers to IGNORED_EVENT: proof that the benchmark measures that path.
PROXY_ANSWER: dict[str, object] = {
    "messages": [{"severity": 1, "message": "Integration webhook ignoring event :no_such_event"}],
    "meta_data": {},
}
BARE_ANSWER: dict[str, object] = {"messages": [], "meta_data": {}}


def post_request(path: str, body: bytes, port: int) -> bytes:
    """A whole keep-alive HTTP/1.1 POST, built once so that clients only send bytes."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def get_request(path: str, port: int) -> bytes:
    """A whole keep-alive HTTP/1.1 GET."""
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
