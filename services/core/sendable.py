"""What of a service's ``meta_data`` JSON can carry back to Aha!, and what it cannot.

A service may leave anything in ``meta_data`` (a set, bytes, an object of its own,
a value that holds itself). The answer must still go out: the values JSON can hold
are sent, each other one is left out and named.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

# Deeper than any record Aha! sends; a value nested further is left out.
MAX_DEPTH = 64
# Marks a member that is left out of the answer.
_LEFT_OUT = object()


def sendable(value: Mapping[str, Any], name: str = "meta_data") -> tuple[dict[str, Any], list[str]]:
    """``value`` as plain JSON data, and the paths (from ``name``) of the members that had
    to be left out."""
    problems: list[str] = []
    clean = _object(value, name, problems, (), 0)
    return clean, problems


def _object(
    value: Mapping[Any, Any], path: str, problems: list[str], seen: tuple[int, ...], depth: int
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, member in value.items():
        if isinstance(key, bool) or not isinstance(key, str | int):
            problems.append(f"{path} has a key {key!r} ({type(key).__name__}), not a string")
            continue
        kept = _value(member, f"{path}.{key}", problems, seen, depth + 1)
        if kept is not _LEFT_OUT:
            out[str(key)] = kept
    return out


def _value(value: Any, path: str, problems: list[str], seen: tuple[int, ...], depth: int) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        problems.append(f"{path} is {value}, which JSON cannot hold")
        return _LEFT_OUT
    if not isinstance(value, Mapping | list | tuple):
        problems.append(f"{path} holds a {type(value).__name__}, which JSON cannot hold")
        return _LEFT_OUT
    if id(value) in seen:
        problems.append(f"{path} holds itself")
        return _LEFT_OUT
    if depth > MAX_DEPTH:
        problems.append(f"{path} is nested deeper than {MAX_DEPTH} levels")
        return _LEFT_OUT
    inner = (*seen, id(value))
    if isinstance(value, Mapping):
        return _object(value, path, problems, inner, depth)
    items = (
        _value(item, f"{path}[{index}]", problems, inner, depth + 1)
        for index, item in enumerate(value)
    )
    return [item for item in items if item is not _LEFT_OUT]
