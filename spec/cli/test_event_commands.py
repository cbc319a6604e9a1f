"""``aha-services events``, ``events show``, ``replay`` and ``send --record``."""

import json

import pytest
from click.testing import CliRunner

from services.core import event_log
from services.core.cli import app as cli
from services.core.cli import event_commands
from services.core.event_log import Entry
from spec.conftest import AHA_USER_DATA, request_json

HOOK = "https://hooks.example.com/aha"


def run(*args, input=None):
    return CliRunner().invoke(cli.main, list(args), input=input)


@pytest.fixture
def log(tmp_path, monkeypatch):
    monkeypatch.setenv("AHA_SERVICES_DATA", str(tmp_path))
    return event_log.current()


def recorded(log, event="create_feature", payload=None, kind="send_event"):
    detail = {
        "service_name_as": "development_proxy",
        "request": {
            "user_data": {**AHA_USER_DATA, "hook_url": HOOK},
            "payload": payload or {"feature": {"name": "Export"}},
            "meta_data": {},
        },
        "answer": {"messages": [], "meta_data": {}},
        "outbound": [],
    }
    return log.write_now(
        Entry(kind, "webhooks", event, "ok", 0.0123, detail, [AHA_USER_DATA["aha_api_token"]])
    )


def test_events_prints_one_line_each_oldest_first(log):
    first, second = recorded(log), recorded(log, "update_feature")
    result = run("events")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines] == [str(first), str(second)]
    assert "webhooks" in lines[0] and "create_feature" in lines[0] and "12.3 ms" in lines[0]


def test_events_writes_control_characters_of_an_event_name_as_escapes(log):
    # An event name comes from whoever reached the proxy: it must neither forge a
    # line nor drive the terminal.
    recorded(log, "evil\x1b[31mRED\x1b[0m\nFAKE LINE\r\x07")
    result = run("events")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert len(lines) == 1
    assert "evil\\x1b[31mRED\\x1b[0m\\nFAKE LINE\\r\\x07" in lines[0]
    assert not any(character in result.output for character in "\x1b\r\x07")


def test_events_follow_prints_what_arrives(log, monkeypatch):
    recorded(log)
    polls = []

    def sleep(seconds):
        polls.append(seconds)
        if len(polls) == 1:
            recorded(log, "update_release")
        else:
            raise KeyboardInterrupt

    monkeypatch.setattr(event_commands.time, "sleep", sleep)
    result = run("events", "--follow")
    lines = [line for line in result.output.splitlines() if "webhooks" in line]
    assert ["create_feature" in lines[0], "update_release" in lines[1]] == [True, True]


def test_events_show_prints_the_whole_entry_without_secrets(log):
    entry_id = recorded(log)
    result = run("events", "show", str(entry_id))
    assert result.exit_code == 0
    shown = json.loads(result.output)
    assert shown["detail"]["request"]["user_data"]["aha_api_token"] == "[FILTERED]"
    assert run("events", "show", "999").exit_code == 2


def test_the_commands_say_when_the_log_is_off(monkeypatch):
    monkeypatch.setenv("AHA_SERVICES_EVENT_LOG", "0")
    result = run("events")
    assert result.exit_code == 2 and "The event log is off" in result.output
    monkeypatch.setenv("AHA_SERVICES_EVENT_LOG", "lots")
    assert "AHA_SERVICES_EVENT_LOG" in run("events").output


def test_replay_with_a_new_payload_records_a_linked_event(log, mocked_http, tmp_path, monkeypatch):
    monkeypatch.setenv("AHA_API_TOKEN", "fresh-token-991")
    mocked_http.post(HOOK, status=500)
    first = recorded(log)
    edited = tmp_path / "payload.json"
    edited.write_text(json.dumps({"feature": {"name": "Renamed"}}))
    result = run("replay", str(first), "--payload", f"@{edited}")
    assert result.exit_code == 1
    [call] = mocked_http.calls
    assert (call.request.method, call.request.url) == ("POST", HOOK)
    assert request_json(call) == {"feature": {"name": "Renamed"}}
    assert "Authorization" not in call.request.headers
    replayed = log.recent(1)[0]
    assert replayed["replay_of"] == first and replayed["outcome"] == "failed: RemoteError"
    assert f"Recorded as event {replayed['id']}, a replay of {first}" in result.output
    assert log.get(first)["replays"] == [replayed["id"]]
    assert "fresh-token-991" not in json.dumps(log.get(replayed["id"]))


def test_replay_takes_the_whole_request_on_standard_input(log, mocked_http):
    mocked_http.post(HOOK, status=200)
    first = recorded(log)
    request = {"payload": {"release": {"name": "R1"}}}
    result = run("replay", str(first), "--request", "-", input=json.dumps(request))
    assert result.exit_code == 0
    assert request_json(mocked_http.calls[0]) == {"release": {"name": "R1"}}


def test_replay_refuses_what_it_cannot_run(log):
    assert run("replay", "42").exit_code == 2
    collection = recorded(log, kind="remote_collection")
    result = run("replay", str(collection))
    assert result.exit_code == 2 and "not replayed" in result.output


def test_send_record_names_the_new_event(log, mocked_http, tmp_path):
    mocked_http.post(HOOK, status=200)
    data = json.dumps({"hook_url": HOOK, "aha_api_token": "cli-token-55"})
    result = run("send", "webhooks", "create_feature", "--data", data, "--record")
    assert result.exit_code == 0
    [entry] = log.recent()
    assert f"Recorded as event {entry['id']}" in result.output
    assert "cli-token-55" not in json.dumps(log.get(entry["id"]))
