import json

import pytest
from werkzeug.test import Client

from proxy.app import create_app
from services.core import ConfigurationError, Service, password, select, string
from services.core.registry import LoadFailure, Registry, load_registry
from spec.conftest import json_fixture, request_json


def projects(meta_data, data):
    if data.fail:
        raise ConfigurationError(f"cannot list projects with {data.secret_key}")
    return [(p.name, p.id) for p in meta_data.projects]


class Recorder(Service):
    schema = (
        string("server_url"),
        password("secret_key"),
        select("project", collection=projects, description="Project"),
        select("kind", collection=[("Bug", "bug"), ("Story", "story")]),
    )

    def receive_create_feature(self):
        feature = self.payload.feature
        self.meta_data.seen_as = self.service_name
        self.api.create_integration_fields(
            "features", feature.reference_num, self.data.integration_id, {"id": "318"}
        )

    def receive_explode(self):
        self.meta_data.progress = "half way"
        raise ConfigurationError(
            f"bad key {self.data.secret_key} and token {self.data.aha_api_token}"
        )

    def receive_crash(self):
        raise ZeroDivisionError("division by zero")


@pytest.fixture
def client():
    registry = load_registry()
    registry.add(Recorder, "spec")
    registry.failures.append(LoadFailure("services.halfwritten", "SyntaxError: oops"))
    return create_app(registry).test_client()


def send(client, **body):
    return client.post("/send_event", data=json.dumps(body), content_type="application/json")


def test_configuration_lists_every_service_in_the_wire_shape(client):
    answer = client.get("/configuration")
    assert answer.status_code == 200
    assert answer.mimetype == "application/json"
    services = {s["service_name"]: s for s in answer.get_json()["services"]}
    assert {
        "webhooks",
        "audit_webhook",
        "security_webhook",
        "development_proxy",
        "recorder",
    } <= set(services)
    recorder = services["recorder"]
    assert recorder["title"] == "Recorder"
    assert recorder["schema"] == [
        {"type": "string", "name": "server_url", "options": {}},
        {"type": "password", "name": "secret_key", "options": {}},
        {
            "type": "select",
            "name": "project",
            "options": {"collection": "remote_collection", "description": "Project"},
        },
        {
            "type": "select",
            "name": "kind",
            "options": {"collection": [["Bug", "bug"], ["Story", "story"]]},
        },
    ]
    for service in services.values():
        assert set(service) == {"service_name", "title", "schema"}
        for entry in service["schema"]:
            assert set(entry) == {"type", "name", "options"}


def test_an_ignored_event_answers_messages_and_meta_data(client, user_data):
    answer = send(
        client,
        service_name="webhooks",
        event="create_comment",
        user_data=user_data,
        payload={},
        meta_data={"kept": [1, 2]},
    )
    assert answer.status_code == 200
    assert answer.get_json() == {
        "messages": [
            {"severity": 1, "message": "Integration webhook ignoring event :create_comment"}
        ],
        "meta_data": {"kept": [1, 2]},
    }


def test_during_an_event_the_service_name_reads_development_proxy(client, user_data, mocked_http):
    mocked_http.post(
        "https://acme.aha.io/api/v1/features/ACME-12/integrations/4242/fields",
        json={"integration_fields": []},
    )
    answer = send(
        client,
        service_name="recorder",
        event="create_feature",
        user_data=user_data,
        payload=json_fixture("create_feature_event.json"),
        meta_data={},
    ).get_json()
    assert "exception" not in answer
    assert answer["meta_data"] == {"seen_as": "development_proxy"}
    assert Recorder.service_name == "recorder"
    call = mocked_http.calls[0]
    assert call.request.method == "POST"
    assert call.request.headers["Authorization"] == f"Bearer {user_data['aha_api_token']}"
    assert request_json(call) == {"integration_fields": [{"name": "id", "value": "318"}]}


def test_a_raising_service_answers_an_exception_block_without_secrets(client, user_data):
    user_data["secret_key"] = "sk-live-9f8e7d"
    answer = send(
        client,
        service_name="recorder",
        event="explode",
        user_data=user_data,
        payload={},
        meta_data={"before": True},
    )
    assert answer.status_code == 200
    body = answer.get_json()
    exception = body["exception"]
    assert exception["exception_class"] == "ConfigurationError"
    assert exception["message"] == "bad key [FILTERED] and token [FILTERED]"
    assert any("receive_explode" in line for line in exception["backtrace"])
    assert body["meta_data"] == {"before": True, "progress": "half way"}
    text = answer.get_data(as_text=True)
    assert "sk-live-9f8e7d" not in text
    assert user_data["aha_api_token"] not in text


