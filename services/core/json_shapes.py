"""What a third party's JSON answer must be for the code that reads it.

A tracker that answers an array where an object belongs (a proxy's page, another
API version) is the third party's failure, told as a RemoteError naming the request
and what came, not an AttributeError deep in a service.
"""

from __future__ import annotations

from typing import Any, Literal

from services.core.errors import RemoteError

# "objects" is an array of objects.
JsonShape = Literal["object", "objects"]
_SHAPE_NAMES = {"object": "an object", "objects": "an array of objects"}


def has_shape(value: Any, shape: JsonShape) -> bool:
    """Whether parsed JSON is of ``shape``."""
    if shape == "object":
        return isinstance(value, dict)
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


def expect_shape(value: Any, shape: JsonShape, what: str) -> Any:
    """``value`` when it is of ``shape``; else a RemoteError: "<what> with <kind> where
    <shape> was expected"."""
    if not has_shape(value, shape):
        raise RemoteError(
            f"{what} with {json_kind(value)} where {_SHAPE_NAMES[shape]} was expected"
        )
    return value


def json_kind(value: Any) -> str:
    """What a parsed JSON value is, as a message names it: an array by what is not an
    object in it."""
    if isinstance(value, list):
        others = [item for item in value if not isinstance(item, dict)]
        return f"an array holding {_name(others[0])}" if others else "an array"
    return _name(value)


def _name(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    return names.get(type(value), "null" if value is None else "a number")
