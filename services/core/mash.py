"""Hashie::Mash-like objects: attribute access, and missing keys read as empty and falsy."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from box import Box, BoxList

_OPTIONS = {
    "default_box": True,
    # Reading a missing key must not add it: meta_data goes back to Aha! whole.
    "default_box_create_on_get": False,
    # An explicit null stays null, so JSON round trips unchanged.
    "default_box_none_transform": False,
}

Mash = Box


def mash(value: Mapping[str, Any] | None = None) -> Box:
    """A mutable mash (``meta_data``, ``payload``)."""
    return Box(dict(value or {}), **_OPTIONS)


def frozen_mash(value: Mapping[str, Any] | None = None) -> Box:
    """A read-only mash (``data``): a service cannot change the user's configuration."""
    return Box(dict(value or {}), frozen_box=True, **_OPTIONS)


def to_plain(value: Any) -> Any:
    """Plain dicts and lists, ready for JSON."""
    if isinstance(value, Box):
        return value.to_dict()
    if isinstance(value, BoxList):
        return value.to_list()
    return value


def to_json(value: Any) -> str:
    return json.dumps(to_plain(value), default=_json_default)


def from_json(text: str | bytes) -> Box:
    """Parse a JSON object into a mash; anything else is a ValueError."""
    parsed = json.loads(text)
    if not isinstance(parsed, dict):
        raise ValueError("expected a JSON object")
    return mash(parsed)


def _json_default(value: Any) -> Any:
    if isinstance(value, Box):
        return value.to_dict()
    if isinstance(value, BoxList):
        return value.to_list()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