def test_an_unexpected_exception_is_reported_and_the_proxy_keeps_serving(client):
    answer = send(client, service_name="recorder", event="crash", user_data={}, payload={})
    assert answer.get_json()["exception"]["exception_class"] == "ZeroDivisionError"
    assert client.get("/configuration").status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ("{not json", 400, "Malformed JSON"),
        ("", 400, "Malformed JSON"),
        ('{"service_name": "webhooks", "event": "x", "meta_data": {"a": NaN}}', 400, "NaN"),
        ('{"service_name": "webhooks", "event": "x", "payload": [-Infinity]}', 400, "Infinity"),
        ("[1, 2]", 400, "must be a JSON object"),
        ('{"service_name": "nope", "event": "x"}', 404, "Unknown service: 'nope'"),
        ('{"service_name": 7, "event": "x"}', 400, "service_name must be a non-empty string"),
        ('{"service_name": "webhooks"}', 400, "event must be a non-empty string"),
        ('{"service_name": "webhooks", "event": "x", "payload": [1]}', 400, "payload must be"),
        ('{"service_name": "webhooks", "event": "x", "user_data": "a"}', 400, "user_data must be"),
    ],
)
def test_bad_requests_get_json_errors(client, body, status, error):
    answer = client.post("/send_event", data=body, content_type="application/json")
    assert answer.status_code == status
    assert answer.mimetype == "application/json"
    assert error in answer.get_json()["error"]


def test_unknown_routes_and_methods_answer_json(client):
    missing = client.get("/nothing-here")
    assert (missing.status_code, missing.mimetype) == (404, "application/json")
    wrong = client.get("/send_event")
    assert (wrong.status_code, wrong.mimetype) == (405, "application/json")
    assert "error" in wrong.get_json()


def test_remote_collection_answers_label_value_pairs(client):
    answer = client.post(
        "/remote_collection",
        json={
            "service_name": "recorder",
            "field_name": "project",
            "meta_data": {"projects": [{"name": "Web", "id": 1}, {"name": "Mobile", "id": 2}]},
            "user_data": {},
        },
    )
    assert answer.status_code == 200
    assert answer.get_json() == [["Web", 1], ["Mobile", 2]]


@pytest.mark.parametrize(
    "body",
    [
        {"service_name": "recorder", "field_name": "nope"},
        {"service_name": "recorder", "field_name": "kind"},
    ],
)
def test_remote_collection_of_an_unknown_field_is_404(client, body):
    answer = client.post("/remote_collection", json=body)
    assert answer.status_code == 404
    assert "Unknown remote collection field" in answer.get_json()["error"]


def test_remote_collection_of_an_unknown_service_is_404(client):
    answer = client.post("/remote_collection", json={"service_name": "zzz", "field_name": "x"})
    assert answer.status_code == 404


def test_remote_collection_malformed_json_is_400(client):
    answer = client.post("/remote_collection", data="{", content_type="application/json")
    assert answer.status_code == 400


def test_a_raising_remote_collection_is_a_json_error_without_secrets(client):
    answer = client.post(
        "/remote_collection",
        json={
            "service_name": "recorder",
            "field_name": "project",
            "meta_data": {},
            "user_data": {"fail": True, "secret_key": "sk-live-9f8e7d"},
        },
    )
    assert answer.status_code == 500
    body = answer.get_json()
    assert body["error"] == "cannot list projects with [FILTERED]"
    assert body["exception"]["exception_class"] == "ConfigurationError"
    assert "sk-live-9f8e7d" not in answer.get_data(as_text=True)


def test_a_module_that_failed_to_load_does_not_hide_the_others(client, caplog):
    assert len(client.get("/configuration").get_json()["services"]) >= 5


def test_load_failures_are_logged_at_start(caplog):
    registry = Registry()
    registry.failures.append(LoadFailure("services.halfwritten", "SyntaxError: oops", "tb"))
    with caplog.at_level("ERROR"):
        create_app(registry)
    assert "Could not load services.halfwritten: SyntaxError: oops" in caplog.text


def test_an_event_for_a_service_whose_module_failed_says_why_on_both_paths(client):
    answer = send(client, service_name="halfwritten", event="create_feature")
    assert answer.status_code == 404
    assert answer.get_json() == {
        "error": "Unknown service: 'halfwritten' (services.halfwritten could not load: "
        "SyntaxError: oops)"
    }
    flask_only = client.application.wsgi_app.app
    body = json.dumps({"service_name": "halfwritten", "field_name": "x"})
    response = Client(flask_only).post(
        "/remote_collection", data=body, content_type="application/json"
    )
    assert response.status_code == 404
    assert "could not load: SyntaxError: oops" in response.get_json()["error"]
