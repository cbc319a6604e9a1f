"""The requests the benchmarks send: an event the service ignores, as Aha! would post it."""

from __future__ import annotations

import json

IGNORED_EVENT: dict[str, object] = {
    "service_name": "webhooks",
    "event": "ignored_event",
    "user_data": {
        "aha_account_domain": "bigcorp",
        "aha_api_token": "3f1c9a7e5b2d4c6a8e0f1b3d5c7a9e2f4b6d8c0a1e3f5b7d9c2a4e6f8b0d1c3e",
        "integration_id": "6789012345678901234",
        "hook_url": "https://hooks.example.com/aha/features?team=platform",
        "validate_cert": "1",
    },
    "payload": {
        "event": "ignored_event",
        "audit": {"id": "1000000000000000001", "audit_action": "update", "user": None},
        "feature": {
            "id": "6789012345678901111",
            "reference_num": "PLAT-123",
            "name": "Single sign-on for contractors",
            "description": {"body": "<p>Contractors sign in with their agency's IdP.</p>"},
            "workflow_status": {"id": "6789012345678902222", "name": "In development"},
            "tags": ["security", "identity"],
            "integration_fields": [
                {"integration_id": "6789012345678901234", "name": "id", "value": "42"}
            ],
            "url": "https://bigcorp.aha.io/features/PLAT-123",
        },
    },
    "meta_data": {},
}

IGNORED_EVENT_BODY = json.dumps(IGNORED_EVENT).encode()


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


# What the proxy answers for IGNORED_EVENT: proof that the benchmark measures that path.
IGNORED_ANSWER: dict[str, object] = {
    "messages": [{"severity": 1, "message": "Integration webhook ignoring event :ignored_event"}],
    "meta_data": {},
}
