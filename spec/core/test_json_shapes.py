"""A third party's JSON of another shape than the code reads is a RemoteError naming it."""

import pytest

from services.core.errors import RemoteError
from services.core.json_shapes import expect_shape, has_shape, json_kind


@pytest.mark.parametrize(
    ("value", "shape", "fits"),
    [
        ({}, "object", True),
        ([], "object", False),
        ([{}, {"a": 1}], "objects", True),
        ([{}, 2], "objects", False),
        ("x", "objects", False),
    ],
)
def test_has_shape(value, shape, fits):
    assert has_shape(value, shape) is fits


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ([{}, [1]], "an array holding an array"),
        ([None], "an array holding null"),
        ([True], "an array holding a boolean"),
        (1.5, "a number"),
        ("x", "a string"),
        ({}, "an object"),
        ([], "an array"),
    ],
)
def test_json_kind_names_what_came(value, kind):
    assert json_kind(value) == kind


def test_expect_shape_returns_the_value_or_names_what_came():
    assert expect_shape([{"a": 1}], "objects", "Tracker answered GET /x") == [{"a": 1}]
    with pytest.raises(RemoteError) as raised:
        expect_shape(["a"], "objects", "Tracker answered GET /x")
    assert str(raised.value) == (
        "Tracker answered GET /x with an array holding a string where an array of objects "
        "was expected"
    )
