"""The Jira field mapping: each Aha! custom field sent as its Jira field's type takes it."""

import copy

import pytest

from services.core import ConfigurationError, RemoteError
from services.jira import Jira
from services.jira.fields import FieldMapping, estimate_fields
from spec.conftest import json_fixture, raw_fixture, request_json
from spec.services.test_jira import (
    API,
    JIRA,
    JIRA_SETTINGS,
    STORY,
    assert_jira_auth,
    feature_payload,
    loaded_meta_data,
    mock_aha_writes,
)

MAPPING = [
    {"aha_field": "acceptance", "jira_field": "customfield_10070"},  # textarea
    {"aha_field": "squads", "jira_field": "customfield_10071"},  # textfield
    {"aha_field": "region", "jira_field": "customfield_10072"},  # radio buttons
    {"aha_field": "platforms", "jira_field": "customfield_10073"},  # multiselect
    {"aha_field": "markets", "jira_field": "customfield_10074"},  # multicheckboxes
    {"aha_field": "owner", "jira_field": "customfield_10075"},  # user picker
    {"aha_field": "launch", "jira_field": "customfield_10076"},  # date: as is
    {"aha_field": "risk", "jira_field": "customfield_10077"},  # select of type string
    {"aha_field": "modules", "jira_field": "components"},
    {"aha_field": "tier", "jira_field": "customfield_10060"},  # option
    {"aha_field": "urgency", "jira_field": "priority"},
    {"aha_field": "train", "jira_field": "customfield_10078"},  # array of strings
    {"aha_field": "revenue", "jira_field": "customfield_10061"},  # number
    {"aha_field": "legacy", "jira_field": "customfield_99999"},  # unknown to Jira
    {"aha_field": "theme", "jira_field": "customfield_10011"},  # Epic Name: not on a Story
    {"aha_field": "not_on_the_record", "jira_field": "customfield_10070"},
]
MAPPED = [
    "customfield_10070",
    "customfield_10071",
    "customfield_10072",
    "customfield_10073",
    "customfield_10074",
    "customfield_10075",
    "customfield_10076",
    "customfield_10077",
    "components",
    "priority",
    "customfield_10078",
]
CREATED = {"id": "10234", "key": "PAY-17", "self": f"{API}/issue/10234"}


@pytest.fixture
def settings(user_data):
    return {**user_data, **JIRA_SETTINGS, "dont_send_releases": "1", "field_mapping": MAPPING}


def meta_data():
    """Project data whose Story screen takes every mapped field but the Epic Name."""
    meta = loaded_meta_data()
    story = meta["issue_types"]["PAY"][0]
    assert story["id"] == STORY
    story["fields"] = story["fields"] + MAPPED
    return meta


def feature(custom_fields=None):
    payload = feature_payload(requirements=False)
    record = payload["feature"]
    record["custom_fields"] = (
        custom_fields if custom_fields is not None else json_fixture("jira/aha_custom_fields.json")
    )
    record["description"]["attachments"] = []
    record["assigned_to_user"] = record["created_by_user"] = None
    record["tags"] = []
    return payload


def created_fields(mocked_http):
    creates = [c for c in mocked_http.calls if c.request.url == f"{API}/issue"]
    assert len(creates) == 1 and creates[0].request.method == "POST"
    return request_json(creates[0])["fields"]


def send(settings, mocked_http, payload):
    mocked_http.post(f"{API}/issue", status=201, json=CREATED)
    mock_aha_writes(mocked_http)
    service = Jira(settings, payload, meta_data())
    service.receive("create_feature")
    return service


