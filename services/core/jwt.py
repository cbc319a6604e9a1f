"""JSON Web Tokens signed with HS256, and Atlassian Connect's query string hash.

Written with ``hmac`` and ``hashlib`` alone: a Connect app signs each request with
the shared secret its host gave it, and nothing more is needed for that.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, quote


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def encode_hs256(claims: Mapping[str, Any], secret: str) -> str:
    """A compact JWT of ``claims``, signed with HMAC-SHA256."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = _b64(json.dumps(dict(claims), separators=(",", ":")).encode())
    signing_input = f"{header}.{body}".encode("ascii")
    signature = hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()
    return f"{header}.{body}.{_b64(signature)}"


def _encode(text: str) -> str:
    return quote(text, safe="~")


def canonical_query(query: str) -> str:
    """The query sorted by name, names and values percent-encoded, repeated values
    joined by commas; the ``jwt`` parameter itself left out."""
    grouped: dict[str, list[str]] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name != "jwt":
            grouped.setdefault(_encode(name), []).append(_encode(value))
    return "&".join(
        f"{name}={','.join(sorted(values))}" for name, values in sorted(grouped.items())
    )


def canonical_path(path: str) -> str:
    """The path with ``&`` encoded, no trailing slash, and ``/`` when empty."""
    path = path.replace("&", "%26")
    if len(path) > 1:
        path = path.rstrip("/")
    return path or "/"


def query_string_hash(method: str, path: str, query: str) -> str:
    """Atlassian's ``qsh`` claim: SHA-256 hex of ``METHOD&path&canonical query``."""
    canonical = f"{method.upper()}&{canonical_path(path)}&{canonical_query(query)}"
    return hashlib.sha256(canonical.encode()).hexdigest()
