"""The answer names an error by the class Aha! knows, whatever subclass was raised."""

import json

import pytest

from proxy.app import create_app
from services.core import (
    ConfigurationError,
    InvalidUrlError,
    MissingSetting,
    RemoteError,
    Service,
    TimeLimitExceeded,
    select,
)
from services.core.aha_api import NotFound
from services.core.kits.tracker import RemoteGone
from services.core.registry import load_registry


class RefusedRedirect(InvalidUrlError):
    """A service's own narrowing of InvalidUrlError."""


RAISED = {
    "missing": (lambda: MissingSetting("The Server URL is not set"), "ConfigurationError"),
    "configuration": (lambda: ConfigurationError("Project 7 does not exist"), "ConfigurationError"),
    "remote": (lambda: RemoteError("GET /x answered HTTP 502"), "RemoteError"),
    "not_found": (lambda: RemoteGone("GET /issues/9 answered HTTP 404"), "RemoteError"),
    "aha": (lambda: NotFound("GET", "/api/v1/features/X-1", 404, {}), "RemoteError"),
    "url": (lambda: RefusedRedirect("Refused redirect to http://10.0.0.1/"), "InvalidUrlError"),
    "too_slow": (lambda: TimeLimitExceeded("Past the time limit of 5s"), "RemoteError"),
    "bug": (lambda: KeyError("missing"), "KeyError"),
}


def collection(meta_data, data):
    raise RAISED[data.kind][0]()


class Raiser(Service):
    schema = (select("project", collection=collection),)

    def receive_event(self):
        raise RAISED[self.data.kind][0]()


@pytest.fixture
def client():
    registry = load_registry()
    registry.add(Raiser, "spec")
    return create_app(registry).test_client()


@pytest.mark.parametrize(("kind", "wire_name"), [(k, v[1]) for k, v in RAISED.items()])
def test_send_event_reports_the_class_aha_knows(client, kind, wire_name):
    body = {
        "service_name": "raiser",
        "event": "create_feature",
        "user_data": {"kind": kind},
        "payload": {},
        "meta_data": {"kept": 1},
    }
    answer = client.post("/send_event", data=json.dumps(body), content_type="application/json")
    assert answer.status_code == 200
    exception = answer.get_json()["exception"]
    assert exception["exception_class"] == wire_name
    assert exception["message"] == str(RAISED[kind][0]())
    assert answer.get_json()["meta_data"] == {"kept": 1}


@pytest.mark.parametrize(("kind", "wire_name"), [(k, v[1]) for k, v in RAISED.items()])
def test_remote_collection_reports_the_class_aha_knows(client, kind, wire_name):
    body = {"service_name": "raiser", "field_name": "project", "user_data": {"kind": kind}}
    answer = client.post("/remote_collection", json=body)
    assert answer.status_code == 500
    assert answer.get_json()["exception"]["exception_class"] == wire_name