def test_each_jira_field_type_gets_the_value_it_takes(settings, mocked_http):
    mocked_http.get(f"{API}/user/picker?query=sam.idowu%40example.com", json={"users": []})
    mocked_http.get(
        f"{API}/user/picker?query=maya.okafor%40example.com",
        body=raw_fixture("jira/user_picker.json"),
    )
    service = send(settings, mocked_http, feature())

    fields = created_fields(mocked_http)
    mapped = {k: v for k, v in fields.items() if k.startswith("customfield_") or k in MAPPED}
    assert mapped == {
        "customfield_10050": "https://acme.aha.io/features/ACME-12",  # the Aha! Reference
        "customfield_10070": "Exports *all* invoices as _CSV_",
        "customfield_10071": "Ledger,Exports",
        "customfield_10072": {"value": "EMEA"},
        "customfield_10073": [{"value": "Web"}, {"value": "iOS"}],
        "customfield_10074": [{"value": "DE"}],
        "customfield_10075": {"accountId": "5b10ac8d82e05b22cc7d4ef5"},
        "customfield_10076": "2026-12-01",
        "customfield_10077": {"value": "High"},
        "components": [{"name": "Billing"}, {"name": "API"}],
        "customfield_10060": {"value": "Gold"},
        "priority": {"name": "Highest"},
        "customfield_10078": ["Q4-train"],
        "customfield_10061": 12500.5,
    }
    pickers = [c.request.url for c in mocked_http.calls if "/user/picker" in c.request.url]
    assert pickers == [
        f"{API}/user/picker?query=sam.idowu%40example.com",
        f"{API}/user/picker?query=maya.okafor%40example.com",
    ]
    assert_jira_auth(mocked_http)
    warnings = [m["message"] for m in service.logger.messages if m["severity"] == 2]
    assert len(warnings) == 2
    assert "customfield_99999 mapped from legacy" in warnings[0]
    assert "customfield_10011 mapped from theme" in warnings[1]
    assert "Load project data" in warnings[1]


def test_requirements_use_their_own_mapping_and_fall_back_to_the_features(settings):
    settings["requirement_field_mapping"] = [{"aha_field": "tier", "jira_field": "priority"}]
    service = Jira(settings, {}, meta_data())
    mapping = FieldMapping(service, users=None)
    assert mapping.mapping("requirement") == settings["requirement_field_mapping"]
    assert mapping.mapping("feature") == MAPPING
    settings["requirement_field_mapping"] = []
    assert FieldMapping(Jira(settings, {}, meta_data()), users=None).mapping("requirement") == (
        MAPPING
    )


@pytest.mark.parametrize(
    ("key", "value"),
    [("region", ""), ("tier", None), ("urgency", ""), ("revenue", None), ("risk", "")],
)
def test_an_empty_choice_or_number_is_left_out(settings, mocked_http, key, value):
    entries = copy.deepcopy(json_fixture("jira/aha_custom_fields.json"))
    entry = next(e for e in entries if e["key"] == key)
    entry["value"] = value
    jira_field = next(m["jira_field"] for m in MAPPING if m["aha_field"] == key)
    settings["field_mapping"] = [{"aha_field": key, "jira_field": jira_field}]
    send(settings, mocked_http, feature(entries))
    assert jira_field not in created_fields(mocked_http)


def test_long_text_is_cut_to_what_each_jira_text_field_takes(settings, mocked_http):
    settings["field_mapping"] = [
        {"aha_field": "acceptance", "jira_field": "customfield_10070"},
        {"aha_field": "squads", "jira_field": "customfield_10071"},
    ]
    long_note = "<p>" + "criterion " * 4000 + "</p><pre><code>" + "x = 1\n" * 200 + "</code></pre>"
    entries = [
        {"key": "acceptance", "type": "html", "value": long_note},
        {"key": "squads", "type": "string", "value": "[Ledger|https://acme.aha.io/x] " * 20},
    ]
    send(settings, mocked_http, feature(entries))
    fields = created_fields(mocked_http)
    area = fields["customfield_10070"]
    assert len(area) <= 32767
    assert area.endswith(
        "\n\n… (truncated: the full text is in Aha! https://acme.aha.io/features/ACME-12)"
    )
    one_line = fields["customfield_10071"]
    assert len(one_line) <= 255 and one_line.endswith("]…")
    assert one_line.count("[") == one_line.count("]")


def test_a_mapped_number_that_is_not_one_names_both_fields(settings, mocked_http):
    settings["field_mapping"] = [{"aha_field": "revenue", "jira_field": "customfield_10061"}]
    entries = [{"key": "revenue", "type": "array", "value": ["a lot"]}]
    with pytest.raises(ConfigurationError, match=r"revenue holds \['a lot'\].*Revenue impact"):
        Jira(settings, feature(entries), meta_data()).receive("create_feature")
    assert len(mocked_http.calls) == 0


