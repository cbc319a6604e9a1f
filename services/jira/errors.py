"""How Jira's error answers read: its 400 bodies, its refused logins served as 200."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from services.core import ConfigurationError

if TYPE_CHECKING:
    import requests

CREDENTIALS = "Jira rejected the credentials (401)"
_OPTION_NOT_VALID = re.compile(r"Option value '(?P<value>.*)' is not valid", re.S)


def refuse_anonymous(response: requests.Response) -> None:
    """Jira answers a refused login with a 200 served to "anonymous": the same as a 401."""
    reason = response.headers.get("X-Seraph-LoginReason")
    user = response.headers.get("X-AUSERNAME")
    refused = reason is not None and reason.upper() != "OK"
    if refused or str(user or "").lower() == "anonymous":
        raise ConfigurationError(f"{CREDENTIALS}: the request was served as anonymous")


def describe_400(
    response: requests.Response,
    fields: Mapping[str, Any],
    sent_from: Mapping[str, Iterable[tuple[str, Any]]] | None = None,
) -> str:
    """``errorMessages`` and each ``errors`` entry as ``<Jira field name>: <message>``.

    ``sent_from`` maps a Jira field id to the ``(Aha! field, value)`` pairs the field
    mapping sent in it, so that a refused option also names the Aha! field.
    """
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, Mapping):
        return ""
    messages = body.get("errorMessages") or []
    parts = [str(m) for m in messages] if isinstance(messages, list) else [str(messages)]
    errors = body.get("errors") or {}
    if not isinstance(errors, Mapping):  # not Jira's shape: quoted as it came
        return "; ".join([*parts, str(errors)])
    for field_id, message in errors.items():
        name = (fields.get(field_id) or {}).get("name") or field_id
        text = f"{name}: {message}"
        invalid = _OPTION_NOT_VALID.search(str(message))
        for aha_field, value in (sent_from or {}).get(field_id, ()):
            if invalid and str(value) in invalid.group("value"):
                text += f" (sent from the Aha! field {aha_field})"
        parts.append(text)
    return "; ".join(parts)
