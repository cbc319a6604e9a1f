"""The request headers a job keeps for its service: the trackers' signature and event
headers, and those the service class names in ``intake_headers``.

The intake secret's own header is never kept. A kept header that carries a secret (the
GitLab token is the intake secret itself) is shown as ``[FILTERED]`` in job views.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

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


def kept_headers(
    service_class: type[Service], headers: Iterable[tuple[str, str]]
) -> dict[str, str]:
    """The headers of a request that its job keeps, with lower-case names."""
    wanted = _wanted(service_class)
    kept = {}
    for name, value in headers:
        lower = name.lower()
        if lower in wanted:
            kept[lower] = value
    return kept


_WANTED: dict[type[Service], frozenset[str]] = {}


def _wanted(service_class: type[Service]) -> frozenset[str]:
    """The header names a service's jobs keep, worked out once per service."""
    names = _WANTED.get(service_class)
    if names is None:
        wanted = set(TRACKER_HEADERS) | {name.lower() for name in service_class.intake_headers}
        wanted.discard(TOKEN_HEADER.lower())
        names = _WANTED[service_class] = frozenset(wanted)
    return names


def shown_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers as a job view shows them."""
    return {name: FILTERED if is_secret_header(name) else value for name, value in headers.items()}
