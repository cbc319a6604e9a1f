import json
import logging

import pytest

from services.core import ConfigurationError, RemoteError, Service
from services.core.events import run_event


class Keeper(Service):
    """Leaves in meta_data whatever the event name asks for."""

    def receive_keep_set(self):
        self.meta_data.labels = {"a", "b"}
        self.meta_data.project = "PRJ"

    def receive_keep_bytes_deep(self):
        self.meta_data.cache = {"etag": b"\x00\x01", "pages": [1, object(), 3], "ok": True}

    def receive_keep_nan(self):
        self.meta_data.ratio = float("nan")

    def receive_keep_set_then_fail(self):
        self.meta_data.labels = {"a"}
        raise RemoteError("the tracker answered 502")

    def receive_interrupt(self):
        self.meta_data.started = True
        raise KeyboardInterrupt

    def receive_exit(self):
        raise SystemExit(3)

    def receive_generator_exit(self):
        raise GeneratorExit

    def receive_misconfigured(self):
        raise ConfigurationError("The server_url setting is not a URL")

    def receive_broken(self):
        return {}["missing"]


def test_a_value_json_cannot_hold_is_left_out_and_named():
    answer = run_event(Keeper, "keep_set", meta_data={"kept": 1})
    json.dumps(answer, allow_nan=False)
    assert answer["meta_data"] == {"kept": 1, "project": "PRJ"}
    assert answer["exception"]["exception_class"] == "TypeError"
    assert "meta_data.labels holds a set" in answer["exception"]["message"]
    assert answer["messages"][-1]["severity"] == 3
    assert "meta_data.labels holds a set" in answer["messages"][-1]["message"]


def test_nested_values_json_cannot_hold_are_left_out_one_by_one():
    answer = run_event(Keeper, "keep_bytes_deep")
    assert answer["meta_data"] == {"cache": {"pages": [1, 3], "ok": True}}
    message = answer["exception"]["message"]
    assert "meta_data.cache.etag holds a bytes" in message
    assert "meta_data.cache.pages[1] holds a object" in message


def test_a_number_json_cannot_hold_is_left_out():
    answer = run_event(Keeper, "keep_nan")
    assert answer["meta_data"] == {}
    assert "meta_data.ratio is nan" in answer["exception"]["message"]


def test_the_service_s_own_exception_stays_the_answer_s_exception():
    answer = run_event(Keeper, "keep_set_then_fail")
    assert answer["exception"]["exception_class"] == "RemoteError"
    assert "meta_data.labels holds a set" in answer["messages"][-1]["message"]
    assert answer["meta_data"] == {}


@pytest.mark.parametrize(
    ("event", "name"),
    [
        ("interrupt", "KeyboardInterrupt"),
        ("exit", "SystemExit"),
        ("generator_exit", "GeneratorExit"),
    ],
)
def test_an_interrupt_or_exit_is_an_event_that_failed(event, name):
    answer = run_event(Keeper, event, meta_data={"kept": 1})
    assert answer["exception"]["exception_class"] == name
    assert answer["meta_data"]["kept"] == 1


def test_a_service_error_is_one_log_line(caplog):
    caplog.set_level(logging.ERROR, logger="services.events")
    run_event(Keeper, "misconfigured")
    [record] = caplog.records
    assert record.getMessage() == (
        "keeper :misconfigured failed: ConfigurationError: The server_url setting is not a URL"
    )
    assert record.exc_info is None
    assert getattr(record, "details", None) is None


def test_an_unexpected_exception_is_logged_with_its_traceback(caplog):
    caplog.set_level(logging.ERROR, logger="services.events")
    run_event(Keeper, "broken", user_data={"aha_api_token": "aha-secret-token-123"})
    [record] = caplog.records
    assert record.getMessage() == "Unhandled exception in keeper :broken: KeyError: 'missing'"
    assert "Traceback (most recent call last)" in record.details
    assert "receive_broken" in record.details


class Quiet(Service):
    """Handles one event; every other is ignored without building the service."""

    schema = ()
    secret_settings = ("api_token",)
    secret_meta_data = ("refresh_token",)

    def receive_create_feature(self):
        self.logger.info("created")


def test_an_ignored_event_is_answered_without_building_the_service(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the service was built for an ignored event")

    monkeypatch.setattr(Quiet, "data", property(refuse))
    monkeypatch.setattr(Quiet, "meta_data", property(refuse))
    answer = run_event(Quiet, "update_release", meta_data={"kept": [1, {"a": None}]})
    assert answer == {
        "messages": [{"severity": 1, "message": "Quiet ignoring event :update_release"}],
        "meta_data": {"kept": [1, {"a": None}]},
    }


def test_an_ignored_event_s_line_is_redacted_like_a_handled_one(caplog):
    caplog.set_level(logging.INFO, logger="services")
    answer = run_event(
        Quiet,
        "tok-123_r-9",
        user_data={"api_token": "tok-123", "aha_api_token": "r-9x"},
        meta_data={"refresh_token": "r-9"},
    )
    assert answer["messages"][0]["message"] == "Quiet ignoring event :[FILTERED]_[FILTERED]"
    assert "tok-123" not in caplog.text and "r-9" not in caplog.text


def test_an_ignored_event_with_a_value_json_cannot_hold_is_still_answered():
    answer = run_event(Quiet, "update_release", meta_data={"ratio": float("inf")})
    assert answer["meta_data"] == {}
    assert "meta_data.ratio is inf" in answer["exception"]["message"]


def test_a_service_that_builds_itself_its_own_way_is_built_for_every_event():
    built = []

    class Custom(Quiet):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            built.append(self)

    assert not Custom.ignores("update_release") and Quiet.ignores("update_release")
    answer = run_event(Custom, "update_release")
    assert len(built) == 1
    assert answer["messages"] == [
        {"severity": 1, "message": "Custom ignoring event :update_release"}
    ]


@pytest.mark.parametrize("event", ["create_feature", "CREATE_FEATURE", "", "x y"])
def test_ignores_agrees_with_receive(event):
    service = Quiet().receive(event)
    assert Quiet.ignores(event) == (service.logger.messages[-1]["message"] != "created")
