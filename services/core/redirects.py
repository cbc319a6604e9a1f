"""Redirects as the HTTP client follows them: a write stays a write, credentials stay home.

requests would turn a POST answered 301 or 302 into a GET without its body, and a
receiver that moved would see an empty GET while the event reported success. The
client sends with ``allow_redirects=False`` and follows each hop here: reads follow
any redirect (a 303 becomes a GET); a write (any other method) is sent again with
the same method and body on 301, 302, 307 and 308, and a 303 is refused. At most
``MAX_HOPS`` hops. Credential headers, ``auth`` and a body marked as carrying
credentials never follow a hop to another origin.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from services.core.errors import RemoteError

if TYPE_CHECKING:
    import requests

MAX_HOPS = 5
READS = frozenset({"GET", "HEAD", "OPTIONS"})
BODY_OPTIONS = ("data", "json", "files")
# Header names that carry credentials besides Authorization (GitLab's PRIVATE-TOKEN,
# Redmine's X-Redmine-API-Key, a Cookie, Rally's ZSESSIONID, ...).
_CREDENTIAL_HEADER = re.compile(r"(?i)auth|token|key|secret|password|signature|cookie|session")
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Hop:
    """Where one redirect leads: the method and URL to send next, and how it moved."""

    method: str
    url: str
    same_origin: bool
    moved: str


def next_hop(method: str, response: requests.Response, hops_done: int) -> Hop:
    """The next request of a redirect, or the RemoteError that refuses it.

    ``moved`` reads ``POST https://a/x moved (301) to https://a/y``; the caller
    redacts it before it goes into a log line or an error. What follows a URL in a
    message starts with a comma, so that redacting a secret query keeps the words.
    """
    from requests.utils import requote_uri  # imported with the first redirect

    status = response.status_code
    url = response.url
    target = requote_uri(urljoin(url, response.headers["Location"]))
    moved = f"{method} {url} moved ({status}) to {target}"
    if hops_done >= MAX_HOPS:
        raise RemoteError(f"{moved}, which was not followed: more than {MAX_HOPS} redirects")
    if method not in READS and status == 303:
        raise RemoteError(
            f"{moved}, which was not followed: a 303 would turn the {method} into a GET "
            "without its body; use the new address"
        )
    next_method = "GET" if status == 303 and method != "HEAD" else method
    return Hop(next_method, target, same_origin(url, target), moved)


def same_origin(old: str, new: str) -> bool:
    """Same scheme, host and port; an upgrade from http to https on the default ports
    counts as the same, as requests has it."""
    before, after = urlsplit(old), urlsplit(new)
    if before.hostname != after.hostname:
        return False
    old_port = before.port or _DEFAULT_PORTS.get(before.scheme)
    new_port = after.port or _DEFAULT_PORTS.get(after.scheme)
    if before.scheme == after.scheme:
        return old_port == new_port
    return (before.scheme, old_port, after.scheme, new_port) == ("http", 80, "https", 443)


def is_credential_header(name: str) -> bool:
    return bool(_CREDENTIAL_HEADER.search(name))


def has_body(options: Mapping[str, Any]) -> bool:
    return any(options.get(name) is not None for name in BODY_OPTIONS)


def options_for_hop(
    options: Mapping[str, Any], hop: Hop, session_headers: Mapping[str, Any]
) -> dict[str, Any]:
    """The request options for the next hop.

    The query is in the new URL already; a method turned into a GET drops its body;
    another origin gets no credential header, no ``auth``, and none of the session's
    credential headers (a None header removes the session's in requests).
    """
    result = {key: value for key, value in options.items() if key != "params"}
    if hop.method in READS:
        for name in BODY_OPTIONS:
            result.pop(name, None)
    if hop.same_origin:
        return result
    result.pop("auth", None)
    headers = {
        name: value
        for name, value in (result.get("headers") or {}).items()
        if not is_credential_header(name)
    }
    headers.update({name: None for name in session_headers if is_credential_header(name)})
    result["headers"] = headers
    return result
