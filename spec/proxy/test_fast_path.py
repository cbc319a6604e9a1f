"""The fast path answers /configuration, /send_event and /remote_collection with the
bytes Flask's views would send, and passes everything else to Flask."""

import json
import logging

import pytest
from werkzeug.test import Client

from proxy.app import create_app
from proxy.fast_path import ProxyFastPath
from services.core import ConfigurationError, Service, password, select
from services.core.registry import Registry


def projects(meta_data, data):
    if data.secret_key == "wrong":
        raise ConfigurationError(f"bad key {data.secret_key}")
    return [("Écran", 1), ["Two", "2"]]


class Teller(Service):
    schema = (password("secret_key"), select("project", collection=projects))

    def receive_create_feature(self):
        self.meta_data.told = self.payload.feature.name
        self.logger.info(f"told {self.payload.feature.name} é ☃")

    def receive_explode(self):
        raise ConfigurationError(f"bad key {self.data.secret_key}")


@pytest.fixture
def app():
    registry = Registry()
    registry.add(Teller, "spec")
    return create_app(registry)


def event(**changes):
    body = {
        "service_name": "teller",
        "event": "create_feature",
        "user_data": {"secret_key": "sk-0123"},
        "payload": {"feature": {"name": "Écran"}},
        "meta_data": {"kept": [1, 2.5, None, {"deep": True}]},
    }
    body.update(changes)
    return json.dumps(body).encode()


def collection(**changes):
    body = {
        "service_name": "teller",
        "field_name": "project",
        "user_data": {"secret_key": "sk-0123"},
        "meta_data": {},
    }
    body.update(changes)
    return json.dumps(body).encode()


REQUESTS = [
    ("POST", "/send_event", event()),
    ("POST", "/send_event", event(event="no_such_event")),
    ("POST", "/send_event", event(event="explode")),
    ("POST", "/send_event", event(service_name="nobody")),
    ("POST", "/send_event", event(service_name=None)),
    ("POST", "/send_event", event(user_data=[1])),
    ("POST", "/send_event", event(meta_data="x")),
    ("POST", "/send_event", b'{"service_name": "teller", "event": '),
    ("POST", "/send_event", b"[" * 65 + b"]" * 65),
    ("POST", "/send_event", b"[1, 2]"),
    ("POST", "/send_event", b""),
    ("GET", "/send_event", b""),
    ("PUT", "/send_event", event()),
    ("POST", "/send_event/", event()),
    ("POST", "/configuration", event()),
    ("GET", "/configuration", b""),
    ("GET", "/configuration?x=1", b""),
    ("HEAD", "/configuration", b""),
    ("POST", "/remote_collection", collection()),
    ("POST", "/remote_collection", collection(user_data={"secret_key": "wrong"})),
    ("POST", "/remote_collection", collection(field_name="nothing")),
    ("POST", "/remote_collection", collection(service_name="nobody")),
    ("POST", "/remote_collection", collection(meta_data=[])),
    ("POST", "/remote_collection", b"{"),
    ("GET", "/remote_collection", b""),
]


def answers(wsgi_app, method, path, data):
    response = Client(wsgi_app).open(
        path, method=method, data=data, content_type="application/json"
    )
    return response.status, dict(response.headers), response.get_data()


@pytest.mark.parametrize(("method", "path", "data"), REQUESTS)
def test_every_answer_is_the_one_flask_s_view_gives(app, method, path, data):
    assert isinstance(app.wsgi_app, ProxyFastPath)
    flask_only = app.wsgi_app.app
    assert answers(app, method, path, data) == answers(flask_only, method, path, data)


def test_a_handled_event_is_answered_by_the_fast_path(app, monkeypatch):
    monkeypatch.setattr(app.wsgi_app, "app", lambda *_: pytest.fail("reached Flask"))
    status, headers, body = answers(app, "POST", "/send_event", event())
    assert status == "200 OK"
    assert headers == {"Content-Type": "application/json", "Content-Length": str(len(body))}
    assert json.loads(body) == {
        "messages": [
            {"severity": 1, "message": "Sending :create_feature using Teller"},
            {"severity": 1, "message": "told Écran é ☃"},
        ],
        "meta_data": {"kept": [1, 2.5, None, {"deep": True}], "told": "Écran"},
    }
    assert body.endswith(b"}\n") and body.isascii()


def test_a_refused_request_reaches_flask_with_its_body(app):
    status, _, body = answers(app, "POST", "/send_event", event(payload=[]))
    assert status == "400 BAD REQUEST"
    assert json.loads(body) == {"error": "payload must be a JSON object, not an array"}


@pytest.mark.parametrize("length", ["", "-1", "1e3", "²", str(10 * 1024 * 1024 + 1)])
def test_a_body_without_a_usable_length_goes_to_flask(app, length):
    seen = []
    inner = app.wsgi_app.app

    def flask(environ, start_response):
        seen.append(environ.get("CONTENT_LENGTH"))
        return inner(environ, start_response)

    app.wsgi_app.app = flask
    environ = {"CONTENT_LENGTH": length} if length else {}
    response = Client(app).post("/send_event", data=b"{}", environ_overrides=environ)
    assert seen and response.status_code in (400, 413)
    assert "error" in response.get_json()


def test_an_unexpected_failure_is_a_json_500_and_logged(app, monkeypatch, caplog):
    from proxy import fast_path

    def broken(registry, data):
        raise LookupError("no such thing")

    monkeypatch.setattr(fast_path, "answer_event", broken)
    with caplog.at_level(logging.ERROR, logger="services.proxy"):
        status, headers, body = answers(app, "POST", "/send_event", event())
    assert status == "500 INTERNAL SERVER ERROR"
    assert json.loads(body) == {"error": "Internal error: LookupError"}
    assert headers["Content-Length"] == str(len(body))
    assert "Unexpected error in the proxy" in caplog.text


def test_an_app_in_debug_mode_has_no_fast_path(monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")
    assert not isinstance(create_app(Registry()).wsgi_app, ProxyFastPath)


def test_a_remote_collection_is_answered_by_the_fast_path(app, monkeypatch):
    monkeypatch.setattr(app.wsgi_app, "app", lambda *_: pytest.fail("reached Flask"))
    status, _, body = answers(app, "POST", "/remote_collection", collection())
    assert status == "200 OK"
    assert json.loads(body) == [["Écran", 1], ["Two", "2"]]
    status, _, body = answers(
        app, "POST", "/remote_collection", collection(user_data={"secret_key": "wrong"})
    )
    assert status == "500 INTERNAL SERVER ERROR"
    assert json.loads(body)["error"] == "bad key [FILTERED]"


def test_the_configuration_is_answered_by_the_fast_path(app, monkeypatch):
    monkeypatch.setattr(app.wsgi_app, "app", lambda *_: pytest.fail("reached Flask"))
    status, headers, body = answers(app, "GET", "/configuration", b"")
    assert status == "200 OK"
    assert headers["Content-Length"] == str(len(body))
    assert [entry["service_name"] for entry in json.loads(body)["services"]] == ["teller"]
    assert answers(app, "HEAD", "/configuration", b"") == ("200 OK", headers, b"")
