"""What gunicorn serves: the fast path, with Flask built only when a request needs it."""

import subprocess
import sys

import pytest
from werkzeug.test import Client

from proxy import serving
from proxy.fast_path import ProxyFastPath
from services.core import Service
from services.core.registry import Registry


class Quiet(Service):
    pass


@pytest.fixture
def registry():
    found = Registry()
    found.add(Quiet, "spec")
    return found


def test_flask_is_built_once_by_the_first_request_it_must_answer(registry, monkeypatch):
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    app = serving.serving_app(registry)
    assert isinstance(app, ProxyFastPath)
    built = []
    real = app.app._build
    monkeypatch.setattr(app.app, "_build", lambda: built.append(1) or real())
    client = Client(app)
    assert client.get("/configuration").status_code == 200
    ignored = {"service_name": "quiet", "event": "nothing", "payload": {}}
    assert client.post("/send_event", json=ignored).status_code == 200
    assert built == []
    refused = client.post("/send_event", json={"service_name": "nobody"})
    assert refused.status_code == 404
    assert refused.get_json() == {"error": "Unknown service: 'nobody'"}
    assert client.get("/nowhere").status_code == 404
    assert built == [1]


def test_debug_mode_serves_flask_alone(registry, monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")
    app = serving.serving_app(registry)
    assert not isinstance(app, ProxyFastPath)
    assert Client(app).get("/configuration").status_code == 200


@pytest.mark.parametrize("value", ["", "0", "false", "No"])
def test_debug_mode_is_off_as_flask_reads_it(monkeypatch, value):
    monkeypatch.setenv("FLASK_DEBUG", value)
    assert serving.debug_requested() is False


def test_a_failed_service_module_is_named_once_at_start(registry, caplog):
    registry.fail("services.broken", ImportError("no module named nowhere"))
    serving.serving_app(registry)
    assert caplog.text.count("Could not load services.broken") == 1


PROBE = """
import json, sys
from werkzeug.test import Client
from proxy.wsgi import app
loaded = lambda: sorted(n for n in ("flask", "requests") if n in sys.modules)
client = Client(app)
services = json.loads(client.get("/configuration").get_data())["services"]
event = {"service_name": "slack", "event": "no_such_event", "payload": {}}
answer = json.loads(client.post("/send_event", json=event).get_data())
print(len(services) > 20, answer["meta_data"], loaded())
print(client.post("/send_event", data=b"{").status_code, loaded())
"""


def test_a_worker_answers_aha_s_requests_without_importing_flask(monkeypatch):
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    monkeypatch.setenv("AHA_SERVICES_EVENT_LOG", "0")
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.splitlines() == ["True {} []", "400 ['flask']"]


def test_a_flask_app_that_cannot_be_built_is_answered_as_json_and_tried_again(
    registry, monkeypatch, caplog
):
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    app = serving.serving_app(registry)
    real, calls = app.app._build, []

    def broken():
        calls.append(1)
        if len(calls) == 1:
            raise SyntaxError("invalid syntax (app.py, line 3)")
        return real()

    monkeypatch.setattr(app.app, "_build", broken)
    client = Client(app)
    refused = client.get("/nowhere")
    assert refused.status_code == 500
    assert refused.get_json() == {
        "error": "The proxy could not load: SyntaxError: invalid syntax (app.py, line 3)"
    }
    assert "The proxy could not load" in caplog.text
    assert client.get("/configuration").status_code == 200
    assert client.get("/nowhere").status_code == 404
    assert calls == [1, 1]
