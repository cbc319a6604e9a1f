"""How Azure DevOps' error answers read: its JSON ``message``, the rule errors of a 400,
sign-in pages served instead of an answer, and the codes that mean a setting is wrong."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from services.core import ConfigurationError
from services.core.errors_by_status import body_excerpt

if TYPE_CHECKING:
    import requests

# Azure's code for a path that names no area of the project.
UNKNOWN_AREA = "TF401347"
# Azure's code for a work item type the project does not have.
UNKNOWN_TYPE = "VS402323"
VERSION_OUT_OF_RANGE = "VssVersionOutOfRangeException"
_HIGHEST_VERSION = re.compile(r"supports is ([0-9][0-9.]*[0-9])")
# Redirects to one of these are Azure's sign-in, not a moved server.
_SIGN_IN = re.compile(r"(?i)sign-?in|login|_signin|oauth|authorize")


def error_body(response: requests.Response) -> Mapping[str, Any]:
    """The JSON object of an error answer; empty when the body is not one."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, Mapping) else {}


def error_message(response: requests.Response) -> str:
    """Azure's ``message``, or the start of the body when there is none."""
    message = str(error_body(response).get("message") or "").strip()
    return body_excerpt(response) if not message else body_excerpt_text(message)


def body_excerpt_text(text: str, limit: int = 500) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def rule_errors(response: requests.Response) -> list[str]:
    """Each ``RuleValidationErrors`` entry as ``<field reference name>: <message>``."""
    properties = error_body(response).get("customProperties") or {}
    errors = properties.get("RuleValidationErrors") if isinstance(properties, Mapping) else None
    lines = []
    for error in errors or []:
        if isinstance(error, Mapping):
            field = error.get("fieldReferenceName") or "a field"
            lines.append(f"{field}: {error.get('errorMessage') or 'refused'}")
    return lines


def describe_400(response: requests.Response, default_fields: str) -> str:
    """The message and every rule error, whole: they name the fields to fix."""
    message = str(error_body(response).get("message") or "").strip()
    errors = rule_errors(response)
    if errors:
        fixes = "; ".join(errors)
        return (
            f"{message} {fixes} (check the work item type mapping and the default fields, "
            f"{default_fields})".strip()
        )
    return message


def sign_in_page(response: requests.Response) -> bool:
    """A 203, a 302, a redirect to a sign-in address, or an HTML page instead of JSON:
    Azure's way of refusing credentials without a 401."""
    status = response.status_code
    if status in (203, 302):
        return True
    if 300 <= status < 400:
        return bool(_SIGN_IN.search(response.headers.get("Location", "")))
    content_type = response.headers.get("Content-Type", "")
    return 200 <= status < 300 and content_type.lower().startswith("text/html")


def refuse_setting_errors(response: requests.Response, *, version_setting: str, what: str) -> None:
    """A ConfigurationError for the answers that mean a setting is wrong, not Azure."""
    if response.status_code < 400:
        return
    body = error_body(response)
    text = response.text or ""
    if body.get("typeKey") == VERSION_OUT_OF_RANGE or VERSION_OUT_OF_RANGE in text:
        highest = _HIGHEST_VERSION.search(str(body.get("message") or text))
        offered = f"; the highest it offers is {highest.group(1)}" if highest else ""
        raise ConfigurationError(
            f"Azure DevOps does not offer the API version asked for ({version_setting}) "
            f"for {what}{offered}"
        )
    if UNKNOWN_AREA in text:
        raise ConfigurationError(
            f"Azure DevOps has no such area path for {what} ({error_message(response)}); "
            "choose another area, or press Install to read the areas again"
        )
