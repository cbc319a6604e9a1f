"""Keeps secrets out of log lines, proxy answers and exception texts."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable

from services.core.environment import environment_secrets

FILTERED = "[FILTERED]"

# Query parameters and header-like fragments that carry credentials by their name.
_SENSITIVE_NAME = (
    r"[\w.-]*(?:token|key|secret|password|passwd|signature|authorization|credential)[\w.-]*"
)
# In a query string or a form body, including its first parameter.
# ``sig`` signs Azure and Power Automate URLs (a Teams workflow webhook).
# Also ``oauth_token="..."`` inside an ``Authorization: OAuth ...`` header.
_SENSITIVE_PARAM = re.compile(
    rf"(?i)((?:^|[?&;,\s])(?:sig|{_SENSITIVE_NAME})=\"?)[^&#\s\"',]*"
)
# A JSON member, escaped quotes inside the value included.
# A JSON member, escaped quotes inside the value included; a bare "key" is often a name.
_SENSITIVE_JSON = re.compile(
    r'(?i)("[\w.-]*(?:token|secret|password|passwd|api_?key|credential)[\w.-]*"\s*:\s*")'
    r'(?:[^"\\]|\\.)*"'
)
_AUTH_SCHEME = re.compile(r"(?i)\b(bearer|basic)\s+([\w.~+/=-]{8,})")
_AUTH_HINT = re.compile(r"(?i)bearer|basic")
# user:password@ or a bare token@ before a host.
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]+@")


def _looks_like_credential(scheme: str, value: str) -> bool:
    """Tell a credential from prose such as "Basic authentication failed"."""
    if re.search(r"[0-9=+/]", value):
        return True
    if scheme.lower() == "basic":
        try:
            return b":" in base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
        except (binascii.Error, ValueError):
            return False
    return False

# Values this short would blank out ordinary words; nobody's secret is this short.
_MIN_SECRET_LENGTH = 4


def _filter_credential(match: re.Match[str]) -> str:
    scheme, value = match.groups()
    return f"{scheme} {FILTERED}" if _looks_like_credential(scheme, value) else match[0]


class Redactor:
    """Replaces known secret values, and credential-shaped fragments, with ``[FILTERED]``.

    Known secrets are the ones given, plus the values of environment variables named
    like SECRET, TOKEN, PASSWORD or KEY.
    """

    def __init__(self, secrets: Iterable[object] = ()):
        # Longest first, so a secret containing another is replaced whole.
        self._secrets: list[str] = []
        for secret in (*environment_secrets(), *secrets):
            self.add(secret)

    def add(self, secret: object) -> None:
        text = "" if secret is None else str(secret)
        if len(text) >= _MIN_SECRET_LENGTH and text not in self._secrets:
            self._secrets.append(text)
            self._secrets.sort(key=len, reverse=True)

    def __call__(self, text: object) -> str:
        out = str(text)
        for secret in self._secrets:
            if secret in out:
                out = out.replace(secret, FILTERED)
        # Each pattern runs only when the text holds the character it needs: most log
        # lines hold none, and this runs for every line.
        if "=" in out:
            out = _SENSITIVE_PARAM.sub(lambda m: m.group(1) + FILTERED, out)
        if '"' in out:
            out = _SENSITIVE_JSON.sub(lambda m: m.group(1) + FILTERED + '"', out)
        if _AUTH_HINT.search(out):
            out = _AUTH_SCHEME.sub(_filter_credential, out)
        if "@" in out:
            out = _URL_USERINFO.sub(lambda m: f"{m.group(1)}{FILTERED}@", out)
        return out
