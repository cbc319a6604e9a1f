"""The request headers a job keeps for its service: the trackers' signature and event
headers, and those the service class names in ``intake_headers``.

The intake secret's own header is never kept. A kept header that carries a secret (the
GitLab token is the intake secret itself) is shown as ``[FILTERED]`` in job views.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from host.auth import TOKEN_HEADER
from services.core.service import Service, is_secret_header

# Lower-case names: what GitHub, GitLab, Jira, Trello and Bitbucket send to say what
# happened, which delivery it is, and how it is signed.
TRACKER_HEADERS = (
    "content-type",
    "user-agent",
    "x-github-event",
    "x-github-delivery",
    "x-github-hook-id",
    "x-hub-signature",
    "x-hub-signature-256",
    "x-gitlab-event",
    "x-gitlab-event-uuid",
    "x-gitlab-instance",
    "x-gitlab-token",
    "x-gitlab-webhook-uuid",
    "x-atlassian-webhook-identifier",
    "x-atlassian-webhook-retry",
    "x-trello-webhook",
    "x-event-key",
    "x-hook-uuid",
    "x-request-uuid",
)
FILTERED = "[FILTERED]"


def kept_headers(service_class: type[Service], environ: Mapping[str, Any]) -> dict[str, str]:
    """The headers of a request (its WSGI environ) that its job keeps, with lower-case
    names, in the order the request's headers come."""
    wanted = _wanted(service_class)
    kept = {}
    for key, value in environ.items():
        name = wanted.get(key)
        if name is not None and (value or key.startswith("HTTP_")):
            kept[name] = value
    return kept


_WANTED: dict[type[Service], dict[str, str]] = {}
# Headers the WSGI environ holds without the HTTP_ prefix (and only when not empty).
_UNPREFIXED = ("content-type", "content-length")


def _wanted(service_class: type[Service]) -> dict[str, str]:
    """Environ key -> lower-case name of the headers a service's jobs keep, worked out
    once per service."""
    keys = _WANTED.get(service_class)
    if keys is None:
        names = set(TRACKER_HEADERS) | {name.lower() for name in service_class.intake_headers}
        names.discard(TOKEN_HEADER.lower())
        keys = _WANTED[service_class] = {_environ_key(name): name for name in names}
    return keys


def _environ_key(name: str) -> str:
    key = name.upper().replace("-", "_")
    return key if name in _UNPREFIXED else f"HTTP_{key}"


def shown_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers as a job view shows them."""
    return {name: FILTERED if is_secret_header(name) else value for name, value in headers.items()}
