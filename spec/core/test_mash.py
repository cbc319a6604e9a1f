import json
import operator

import pytest
from box import BoxError

from services.core.mash import (
    FrozenList,
    Mash,
    from_json,
    frozen_mash,
    mash,
    to_json,
    to_plain,
)
from services.core.service import Service

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
        lambda f: f.items_list.extend([3]),
        lambda f: f.items_list.__setitem__(0, 2),
        lambda f: f.items_list.__delitem__(0),
        lambda f: setattr(f.items_list[1], "y", 2),
        lambda f: f.items_list[1].z.__setitem__("deeper", 1),
    ],
)
def test_frozen_mash_cannot_be_changed(change):
    data = {"a": 1, "nested": {"x": 1}, "items_list": [1, {"y": 1}]}
    frozen = frozen_mash(data)
    # Box raises BoxError; a frozen mash's lists are tuples: no append, no item assignment.
    with pytest.raises((BoxError, AttributeError, TypeError)):
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


SETTINGS = {
    "labels": ["a", "b"],
    "mapping": {"statuses": [["open", "1"], ["done", "2"]]},
    "projects": [{"id": 7, "tags": ["x"]}],
    "empty": [],
}


def test_a_read_only_list_equals_the_list_it_was_built_from():
    data = frozen_mash(SETTINGS)
    assert isinstance(data.labels, FrozenList)
    assert data.labels == ["a", "b"]
    # The list on the left: Python asks the read-only list for the reflected answer.
    assert operator.eq(["a", "b"], data.labels)
    assert not operator.ne(data.labels, ["a", "b"])
    assert not operator.ne(["a", "b"], data.labels)
    assert data.empty == []
    assert data.mapping.statuses == [["open", "1"], ["done", "2"]]
    assert data.projects == [{"id": 7, "tags": ["x"]}]
    assert data.projects[0].tags == ["x"]


def test_a_read_only_list_differs_from_other_lists_and_values():
    labels = frozen_mash(SETTINGS).labels
    assert labels != ["a"]
    assert labels != ["b", "a"]
    assert labels != ["a", "b", "c"]
    assert not operator.eq(labels, ["a", "c"])
    assert labels != "ab"
    assert labels != {"a": 1}
    assert labels == ("a", "b")
    assert labels != ("a",)


def test_a_read_only_list_joins_a_list_as_the_list_it_holds_would():
    labels = frozen_mash(SETTINGS).labels
    joined = operator.add(labels, ["c"])
    assert (type(joined), joined) == (list, ["a", "b", "c"])
    before = operator.add(["z"], labels)
    assert (type(before), before) == (list, ["z", "a", "b"])
    assert operator.add(labels, ("c",)) == ["a", "b", "c"]
    assert isinstance(operator.add(("z",), labels), FrozenList)
    assert labels + labels == ["a", "b", "a", "b"]
    assert labels == ["a", "b"]
    with pytest.raises(TypeError):
        operator.add(labels, "c")


def test_a_read_only_mash_equals_the_dict_it_was_built_from():
    data = frozen_mash(SETTINGS)
    assert data == SETTINGS
    assert operator.eq(SETTINGS, data)
    assert data.mapping == {"statuses": [["open", "1"], ["done", "2"]]}
    assert data == mash(SETTINGS)
    assert data != {**SETTINGS, "labels": ["a"]}


def test_a_service_reads_its_settings_as_the_lists_the_user_gave():
    service = Service(data={"labels": ["bug", "ui"], "nested": {"ids": [1, 2]}})
    assert service.data.labels == ["bug", "ui"]
    assert service.data.nested.ids == [1, 2]
    assert "ui" in service.data.labels


def test_a_read_only_list_reads_like_a_list():
    data = frozen_mash(SETTINGS)
    assert len(data.labels) == 2
    assert list(data.labels) == ["a", "b"]
    assert data.labels[-1] == "b"
    assert data.labels.index("b") == 1
    assert data.labels[1:] == ["b"]
    assert isinstance(data.labels[:1], FrozenList)
    assert repr(data.labels) == "['a', 'b']"
    assert f"{data.labels}" == "['a', 'b']"
    assert not data.projects[0].missing.deeper


def test_read_only_values_hash_like_tuples_of_their_items():
    data = frozen_mash(SETTINGS)
    assert hash(data.labels) == hash(("a", "b"))
    assert hash(data.labels) == hash(frozen_mash(SETTINGS).labels)
    assert hash(data) == hash(frozen_mash(SETTINGS))
    assert len({data.labels, FrozenList(["a", "b"]), ("a", "b")}) == 1
    assert {data: "seen"}[frozen_mash(SETTINGS)] == "seen"


def test_a_mutable_mash_does_not_hash():
    with pytest.raises(TypeError):
        hash(mash(SETTINGS))


def test_read_only_settings_turn_back_into_plain_lists():
    data = frozen_mash(SETTINGS)
    plain = to_plain(data)
    assert plain == SETTINGS
    assert type(plain["labels"]) is list
    assert type(plain["projects"][0]) is dict
    assert type(plain["projects"][0]["tags"]) is list
    assert type(plain["mapping"]["statuses"][0]) is list
    assert to_plain(data.labels) == ["a", "b"] and type(to_plain(data.labels)) is list
    assert json.loads(to_json(data)) == SETTINGS


def test_a_read_only_mash_leaves_its_source_alone():
    source = {"labels": ["a"], "nested": {"list": [{"k": 1}]}}
    frozen_mash(source)
    assert source == {"labels": ["a"], "nested": {"list": [{"k": 1}]}}
    assert type(source["labels"]) is list
    assert type(source["nested"]["list"][0]) is dict
