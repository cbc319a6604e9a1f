"""What Bugzilla's error bodies mean: ``{"error": true, "code": N, "message": ...}``.

Bugzilla tells its errors by code, and serves some of them with statuses that say
little (a refused key and a missing permission are both HTTP 401), so the code,
not the status, decides.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from services.core.errors_by_status import CREDENTIALS, FAILED, GONE, PERMISSION, TOO_LARGE

if TYPE_CHECKING:
    import requests

# 300-307: a login, a token or an API key that Bugzilla refused; 410: not logged in.
CREDENTIAL_CODES = frozenset({*range(300, 308), 410})
NOT_LOGGED_IN = 410
# The account may not see or change this bug, product or field.
PERMISSION_CODES = frozenset({102, 106, 109, 113, 115, 120})
# The bug does not exist (any more).
BUG_GONE = 101
# The attachment is larger than the installation takes.
ATTACHMENT_TOO_LARGE = 600
# Bugzilla's JSON-RPC "method not found": a REST call this installation does not know.
UNKNOWN_METHOD = 32614


def error_code(response: requests.Response) -> int | None:
    """The code of an error body; None for an answer that is not one."""
    if not response.content.strip():
        return None
    try:
        body: Any = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict) or not body.get("error"):
        return None
    code = body.get("code")
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def classify(response: requests.Response) -> str | None:
    """The core's verdict for a Bugzilla error body, whatever its HTTP status."""
    code = error_code(response)
    if code is None:
        return None
    if code in CREDENTIAL_CODES:
        return CREDENTIALS
    if code in PERMISSION_CODES:
        return PERMISSION
    if code == BUG_GONE:
        return GONE
    if code == ATTACHMENT_TOO_LARGE:
        return TOO_LARGE
    return FAILED
