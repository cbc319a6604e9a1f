import json

import pytest
from box import BoxError

from services.core.mash import Mash, from_json, frozen_mash, mash, to_json, to_plain

PAYLOAD = {
    "feature": {
        "name": "Login",
        "tags": ["a", "b"],
        "requirements": [{"reference_num": "PROD-1-1", "name": None}],
        "integration_fields": [],
    },
    "count": 0,
    "nothing": None,
}


def test_attribute_and_key_access():
    m = mash(PAYLOAD)
    assert isinstance(m, Mash)
    assert m.feature.name == "Login"
    assert m["feature"]["name"] == "Login"
    assert m.feature["tags"] == ["a", "b"]
    assert m.feature.requirements[0].reference_num == "PROD-1-1"
    assert m.count == 0


def test_missing_keys_read_as_empty_and_falsy_without_being_added():
    m = mash(PAYLOAD)
    assert not m.missing
    assert len(m.missing) == 0
    assert not m["missing"]
    assert m.get("missing") is None
    assert "missing" not in m
    assert m.to_dict() == PAYLOAD


def test_chained_access_on_missing_keys_never_raises():
    m = mash({"feature": {"name": "x"}})
    assert not m.release.owner.email
    assert not m.feature.workflow_status.name
    assert not m["a"]["b"]["c"]
    assert m.to_dict() == {"feature": {"name": "x"}}


def test_missing_keys_in_list_items_read_as_empty():
    m = mash(PAYLOAD)
    assert not m.feature.requirements[0].description.body
    assert m.to_dict() == PAYLOAD


def test_explicit_nulls_stay_null():
    m = mash(PAYLOAD)
    assert m.nothing is None
    assert m["nothing"] is None
    assert m.feature.requirements[0].name is None
    assert "nothing" in m
    assert to_plain(m)["nothing"] is None


def test_mash_does_not_change_the_dict_it_was_built_from():
    source = {"a": {"b": 1}}
    m = mash(source)
    m.a.b = 2
    m.c = 3
    assert source == {"a": {"b": 1}}


def test_mash_can_change_and_the_changes_show_in_to_plain():
    m = mash({"a": 1, "nested": {"b": 2}})
    m.a = 10
    m["new"] = "value"
    m.nested.b = 20
    m.nested.list = [1, {"x": 1}]
    m.obj = {"deep": {"er": True}}
    del m["a"]
    plain = to_plain(m)
    assert plain == {
        "new": "value",
        "nested": {"b": 20, "list": [1, {"x": 1}]},
        "obj": {"deep": {"er": True}},
    }
    assert type(plain) is dict
    assert type(plain["nested"]) is dict
    assert type(plain["nested"]["list"]) is list
    assert type(plain["nested"]["list"][1]) is dict


def test_new_nested_dicts_get_attribute_access():
    m = mash()
    m.integration = {"id": 5}
    assert m.integration.id == 5


def test_empty_mashes():
    assert mash().to_dict() == {}
    assert mash(None).to_dict() == {}
    assert frozen_mash(None).to_dict() == {}


@pytest.mark.parametrize(
    "change",
    [
        lambda f: setattr(f, "a", 2),
        lambda f: f.__setitem__("a", 2),
        lambda f: setattr(f, "brand_new", 1),
        lambda f: f.__delitem__("a"),
        lambda f: delattr(f, "a"),
        lambda f: setattr(f.nested, "x", 2),
        lambda f: f.update(a=3),
        lambda f: f.pop("a"),
        lambda f: f.setdefault("z", 1),
        lambda f: f.clear(),
        lambda f: f.items_list.append(3),
        lambda f: setattr(f.items_list[1], "y", 2),
    ],
)
def test_frozen_mash_cannot_be_changed(change):
    data = {"a": 1, "nested": {"x": 1}, "items_list": [1, {"y": 1}]}
    frozen = frozen_mash(data)
    # Box raises BoxError; a frozen mash's lists are tuples, which have no append.
    with pytest.raises((BoxError, AttributeError)):
        change(frozen)
    assert json.loads(to_json(frozen)) == {"a": 1, "nested": {"x": 1}, "items_list": [1, {"y": 1}]}


def test_frozen_mash_reads_like_a_mash():
    frozen = frozen_mash({"server_url": "https://x", "secret": None})
    assert frozen.server_url == "https://x"
    assert frozen["server_url"] == "https://x"
    assert not frozen.missing.deeper
    assert frozen.secret is None
    assert frozen.to_dict() == {"server_url": "https://x", "secret": None}


def test_to_json_and_from_json_round_trip():
    m = mash(PAYLOAD)
    m.feature.name = "Changed"
    text = to_json(m)
    assert json.loads(text)["feature"]["name"] == "Changed"
    back = from_json(text)
    assert isinstance(back, Mash)
    assert to_plain(back) == to_plain(m)
    assert back.feature.requirements[0].reference_num == "PROD-1-1"
    assert back.nothing is None
    assert not back.missing


def test_from_json_accepts_bytes():
    assert from_json(b'{"a": {"b": [1]}}').a.b == [1]


def test_to_json_serialises_mashes_nested_in_plain_values():
    assert json.loads(to_json({"m": mash({"k": [mash({"z": 1})]})})) == {"m": {"k": [{"z": 1}]}}
    assert json.loads(to_json([1, "a", None])) == [1, "a", None]


def test_to_json_refuses_what_json_cannot_hold():
    with pytest.raises(TypeError, match="set is not JSON serialisable"):
        to_json({"s": {1, 2}})


@pytest.mark.parametrize("text", ["[1, 2]", "1", '"s"', "null", "true"])
def test_from_json_on_a_non_object_raises_value_error(text):
    with pytest.raises(ValueError, match="expected a JSON object"):
        from_json(text)


def test_from_json_on_malformed_json_raises_value_error():
    with pytest.raises(ValueError):
        from_json("{not json")


def test_to_plain_passes_other_values_through():
    assert to_plain([1, 2]) == [1, 2]
    assert to_plain("text") == "text"
    assert to_plain(None) is None
    assert type(to_plain(mash({"l": [1]}).l)) is list


@pytest.mark.parametrize("make", [mash, frozen_mash])
def test_a_missing_key_is_empty_as_text(make):
    data = make({"server_url": "https://foo.example.com", "nested": {}})
    assert f"{data.missing}/api" == "/api"
    assert f"{data.missing.deeper:>4}|" == "    |"
    assert str(data.missing) == ""
    assert format(data.missing) + "/x" == "/x"
    assert data.missing + "/api" == "/api"
    assert "base" + data.missing == "base"
    assert f"{data.server_url}/api" == "https://foo.example.com/api"


@pytest.mark.parametrize("make", [mash, frozen_mash])
def test_a_missing_key_stays_falsy_and_chains(make):
    data = make({"a": {"b": 1}})
    assert not data.missing and not data.missing.deeper.still
    assert data.a.missing.deeper == {}
    assert data.to_dict() == {"a": {"b": 1}}


def test_a_present_empty_object_keeps_its_text():
    assert str(mash({"nested": {}}).nested) == "{}"
    assert str(mash({"nested": {"a": 1}}).nested) == "{'a': 1}"


def test_a_missing_key_of_read_only_data_stays_read_only():
    with pytest.raises(BoxError):
        frozen_mash({}).missing.x = 1
