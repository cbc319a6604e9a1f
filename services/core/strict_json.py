"""JSON as the standard has it: Python's reader also takes NaN and Infinity, which no
sender of ours (Aha!, a tracker, a user's file) means, and which no strict reader of
what we pass on (a browser, Aha!) accepts."""

from __future__ import annotations

import json
from typing import Any


class NotJson(ValueError):
    """A constant that Python's reader takes and JSON does not have."""


def _refuse_constant(name: str) -> Any:
    raise NotJson(f"{name} is not JSON")


def loads(text: str | bytes) -> Any:
    """``json.loads`` that refuses ``NaN``, ``Infinity`` and ``-Infinity`` (``NotJson``, a
    ValueError, like every other fault of the text)."""
    return json.loads(text, parse_constant=_refuse_constant)
