"""Hashie::Mash-like objects: attribute access, and missing keys read as empty and falsy.

A missing key is also empty as text, as a missing Hashie::Mash key (nil) is in Ruby:
``f"{data.server_url}/api"`` gives ``"/api"``, never ``"{}/api"``.

A read-only mash holds its lists as ``FrozenList``: a tuple, so nothing can append to
it or assign an item, that compares equal to the list it was built from
(``data.labels == ["a"]``), as the mash compares equal to its dict, and that joined
to a list gives a new list (``data.labels + ["b"]``). Read-only values
hash like tuples of the same items, so equal ones hash alike; a mutable mash does not
hash at all.

python-box is imported on first use: the proxy answers ``/configuration`` and
ignored events without building a single mash.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING, Any, SupportsIndex, overload

from services.core.lean_imports import lean_import

if TYPE_CHECKING:
    from box import Box as Mash


def __getattr__(name: str) -> Any:
    """``Mash``, the mash class (python-box's Box), imported when first asked for."""
    if name == "Mash":
        return _box().Box
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@cache
def _box() -> ModuleType:
    """python-box, imported without its converters' libraries."""
    return lean_import("box")


@cache
def _missing_class() -> type:
    _box()
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


_OPTIONS: dict[str, Any] = {
    "default_box": True,
    "default_box_attr": _missing,
    # Reading a missing key must not add it: meta_data goes back to Aha! whole.
    "default_box_create_on_get": False,
    # An explicit null stays null, so JSON round trips unchanged.
    "default_box_none_transform": False,
}


class FrozenList(tuple[Any, ...]):
    """A read-only list: equal to a list (or a tuple) with equal items, sliced into
    another FrozenList, and shown as a list."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, list):
            return list(self) == other
        return super().__eq__(other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    # Equal to a tuple of the same items, so it hashes as one; a list does not hash.
    __hash__ = tuple.__hash__

    def __add__(self, other: Any) -> Any:
        """Joined to a list, a new list (``data.labels + ["x"]``), as the list it holds
        would give; joined to a tuple, another FrozenList."""
        if isinstance(other, list):
            return [*self, *other]
        if isinstance(other, tuple):
            return FrozenList((*self, *other))
        return NotImplemented

    def __radd__(self, other: Any) -> Any:
        if isinstance(other, list):
            return [*other, *self]
        if isinstance(other, tuple):
            return FrozenList((*other, *self))
        return NotImplemented

    @overload
    def __getitem__(self, index: SupportsIndex) -> Any: ...
    @overload
    def __getitem__(self, index: slice) -> FrozenList: ...
    def __getitem__(self, index: SupportsIndex | slice) -> Any:
        item = super().__getitem__(index)
        return FrozenList(item) if isinstance(index, slice) else item

    def __repr__(self) -> str:
        return repr(list(self))


def _freeze(value: Any) -> Any:
    """Lists (at any depth) as FrozenLists, and the dicts inside them as read-only mashes;
    python-box would store the lists as plain tuples."""
    if isinstance(value, Mapping):
        return {key: _freeze(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return FrozenList(
            frozen_mash(item) if isinstance(item, Mapping) else _freeze(item) for item in value
        )
    return value


def mash(value: Mapping[str, Any] | None = None) -> Mash:
    """A mutable mash (``meta_data``, ``payload``)."""
    Box = _box().Box

    return Box(dict(value or {}), **_OPTIONS)


def frozen_mash(value: Mapping[str, Any] | None = None) -> Mash:
    """A read-only mash (``data``): a service cannot change the user's configuration."""
    Box = _box().Box

    return Box(_freeze(value or {}), frozen_box=True, **_OPTIONS)


def to_plain(value: Any) -> Any:
    """Plain dicts and lists, ready for JSON."""
    Box, BoxList = _box().Box, _box().BoxList

    if isinstance(value, FrozenList):
        return [to_plain(item) for item in value]
    if isinstance(value, Box):
        if value._box_config["frozen_box"]:
            return {key: to_plain(item) for key, item in value.items()}
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
