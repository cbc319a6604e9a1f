"""Every malformed request is a 4xx with a JSON error naming what is wrong."""

import json
import logging

import pytest

from proxy.app import create_app
from services.core import ConfigurationError, Service, select
from services.core.registry import Registry


def labels(meta_data, data):
    if data.interrupt:
        raise KeyboardInterrupt
    if data.fail:
        raise ConfigurationError("no labels for this account")
    return [[label, label] for label in meta_data.labels]


class Hoarder(Service):
    schema = (select("label", collection=labels),)

    def receive_hoard(self):
        self.meta_data.seen = {"a", "b"}
        self.meta_data.count = 2


@pytest.fixture
def client(monkeypatch):
    monkeypatch.setenv("AHA_SERVICES_MAX_BODY", "4096")
    registry = Registry()
    registry.add(Hoarder, "spec")
    return create_app(registry).test_client()


def post(client, path, body):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(path, data=data, content_type="application/json")


EVENT = {"service_name": "hoarder", "event": "hoard"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"user_data": [1]}, "user_data must be a JSON object, not an array"),
        ({"payload": "text"}, "payload must be a JSON object, not a string"),
        ({"meta_data": 5}, "meta_data must be a JSON object, not a number"),
        ({"service_name": 7}, "service_name must be a non-empty string, not a number"),
        ({"service_name": None}, "service_name must be a non-empty string, not missing"),
        ({"event": ["hoard"]}, "event must be a non-empty string, not an array"),
        ({"event": True}, "event must be a non-empty string, not a boolean"),
    ],
)
def test_a_member_of_the_wrong_type_is_a_400_naming_it(client, changes, message):
    answer = post(client, "/send_event", {**EVENT, **changes})
    assert answer.status_code == 400
    assert answer.get_json() == {"error": message}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"meta_data": []}, "meta_data must be a JSON object, not an array"),
        ({"user_data": "x"}, "user_data must be a JSON object, not a string"),
        ({"field_name": 3}, "field_name must be a non-empty string, not a number"),
        ({"field_name": None}, "field_name must be a non-empty string, not missing"),
    ],
)
def test_a_remote_collection_member_of_the_wrong_type_is_a_400(client, changes, message):
    body = {"service_name": "hoarder", "field_name": "label", **changes}
    answer = post(client, "/remote_collection", body)
    assert answer.status_code == 400
    assert answer.get_json() == {"error": message}


@pytest.mark.parametrize("body", [b"[" * 1000 + b"]" * 1000, b'{"a": ' * 100 + b"1" + b"}" * 100])
def test_a_deeply_nested_body_is_a_400(client, body):
    answer = post(client, "/send_event", body)
    assert answer.status_code == 400
    assert answer.get_json() == {"error": "The request body is nested deeper than 64 levels"}


def test_deep_nesting_inside_a_member_is_a_400(client):
    deep: dict = {}
    for _ in range(70):
        deep = {"d": deep}
    answer = post(client, "/send_event", {**EVENT, "payload": deep})
    assert answer.status_code == 400
    assert "nested deeper than 64 levels" in answer.get_json()["error"]


def test_a_body_over_the_limit_is_a_413(client):
    answer = post(client, "/send_event", {**EVENT, "payload": {"text": "x" * 5000}})
    assert answer.status_code == 413
    assert set(answer.get_json()) == {"error"}


def test_meta_data_json_cannot_hold_still_gets_an_answer(client):
    answer = post(client, "/send_event", {**EVENT, "meta_data": {"kept": True}})
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["meta_data"] == {"kept": True, "count": 2}
    assert body["exception"]["exception_class"] == "TypeError"
    assert "meta_data.seen holds a set" in body["exception"]["message"]
    assert body["messages"][0]["message"] == "Sending :hoard using Hoarder"


def test_a_failing_remote_collection_is_logged_like_a_failing_event(client, caplog):
    caplog.set_level(logging.ERROR, logger="services.events")
    body = {"service_name": "hoarder", "field_name": "label", "user_data": {"fail": True}}
    answer = post(client, "/remote_collection", body)
    assert answer.status_code == 500
    assert answer.get_json()["exception"]["exception_class"] == "ConfigurationError"
    assert [r.getMessage() for r in caplog.records] == [
        "hoarder remote collection label failed: ConfigurationError: no labels for this account"
    ]


def test_a_remote_collection_raising_keyboard_interrupt_is_a_500(client):
    body = {"service_name": "hoarder", "field_name": "label", "user_data": {"interrupt": True}}
    answer = post(client, "/remote_collection", body)
    assert answer.status_code == 500
    assert answer.get_json()["exception"]["exception_class"] == "KeyboardInterrupt"
