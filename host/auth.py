"""Who may post to an integration: its intake secret, or its tracker's own signature."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from host.config import Integration

TOKEN_HEADER = "X-Aha-Services-Token"
TOKEN_PARAMETER = "token"


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def token_matches(integration: Integration, given: str | None) -> bool:
    """The intake secret, compared in constant time."""
    return bool(given) and _same(str(given), integration.secret)


def signature_matches(integration: Integration, headers: Mapping[str, str], body: bytes) -> bool:
    """The tracker's signature, when the integration (or its service) declares one:
    GitHub's ``X-Hub-Signature-256`` (HMAC-SHA256 of the body with the intake secret),
    GitLab's ``X-Gitlab-Token`` (the intake secret itself). Header names in lower case."""
    if integration.signature == "github":
        given = headers.get("x-hub-signature-256", "")
        digest = hmac.new(integration.secret.encode(), body, hashlib.sha256).hexdigest()
        return bool(given) and _same(given, f"sha256={digest}")
    if integration.signature == "gitlab":
        return token_matches(integration, headers.get("x-gitlab-token"))
    return False
