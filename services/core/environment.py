"""Configuration from the environment: ``${NAME}`` in a setting reads the variable NAME.

An operator keeps secrets out of Aha!'s stored settings by writing, say,
``${HALO_CLIENT_SECRET}`` as the value; the proxy fills it in when an event runs.
Every variable whose name says it holds a secret is redacted from what the
host writes or answers.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from services.core.errors import MissingSetting

_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_SECRET_NAME = re.compile(r"SECRET|TOKEN|PASSWORD|KEY", re.IGNORECASE)

# Shorter values ("true", "1", a region name) are settings, not secrets, and
# filtering them would blank ordinary words out of every log line.
_MIN_SECRET_LENGTH = 8

# The environment the secrets below were read from: ``os.environ``'s own mapping
# compares equal to this copy until a variable is set, changed or removed.
_cache: dict[str, Any] = {"environ": None, "secrets": ()}


def expand(value: str, environ: Mapping[str, str] | None = None) -> str:
    """Replace ``${NAME}`` and ``${NAME:-default}``; an unset or empty NAME without a
    default is a MissingSetting naming it, never an empty string."""
    environ = os.environ if environ is None else environ

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        found = environ.get(name)
        if found:
            return found
        if default is not None:
            return default
        raise MissingSetting(f"The environment variable {name} is not set")

    return _REFERENCE.sub(replace, value) if "${" in value else value


def expand_all(value: Any, environ: Mapping[str, str] | None = None) -> Any:
    """``expand`` every string inside a configuration, nested ones included."""
    if isinstance(value, str):
        return expand(value, environ)
    if isinstance(value, Mapping):
        return {key: expand_all(item, environ) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [expand_all(item, environ) for item in value]
    return value


def environment_secrets() -> tuple[str, ...]:
    """Values of variables named like SECRET, TOKEN, PASSWORD or KEY.

    Read again only when the environment changed: this runs for every event.
    """
    raw = getattr(os.environ, "_data", None)
    current = raw if isinstance(raw, dict) else dict(os.environ)
    # A dict comparison of unchanged values is one identity test per variable.
    if current != _cache["environ"]:
        _cache["secrets"] = tuple(
            value
            for name, value in os.environ.items()
            if _SECRET_NAME.search(name) and len(value) >= _MIN_SECRET_LENGTH
        )
        _cache["environ"] = dict(current)
    return _cache["secrets"]
