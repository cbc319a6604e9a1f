"""Keeps secrets out of log lines, proxy answers and exception texts.

A secret can reach a text in another form than the one it was given in: with
the whitespace pasted around it, quoted by ``repr`` in an error message, escaped
inside a JSON body a server echoes, or percent-encoded in a URL. Every such form
is computed once, when the secret is added, so that redacting a line costs one
substring search per distinct form and nothing more.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import re
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import quote, quote_plus

from services.core.environment import environment_secrets

FILTERED = "[FILTERED]"

# Characters that every encoding below leaves as they are: most tokens have one form.
_PLAIN = re.compile(r"[A-Za-z0-9_.~-]*")
# What requests leaves unquoted when it re-quotes a URL it is given.
_URI_SAFE = "!#$%&'()*+,/:;=?@[]~"

# Query parameters and header-like fragments that carry credentials by their name.
_SENSITIVE_NAME = (
    r"[\w.-]*(?:token|key|secret|password|passwd|signature|authorization|credential)[\w.-]*"
)
# In a query string or a form body, including its first parameter.
# ``sig`` signs Azure and Power Automate URLs (a Teams workflow webhook).
# Also ``oauth_token="..."`` inside an ``Authorization: OAuth ...`` header.
_SENSITIVE_PARAM = re.compile(rf"(?i)((?:^|[?&;,\s])(?:sig|{_SENSITIVE_NAME})=\"?)[^&#\s\"',]*")
# A JSON member, escaped quotes inside the value included; a bare "key" is often a name.
_SENSITIVE_JSON = re.compile(
    r'(?i)("[\w.-]*(?:token|secret|password|passwd|api_?key|credential)[\w.-]*"\s*:\s*")'
    r'(?:[^"\\]|\\.)*"'
)
# The same member inside JSON text that is itself a JSON string (a body a server echoes,
# a stored document), escaped once or more: the quotes carry a run of backslashes, and
# the value ends at the first quote with that same run and no more.
_SENSITIVE_ESCAPED_JSON = re.compile(
    r'(?i)((?<!\\)(\\+)"[\w.-]*(?:token|secret|password|passwd|api_?key|credential)[\w.-]*'
    r'\2"\s*:\s*\2").*?(?<!\\)\2"'
)
# Basic credentials are base64 of ``user:password``: "dTpw" is ``u:p``. A bearer token
# needs eight characters, so that "Bearer v2" in prose stays.
_AUTH_SCHEME = re.compile(r"(?i)\b(bearer|basic)\s+([\w.~+/=-]{4,})")
_AUTH_HINT = re.compile(r"(?i)bearer|basic")
# user:password@ or a bare token@ before a host.
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]+@")


def _looks_like_credential(scheme: str, value: str) -> bool:
    """Tell a credential from prose such as "Basic authentication failed"."""
    if len(value) >= 8 and re.search(r"[0-9=+/]", value):
        return True
    if scheme.lower() == "basic":
        try:
            return b":" in base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
        except (binascii.Error, ValueError):
            return False
    return False


def _filter_credential(match: re.Match[str]) -> str:
    scheme, value = match.groups()
    return f"{scheme} {FILTERED}" if _looks_like_credential(scheme, value) else match[0]


def _repr_forms(text: str | bytes) -> set[str]:
    """``repr``'s escaping, both with ``'`` escaped (a longer text holding both quotes)
    and as ``repr`` of the value alone writes it."""
    prefix = 2 if isinstance(text, bytes) else 1
    alone = repr(text)[prefix:-1]
    # Followed by both quote characters, ``repr`` escapes every single quote.
    with_quotes = text + b"\"'" if isinstance(text, bytes) else text + "\"'"
    both = repr(with_quotes)[prefix:-4]
    return {alone, both}


# The same settings arrive with every event: their forms are computed once per process.
@lru_cache(maxsize=512)
def secret_forms(secret: str) -> frozenset[str]:
    """The forms a secret takes in texts: as given and stripped, each JSON-escaped,
    ``repr``-escaped, percent-encoded and HTML-escaped."""
    forms: set[str] = set()
    for text in {secret, secret.strip()}:
        if not text:
            continue
        forms.add(text)
        if _PLAIN.fullmatch(text):
            continue
        forms.add(json.dumps(text)[1:-1])
        forms.add(json.dumps(text, ensure_ascii=False)[1:-1])
        forms |= _repr_forms(text)
        forms |= _repr_forms(text.encode("utf-8", "backslashreplace"))
        forms.update(
            (quote(text), quote(text, safe=""), quote(text, safe=_URI_SAFE), quote_plus(text))
        )
        forms.update((html.escape(text), html.escape(text, quote=False)))
    return frozenset(form for form in forms if form.strip())


class Redactor:
    """Replaces known secret values, and credential-shaped fragments, with ``[FILTERED]``.

    Known secrets are the ones given (declared secrets: any length counts), plus the
    values of environment variables named like SECRET, TOKEN, PASSWORD or KEY (those
    only from eight characters, see ``environment_secrets``).
    """

    _given: set[str]
    _forms: list[str]
    _pattern: re.Pattern[str] | None

    def __init__(self, secrets: Iterable[object] = ()):
        # Every redactor starts from the environment's secrets, computed once per
        # environment; ``add`` never changes the shared list in place.
        base = _environment_redactor()
        self._given = set(base._given)
        self._forms = base._forms
        self._pattern = base._pattern
        for secret in secrets:
            self.add(secret)

    @classmethod
    def _empty(cls) -> Redactor:
        redactor = cls.__new__(cls)
        redactor._given = set()
        redactor._forms = []
        redactor._pattern = None
        return redactor

    def add(self, secret: object) -> None:
        """Redact ``secret``, in every form it can take, from now on."""
        text = "" if secret is None else str(secret)
        if not text.strip() or text in self._given:
            return
        self._given.add(text)
        new = secret_forms(text).difference(self._forms)
        if new:
            # Longest first, so that a secret containing another is replaced whole.
            self._forms = sorted((*self._forms, *new), key=len, reverse=True)
            self._pattern = None

    def _replace_forms(self, text: str) -> str:
        if self._pattern is None:
            self._pattern = _pattern(tuple(self._forms))
        return self._pattern.sub(FILTERED, text)

    def __call__(self, text: object) -> str:
        out = str(text)
        # A substring search per form finds most lines clean; the one-pass replacement
        # runs only when a secret is there, and never rescans what it filtered.
        for form in self._forms:
            if form in out:
                out = self._replace_forms(out)
                break
        # Each pattern runs only when the text holds the character it needs: most log
        # lines hold none, and this runs for every line.
        if "=" in out:
            out = _SENSITIVE_PARAM.sub(lambda m: m.group(1) + FILTERED, out)
        if '"' in out:
            out = _SENSITIVE_JSON.sub(lambda m: m.group(1) + FILTERED + '"', out)
            if '\\"' in out:
                out = _SENSITIVE_ESCAPED_JSON.sub(
                    lambda m: m.group(1) + FILTERED + m.group(2) + '"', out
                )
        if _AUTH_HINT.search(out):
            out = _AUTH_SCHEME.sub(_filter_credential, out)
        if "@" in out:
            out = _URL_USERINFO.sub(lambda m: f"{m.group(1)}{FILTERED}@", out)
        return out


@lru_cache(maxsize=16)
def _pattern(forms: tuple[str, ...]) -> re.Pattern[str]:
    """One alternation of every form, longest first; events with the same secrets share it."""
    return re.compile("|".join(map(re.escape, forms)))


# The redactor of the environment's secrets, and the secrets it was built from: built
# again only when ``environment_secrets`` finds the environment changed.
_base: tuple[tuple[str, ...] | None, Redactor] = (None, Redactor._empty())


def _environment_redactor() -> Redactor:
    global _base
    secrets = environment_secrets()
    if secrets is not _base[0]:
        redactor = Redactor._empty()
        for secret in secrets:
            redactor.add(secret)
        redactor._pattern = _pattern(tuple(redactor._forms)) if redactor._forms else None
        _base = (secrets, redactor)
    return _base[1]
