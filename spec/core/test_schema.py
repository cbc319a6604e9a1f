import pytest

from services.core.schema import (
    FIELD_TYPES,
    Field,
    audit_filter,
    boolean,
    callback_url,
    commands_slack_button,
    confluence_button,
    install_button,
    internal,
    oauth2_button,
    oauth_button,
    password,
    schema_problems,
    select,
    string,
    webhooks_slack_button,
)
from services.core.service import Service


@pytest.mark.parametrize(
    ("factory", "field_type"),
    [(string, "string"), (password, "password"), (boolean, "boolean"), (internal, "internal")],
)
def test_named_fields(factory, field_type):
    field = factory("server_url", description="The URL", required=True)
    assert field == Field(field_type, "server_url", {"description": "The URL", "required": True})
    assert field.to_wire() == {
        "type": field_type,
        "name": "server_url",
        "options": {"description": "The URL", "required": True},
    }
    assert field_type in FIELD_TYPES


@pytest.mark.parametrize(
    ("factory", "name"),
    [
        (callback_url, "callback_url"),
        (install_button, "install_button"),
        (oauth_button, "oauth_button"),
        (oauth2_button, "oauth2_button"),
        (audit_filter, "audit_filter"),
        (commands_slack_button, "commands_slack_button"),
        (webhooks_slack_button, "webhooks_slack_button"),
        (confluence_button, "confluence_button"),
    ],
)
def test_buttons_and_fixed_fields_have_fixed_names(factory, name):
    field = factory(description="Click", label="Go")
    assert field.type == name
    assert field.name == name
    assert field.options == {"description": "Click", "label": "Go"}
    assert field.to_wire() == {"type": name, "name": name, "options": field.options}
    assert name in FIELD_TYPES
    assert factory().options == {}


def test_every_field_type_has_a_dsl_function():
    made = {
        f.type
        for f in (
            string("a"),
            password("a"),
            boolean("a"),
            select("a"),
            internal("a"),
            callback_url(),
            install_button(),
            oauth_button(),
            oauth2_button(),
            audit_filter(),
            commands_slack_button(),
            webhooks_slack_button(),
            confluence_button(),
        )
    }
    assert made == FIELD_TYPES


def test_other_options_pass_through_untouched():
    nested = {"depends_on": ["a", "b"], "values": {"x": 1}}
    field = string("name", description="<b>html</b>", nested=nested, flag=False, count=0)
    assert field.options == {
        "description": "<b>html</b>",
        "nested": {"depends_on": ["a", "b"], "values": {"x": 1}},
        "flag": False,
        "count": 0,
    }
    assert field.to_wire()["options"] == field.options


def test_names_are_stored_as_text():
    assert string(123).name == "123"


def test_fields_are_immutable():
    field = string("a")
    with pytest.raises(AttributeError):
        field.name = "b"


def test_only_password_fields_are_secret():
    assert password("api_key").is_secret is True
    for field in (string("a"), internal("a"), boolean("a"), select("a"), oauth_button()):
        assert field.is_secret is False


def test_select_with_a_static_list_of_pairs():
    field = select("project", [("Alpha", 1), ["Beta", 2]], description="Pick one")
    assert field.type == "select"
    assert field.options == {"collection": [["Alpha", 1], ["Beta", 2]], "description": "Pick one"}
    assert all(type(pair) is list for pair in field.options["collection"])
    assert field.remote_collection is None
    assert field.to_wire() == {
        "type": "select",
        "name": "project",
        "options": {"collection": [["Alpha", 1], ["Beta", 2]], "description": "Pick one"},
    }


def test_select_takes_any_iterable_and_defaults_to_empty():
    assert select("p", (pair for pair in [("A", "a")])).options["collection"] == [["A", "a"]]
    assert select("p").options == {"collection": []}
    assert schema_problems([select("p")]) == []


