"""Hashie::Mash-like objects: attribute access, and missing keys read as empty and falsy.

A missing key is also empty as text, as a missing Hashie::Mash key (nil) is in Ruby:
``f"{data.server_url}/api"`` gives ``"/api"``, never ``"{}/api"``.

python-box is imported on first use: the proxy answers ``/configuration`` and
ignored events without building a single mash.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from box import Box as Mash


def __getattr__(name: str) -> Any:
    """``Mash``, the mash class (python-box's Box), imported when first asked for."""
    if name == "Mash":
        from box import Box

        return Box
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

@cache
def _missing_class() -> type:
    from box import Box

    class Missing(Box):
        """What a missing key reads as: an empty, falsy mash that is ``""`` as text."""

        def __str__(self) -> str:
            return "" if not self else super().__str__()

        def __format__(self, spec: str) -> str:
            return format(str(self), spec)

        def __add__(self, other: Any) -> Any:
            if isinstance(other, str) and not self:
                return other
            return super().__add__(other)

        def __radd__(self, other: Any) -> Any:
            if isinstance(other, str) and not self:
                return other
            return super().__radd__(other)

    return Missing


def _missing(box_instance: Any) -> Any:
    """The value of a missing key of ``box_instance``; read-only when that mash is."""
    return _missing_class()(frozen_box=box_instance._box_config["frozen_box"], **_OPTIONS)


_OPTIONS = {
    "default_box": True,
    "default_box_attr": _missing,
    # Reading a missing key must not add it: meta_data goes back to Aha! whole.
    "default_box_create_on_get": False,
    # An explicit null stays null, so JSON round trips unchanged.
    "default_box_none_transform": False,
}


def mash(value: Mapping[str, Any] | None = None) -> Mash:
    """A mutable mash (``meta_data``, ``payload``)."""
    from box import Box

    return Box(dict(value or {}), **_OPTIONS)


def frozen_mash(value: Mapping[str, Any] | None = None) -> Mash:
    """A read-only mash (``data``): a service cannot change the user's configuration."""
    from box import Box

    return Box(dict(value or {}), frozen_box=True, **_OPTIONS)


def to_plain(value: Any) -> Any:
    """Plain dicts and lists, ready for JSON."""
    from box import Box, BoxList

    if isinstance(value, Box):
        return value.to_dict()
    if isinstance(value, BoxList):
        return value.to_list()
    return value


def to_json(value: Any) -> str:
    return json.dumps(to_plain(value), default=_json_default)


def from_json(text: str | bytes) -> Mash:
    """Parse a JSON object into a mash; anything else is a ValueError."""
    parsed = json.loads(text)
    if not isinstance(parsed, dict):
        raise ValueError("expected a JSON object")
    return mash(parsed)


def _json_default(value: Any) -> Any:
    plain = to_plain(value)
    if plain is value:
        raise TypeError(f"{type(value).__name__} is not JSON serialisable")
    return plain