def test_a_user_the_picker_does_not_find_is_left_out(settings, mocked_http):
    settings["field_mapping"] = [{"aha_field": "owner", "jira_field": "customfield_10075"}]
    entries = [{"key": "owner", "type": "string", "value": "nobody@example.com"}]
    mocked_http.get(f"{API}/user/picker?query=nobody%40example.com", json={"users": []})
    send(settings, mocked_http, feature(entries))
    assert "customfield_10075" not in created_fields(mocked_http)
    picker = mocked_http.calls[0].request
    assert (picker.method, picker.url) == ("GET", f"{API}/user/picker?query=nobody%40example.com")


def test_a_refused_multiselect_option_names_its_aha_field(settings, mocked_http):
    settings["field_mapping"] = [{"aha_field": "platforms", "jira_field": "customfield_10073"}]
    entries = [{"key": "platforms", "type": "array", "value": ["Web", "Fridge"]}]
    mocked_http.post(
        f"{API}/issue",
        status=400,
        json={
            "errorMessages": [],
            "errors": {"customfield_10073": "Option value 'Fridge' is not valid"},
        },
    )
    with pytest.raises(RemoteError) as error:
        Jira(settings, feature(entries), meta_data()).receive("create_feature")
    assert str(error.value) == (
        "Jira did not accept POST /issue: Platforms: Option value 'Fridge' is not valid "
        "(sent from the Aha! field platforms)"
    )
    assert created_fields(mocked_http)["customfield_10073"] == [
        {"value": "Web"},
        {"value": "Fridge"},
    ]
    assert mocked_http.calls[0].request.url.startswith(JIRA)


@pytest.mark.parametrize(
    ("record", "sent"),
    [
        (
            {"original_estimate": 45, "work_units": 10},
            {"timetracking": {"originalEstimate": "45m"}},
        ),
        (
            {"original_estimate": None, "remaining_estimate": 30, "work_units": 10},
            {"timetracking": {"remainingEstimate": "30m"}},
        ),
        ({"original_estimate": None, "remaining_estimate": None, "work_units": 10}, {}),
        ({"original_estimate": 3, "work_units": 30}, {}),  # units Jira has no field for
        ({"work_units": 10}, {}),  # no estimate at all
    ],
)
def test_estimates_send_only_what_aha_has(record, sent):
    assert estimate_fields(record, {"timetracking"}, "customfield_10016") == sent


def test_a_user_field_holding_an_aha_user_uses_its_email(settings, mocked_http):
    settings["field_mapping"] = [{"aha_field": "owner", "jira_field": "customfield_10075"}]
    entries = [{"key": "owner", "type": "user", "value": {"name": "Maya", "email": " "}}]
    send(settings, mocked_http, feature(entries))
    assert "customfield_10075" not in created_fields(mocked_http)
    assert not any("/user/picker" in c.request.url for c in mocked_http.calls)
    mocked_http.calls.reset()
    entries[0]["value"] = {"name": "Maya", "email": "maya.okafor@example.com"}
    mocked_http.get(
        f"{API}/user/picker?query=maya.okafor%40example.com",
        body=raw_fixture("jira/user_picker.json"),
    )
    send(settings, mocked_http, feature(entries))
    assert created_fields(mocked_http)["customfield_10075"] == {
        "accountId": "5b10ac8d82e05b22cc7d4ef5"
    }


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        ({"errorMessages": "Summary is required", "errors": {}}, ": Summary is required"),
        ({"errorMessages": [], "errors": ["Summary is required"]}, ": ['Summary is required']"),
    ],
)
def test_a_refusal_of_another_shape_is_quoted_as_it_came(settings, mocked_http, answer, said):
    mocked_http.post(f"{API}/issue", status=400, json=answer)
    with pytest.raises(RemoteError) as error:
        Jira(settings, feature([]), meta_data()).receive("create_feature")
    assert str(error.value) == f"Jira did not accept POST /issue{said}"
