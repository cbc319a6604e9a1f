"""Keeps secrets out of log lines, proxy answers and exception texts."""

from __future__ import annotations

import re
from collections.abc import Iterable

FILTERED = "[FILTERED]"

# Query parameters and header-like fragments that carry credentials by their name.
_SENSITIVE_PARAM = re.compile(
    r"(?i)([?&;](?:[\w.-]*(?:token|key|secret|password|passwd|signature|authorization|credential)[\w.-]*)=)[^&#\s\"']*"
)
_SENSITIVE_JSON = re.compile(
    r'(?i)("[\w.-]*(?:token|secret|password|passwd|api_?key|credential)[\w.-]*"\s*:\s*")[^"]*"'
)
# A credential after its scheme word; it must hold a digit or a base64 sign, not prose.
_AUTH_SCHEME = re.compile(r"(?i)\b(bearer|basic)\s+(?=[\w.~+/-]*[0-9=+/])[\w.~+/=-]{8,}")
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s:]+:[^/@\s]+@")

# Values this short would blank out ordinary words; nobody's secret is this short.
_MIN_SECRET_LENGTH = 4


class Redactor:
    """Replaces known secret values, and credential-shaped fragments, with ``[FILTERED]``."""

    def __init__(self, secrets: Iterable[object] = ()):
        self._secrets: set[str] = set()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: object) -> None:
        text = "" if secret is None else str(secret)
        if len(text) >= _MIN_SECRET_LENGTH:
            self._secrets.add(text)

    def __call__(self, text: object) -> str:
        out = str(text)
        # Longest first, so a secret containing another is replaced whole.
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in out:
                out = out.replace(secret, FILTERED)
        out = _SENSITIVE_PARAM.sub(lambda m: m.group(1) + FILTERED, out)
        out = _SENSITIVE_JSON.sub(lambda m: m.group(1) + FILTERED + '"', out)
        out = _AUTH_SCHEME.sub(lambda m: f"{m.group(1)} {FILTERED}", out)
        return _URL_USERINFO.sub(lambda m: f"{m.group(1)}{FILTERED}@", out)
