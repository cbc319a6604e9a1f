"""The console's pages, read through Flask's test client."""

import json

import pytest

from console import runner
from console.app import create_app
from proxy.app import create_app as create_proxy
from services.core import event_log
from services.core.event_log import Entry
from services.core.registry import LoadFailure, load_registry
from spec.conftest import AHA_USER_DATA

TOKEN = AHA_USER_DATA["aha_api_token"]
HOOK = "https://hooks.example.com/aha"


@pytest.fixture
def log(tmp_path, monkeypatch):
    monkeypatch.setenv("AHA_SERVICES_DATA", str(tmp_path))
    return event_log.current()


@pytest.fixture
def registry():
    registry = load_registry(use_entry_points=False)
    registry.failures.append(LoadFailure("services.half", "SyntaxError: oops", "Traceback: x"))
    return registry


@pytest.fixture(autouse=True)
def short_polls(monkeypatch):
    from console import views

    monkeypatch.setattr(views, "STREAM_POLL", 0.01)


@pytest.fixture
def client(registry):
    app = create_app(registry)
    app.config["STREAM_LIFETIME"] = 0.3
    return app.test_client()


def proxy_event(log, mocked_http, **extra):
    mocked_http.post(HOOK, json={"ok": True})
    body = {
        "service_name": "webhooks",
        "event": "create_feature",
        "user_data": {**AHA_USER_DATA, "hook_url": HOOK},
        "payload": {"feature": {"name": "Export"}},
        "meta_data": {"count": 1},
        **extra,
    }
    create_proxy().test_client().post("/send_event", json=body)
    assert log.flush()
    return log.recent(1)[0]["id"]


def test_the_services_page_lists_every_service_and_the_failures(client, registry):
    page = client.get("/").get_data(as_text=True)
    for service in registry:
        assert f'id="{service.service_name}"' in page
    assert "services.half: SyntaxError: oops" in page
    assert "<h1>Integration webhook (`webhooks`)</h1>" not in page  # rendered, not raw
    assert "<h1>Integration webhook (<code>webhooks</code>)</h1>" in page


def test_the_event_page_shows_the_request_answer_outbound_and_diff(client, log, mocked_http):
    entry_id = proxy_event(log, mocked_http)
    events = client.get("/events").get_data(as_text=True)
    assert f'href="/events/{entry_id}"' in events
    page = client.get(f"/events/{entry_id}").get_data(as_text=True)
    assert f"POST {HOOK}" in page and "<strong>200</strong>" in page
    assert "Export" in page and TOKEN not in page
    assert "[FILTERED]" in page
    assert client.get("/events/999").status_code == 404


def test_the_stream_pushes_new_entries_without_secrets(client, log, mocked_http):
    entry_id = proxy_event(log, mocked_http)
    text = client.get("/events/stream?after=0").get_data(as_text=True)
    assert f"id: {entry_id}\n" in text
    data = [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: ")]
    assert data[0]["service"] == "webhooks" and data[0]["outcome"] == "ok"
    assert TOKEN not in text
    later = client.get("/events/stream", headers={"Last-Event-ID": str(entry_id)})
    assert "data:" not in later.get_data(as_text=True)


def test_replay_runs_the_command_line_and_shows_the_new_event(client, log, monkeypatch):
    log.write_now(Entry("send_event", "webhooks", "create_feature", "ok", 0, {"request": {}}))
    calls = []

    def replay(entry_id, request, cwd):
        calls.append((entry_id, request))
        return runner.Run(7, "")

    monkeypatch.setattr(runner, "replay", replay)
    form = {"payload": '{"a": 1}', "user_data": "{}", "meta_data": "{}"}
    answer = client.post("/events/1/replay", data=form)
    assert (answer.status_code, answer.location) == (303, "/events/7")
    assert calls == [(1, {"payload": {"a": 1}, "user_data": {}, "meta_data": {}})]
    bad = client.post("/events/1/replay", data={"payload": "[1"})
    assert "error=payload" in bad.location


def test_a_form_from_another_site_or_host_is_refused(client, log):
    assert client.post("/send", headers={"Origin": "https://evil.example"}).status_code == 403
    assert client.get("/", headers={"Host": "evil.example:4568"}).status_code == 403


def test_send_a_fixture_runs_it_recorded(client, monkeypatch):
    sent = []
    monkeypatch.setattr(runner, "send", lambda *args: (sent.append(args), runner.Run(3, ""))[1])
    page = client.get("/send").get_data(as_text=True)
    assert "create_feature_event.json" in page
    fixture = "create_feature_event.json"
    form = {"service": "webhooks", "event": "create_feature", "fixture": fixture}
    answer = client.post("/send", data={**form, "user_data": '{"hook_url": "x"}'})
    assert answer.location == "/events/3"
    assert sent[0][:3] == ("webhooks", "create_feature", {"hook_url": "x"})
    escape = client.post("/send", data={**form, "fixture": "../../pyproject.toml"})
    assert "error=" in escape.location


def test_the_runner_runs_the_command_line(tmp_path, monkeypatch):
    monkeypatch.setenv("AHA_SERVICES_DATA", str(tmp_path))
    fixture = tmp_path / "payload.json"
    fixture.write_text("{}")
    done = runner.send("webhooks", "no_such_event", {}, fixture, tmp_path)
    assert done.entry_id == 1
    replayed = runner.replay(1, {"payload": {"b": 2}}, tmp_path)
    assert replayed.entry_id == 2


def test_every_console_path_is_404_on_the_proxy(log):
    proxy = create_proxy().test_client()
    console = create_app()
    for rule in console.url_map.iter_rules():
        path = rule.rule.replace("<int:entry_id>", "1").replace("<path:filename>", "console.css")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            answer = proxy.open(path, method=method)
            assert answer.status_code == 404, (method, path)


def test_the_pages_when_the_log_is_off_or_a_run_records_nothing(monkeypatch):
    monkeypatch.setenv("AHA_SERVICES_EVENT_LOG", "0")
    app = create_app()
    app.config["STREAM_LIFETIME"] = 0.1
    client = app.test_client()
    assert "The event log is off" in client.get("/events").get_data(as_text=True)
    assert "data:" not in client.get("/events/stream").get_data(as_text=True)
    assert client.get("/events/1").status_code == 404
    monkeypatch.setattr(runner, "send", lambda *args: runner.Run(None, "boom"))
    form = {"service": "webhooks", "event": "e", "fixture": "create_feature_event.json"}
    assert "error=boom" in client.post("/send", data=form).location
    bad = client.post("/send", data={**form, "user_data": "{"})
    assert "error=user_data" in bad.location


def test_replays_that_cannot_run_say_why(client, log, monkeypatch):
    from console import views

    monkeypatch.setattr(views, "STREAM_KEEPALIVE", 0)
    log.write_now(Entry("send_event", "webhooks", "e", "ok", 0, {"request": {}}))
    log.write_now(Entry("remote_collection", "webhooks", "f", "ok", 0, {"request": {}}))
    monkeypatch.setattr(runner, "replay", lambda *args: runner.Run(None, "it broke"))
    assert "error=it" in client.post("/events/1/replay", data={}).location
    assert "must+be" in client.post("/events/1/replay", data={"payload": "[]"}).location
    assert client.post("/events/2/replay", data={}).status_code == 400
    assert "Answer" in client.get("/events/2").get_data(as_text=True)
    assert ": keep-alive" in client.get("/events/stream").get_data(as_text=True)
