"""How Rally says a call failed: ``Errors`` inside a 200 answer's result object."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from services.core import ConfigurationError

if TYPE_CHECKING:
    import requests

RESULT_KEYS = ("OperationResult", "CreateResult", "QueryResult")
# What Rally answers, with a 200, for an object that was deleted or never there.
GONE_PHRASES = ("cannot find object", "could not read: ")
INVALID_KEY = "invalid key"


class InvalidKey(ConfigurationError):
    """Rally refused the security token of a write: it expired, or the session changed."""


def result_errors(body: Any) -> list[str]:
    """The ``Errors`` of a WSAPI answer (or of a webhook API answer), as text."""
    if not isinstance(body, Mapping):
        return []
    results: list[Mapping[str, Any]] = [
        body[key] for key in RESULT_KEYS if isinstance(body.get(key), Mapping)
    ]
    errors = [error for result in results for error in result.get("Errors") or []]
    if not results:
        errors = list(body.get("Errors") or [])
    return [str(error) for error in errors]


def says_gone(text: str) -> bool:
    """Whether an error text says the object is not there (any status)."""
    lowered = text.casefold()
    return any(phrase in lowered for phrase in GONE_PHRASES)


def body_of(response: requests.Response) -> Any:
    """The answer's JSON, or None when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        return None