def test_select_with_a_callable_is_a_remote_collection():
    def projects(meta_data, data):
        return [["A", 1]]

    field = select("project", projects, required=True)
    assert field.remote_collection is projects
    assert field.options == {"collection": projects, "required": True}
    assert field.to_wire() == {
        "type": "select",
        "name": "project",
        "options": {"collection": "remote_collection", "required": True},
    }
    assert field.remote_collection(None, None) == [["A", 1]]


def test_only_the_collection_option_is_replaced_on_the_wire():
    field = string("x", other=len)
    assert field.to_wire()["options"] == {"other": len}
    assert field.remote_collection is None


def test_a_well_formed_schema_has_no_problems():
    fields = [
        string("server_url"),
        password("api_token"),
        boolean("verify_tls"),
        select("project", [["A", 1]]),
        select("board", lambda meta, data: []),
        internal("webhook_secret"),
        callback_url(),
        install_button(),
        oauth2_button(),
        audit_filter(),
    ]
    assert schema_problems(fields) == []
    assert schema_problems([]) == []


def test_schema_problems_unknown_type():
    assert schema_problems([Field("textarea", "notes")]) == ["notes: unknown field type 'textarea'"]


@pytest.mark.parametrize("name", ["", "1st", "has space", "dash-ed", "dot.ted"])
def test_schema_problems_bad_name(name):
    assert schema_problems([string(name)]) == [f"{name!r}: a field name must be an identifier"]


def test_schema_problems_duplicate_names():
    problems = schema_problems([string("url"), password("token"), boolean("url")])
    assert problems == ["url: declared twice"]


def test_schema_problems_button_with_another_name():
    assert schema_problems([Field("install_button", "install")]) == [
        "install: a install_button field must be named install_button"
    ]


@pytest.mark.parametrize(
    "collection",
    [
        [["A", 1], ["B"]],
        [["A", 1, "extra"]],
        ["A", "B"],
        "AB",
        [{"label": "A", "value": 1}],
    ],
)
def test_schema_problems_malformed_select_collection(collection):
    field = Field("select", "project", {"collection": collection})
    assert schema_problems([field]) == ["project: a select collection holds [label, value] pairs"]


def test_select_of_one_element_tuples_is_malformed():
    assert schema_problems([select("p", [("A",)])]) == [
        "p: a select collection holds [label, value] pairs"
    ]


def test_schema_problems_not_a_field():
    assert schema_problems([{"type": "string", "name": "x"}]) == [
        "{'type': 'string', 'name': 'x'} is not a schema Field"
    ]


def test_schema_problems_reports_every_problem():
    problems = schema_problems([string("a"), Field("nope", "a"), "x"])
    assert problems == [
        "a: unknown field type 'nope'",
        "a: declared twice",
        "'x' is not a schema Field",
    ]


# --- schema on a Service --------------------------------------------------------------------


class Tracker(Service):
    title = "Tracker"
    schema = [
        string("server_url"),
        string("username"),
        password("api_token"),
        select("project", [("One", "1")]),
    ]
    white_listed = ["server_url", "project"]


def test_a_service_schema_is_a_tuple_of_fields():
    assert isinstance(Tracker.schema, tuple)
    assert [f.name for f in Tracker.schema] == ["server_url", "username", "api_token", "project"]
    assert schema_problems(Tracker.schema) == []


def test_field_by_name():
    assert Tracker.field_by_name("api_token") == password("api_token")
    assert Tracker.field_by_name("project").options["collection"] == [["One", "1"]]
    assert Tracker.field_by_name("nope") is None


def test_white_listed_limits_loggable_data():
    assert Tracker.white_listed == ("server_url", "project")
    service = Tracker(
        {"server_url": "https://t.example.com", "username": "jo", "api_token": "tok-123"}
    )
    assert service.loggable_data() == {"server_url": "https://t.example.com"}


def test_secret_values_come_from_password_fields_and_the_aha_token():
    data = {"api_token": "tok-123", "username": "jo", "aha_api_token": "aha-456"}
    assert sorted(Tracker.secret_values(Tracker(data).data)) == ["aha-456", "tok-123"]
