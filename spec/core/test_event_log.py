"""The event log: what the proxy records, redacted, kept to its limit, never in the way."""

import json
import socket
import sqlite3
import threading

import pytest

from proxy.app import create_app
from services.core import (
    ConfigurationError,
    Service,
    arbiter_channels,
    event_log,
    event_store,
    password,
    select,
)
from services.core.event_log import Entry, EventLog
from services.core.registry import load_registry
from spec.conftest import AHA_USER_DATA

HOOK = "https://hooks.example.com/aha"
TOKEN = AHA_USER_DATA["aha_api_token"]


@pytest.fixture
def log(tmp_path, monkeypatch) -> EventLog:
    monkeypatch.setenv("AHA_SERVICES_DATA", str(tmp_path))
    current = event_log.current()
    assert current is not None
    return current


def entry(n: int = 0, **detail) -> Entry:
    return Entry("send_event", "webhooks", f"event_{n}", "ok", 0.01, detail, ["s3cret-value"])


def send(body):
    return create_app().test_client().post("/send_event", json=body)


def test_the_log_lives_under_aha_services_data(log, tmp_path):
    assert log.path == tmp_path / "events.sqlite3"
    assert event_log.log_path() == log.path


def test_zero_switches_the_log_off_and_a_bad_value_names_the_setting(monkeypatch):
    monkeypatch.setenv("AHA_SERVICES_EVENT_LOG", "0")
    assert event_log.current() is None
    monkeypatch.setenv("AHA_SERVICES_EVENT_LOG", "many")
    with pytest.raises(event_log.SettingError, match="AHA_SERVICES_EVENT_LOG"):
        event_log.current()


def test_the_last_entries_are_kept(tmp_path):
    log = EventLog(tmp_path / "events.sqlite3", keep=3)
    for n in range(5):
        log.record(entry(n))
    assert log.flush()
    assert [e["event"] for e in log.recent()] == ["event_4", "event_3", "event_2"]
    assert log.get(1) is None


def test_secrets_are_redacted_before_they_are_written(log):
    log.record(entry(note="token s3cret-value", body='{"password": "hunter22"}'))
    assert log.flush()
    stored = sqlite3.connect(log.path).execute("SELECT detail FROM events").fetchone()[0]
    assert "s3cret-value" not in stored and "hunter22" not in stored
    assert json.loads(stored)["note"] == "token [FILTERED]"


def test_a_secret_that_breaks_json_is_redacted_value_by_value(log):
    log.record(Entry("send_event", "webhooks", "e", "ok", 0, {"a": 'x"y', "b": "z"}, ['"']))
    assert log.flush()
    assert log.get(1)["detail"] == {"a": "x[FILTERED]y", "b": "z"}


def test_a_locked_file_delays_the_write_and_loses_nothing(log, monkeypatch):
    monkeypatch.setattr(event_store, "LOCK_WAIT", 0.01)
    log.write_now(entry(0))
    holder = sqlite3.connect(log.path, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    sleeps = []
    monkeypatch.setattr(event_store.time, "sleep", lambda s: (sleeps.append(s), holder.rollback()))
    log.record(entry(1))
    assert log.flush()
    assert sleeps and [e["event"] for e in log.recent()] == ["event_1", "event_0"]


def test_a_full_queue_counts_what_it_drops_and_never_blocks(log, monkeypatch):
    monkeypatch.setattr(event_log, "QUEUE_LIMIT", 1)
    gate = threading.Event()
    monkeypatch.setattr(EventLog, "_write", lambda self, batch: gate.wait(5))
    fresh = EventLog(log.path)
    for n in range(4):
        fresh.record(entry(n))
    gate.set()
    assert fresh.flush()
    assert fresh.dropped >= 2


def test_an_unwritable_file_is_logged_not_raised(tmp_path, caplog):
    (tmp_path / "events.sqlite3").mkdir()
    log = EventLog(tmp_path / "events.sqlite3")
    log.record(entry())
    assert log.flush()
    assert "Could not record events" in caplog.text


def test_a_send_event_is_recorded_with_its_outbound_request_and_no_secret(log, mocked_http):
    mocked_http.post(HOOK, json={"received": True, "token": TOKEN})
    body = {
        "service_name": "webhooks",
        "event": "create_feature",
        "user_data": {**AHA_USER_DATA, "hook_url": HOOK},
        "payload": {"feature": {"name": "Export"}},
        "meta_data": {"seen": 1},
    }
    answer = send(body)
    assert answer.status_code == 200
    assert log.flush()
    [summary] = log.recent()
    assert (summary["service"], summary["event"], summary["outcome"]) == (
        "webhooks",
        "create_feature",
        "ok",
    )
    stored = log.get(summary["id"])
    assert TOKEN not in json.dumps(stored)
    assert stored["detail"]["request"]["user_data"]["aha_api_token"] == "[FILTERED]"
    [call] = stored["detail"]["outbound"]
    assert (call["method"], call["url"], call["status"]) == ("POST", HOOK, 200)
    assert json.loads(call["request_body"]) == body["payload"]
    assert json.loads(call["response_body"]) == {"received": True, "token": "[FILTERED]"}
    assert stored["detail"]["answer"]["meta_data"] == {"seen": 1}


def test_an_ignored_and_a_failed_event_say_so(log, mocked_http):
    mocked_http.post(HOOK, status=500)
    base = {"service_name": "webhooks", "user_data": {"hook_url": HOOK}}
    send({**base, "event": "no_such_event"})
    send({**base, "event": "create_feature"})
    assert log.flush()
    assert [e["outcome"] for e in log.recent()] == ["failed: RemoteError", "ignored"]


def test_nothing_is_recorded_when_the_log_is_off(tmp_path, monkeypatch):
    monkeypatch.setenv("AHA_SERVICES_DATA", str(tmp_path))
    monkeypatch.setenv("AHA_SERVICES_EVENT_LOG", "0")
    assert send({"service_name": "webhooks", "event": "no_such_event"}).status_code == 200
    assert not (tmp_path / "events.sqlite3").exists()


def boards(meta_data, data):
    if data.fail:
        raise ConfigurationError(f"no boards for key {data.api_key}")
    return [("Main", 1)]


class Boards(Service):
    schema = (password("api_key"), select("board", collection=boards))


@pytest.mark.parametrize(("fail", "outcome"), [(False, "ok"), (True, "failed: ConfigurationError")])
def test_a_remote_collection_is_recorded(log, fail, outcome):
    registry = load_registry(use_entry_points=False)
    registry.add(Boards, "spec")
    user_data = {"api_key": "board-key-77", "fail": fail}
    create_app(registry).test_client().post(
        "/remote_collection",
        json={"service_name": "boards", "field_name": "board", "user_data": user_data},
    )
    assert log.flush()
    [summary] = log.recent()
    assert (summary["kind"], summary["service"], summary["event"], summary["outcome"]) == (
        "remote_collection",
        "boards",
        "board",
        outcome,
    )
    detail = log.get(summary["id"])["detail"]
    assert "board-key-77" not in json.dumps(detail)
    assert detail["answer"] == [["Main", 1]] if not fail else "exception" in detail["answer"]


def read_frames(end, count):
    reader, batches = arbiter_channels.FrameReader(), []
    end.settimeout(5)
    while len(batches) < count:
        batches.extend(reader.feed(end.recv(65536)))
    return batches


def test_a_relaying_process_sends_redacted_batches_and_writes_no_file(log, monkeypatch):
    ours, theirs = socket.socketpair()
    monkeypatch.setattr(event_log, "_relay", None)
    event_log.relay_to(theirs, log.path)
    log.record(entry(7, note="token s3cret-value"))
    assert log.flush()
    [rows] = read_frames(ours, 1)
    assert [row["event"] for row in rows] == ["event_7"]
    assert "s3cret-value" not in json.dumps(rows)
    assert json.loads(rows[0]["detail"]) == {"note": "token [FILTERED]"}
    assert not log.path.exists()


def test_a_relay_for_another_file_leaves_this_log_writing_its_own(log, monkeypatch, tmp_path):
    _ours, theirs = socket.socketpair()
    monkeypatch.setattr(event_log, "_relay", None)
    event_log.relay_to(theirs, tmp_path / "elsewhere.sqlite3")
    log.record(entry(1))
    assert log.flush()
    assert [e["event"] for e in log.recent()] == ["event_1"]


def test_a_broken_relay_warns_once_and_never_blocks(log, monkeypatch, caplog):
    ours, theirs = socket.socketpair()
    ours.close()
    monkeypatch.setattr(event_log, "_relay", None)
    event_log.relay_to(theirs, log.path)
    for n in range(3):
        log.record(entry(n))
        assert log.flush()
    warnings = [r for r in caplog.records if "Could not relay events" in r.getMessage()]
    assert len(warnings) == 1


def test_a_forked_child_does_not_use_its_parent_s_relay(log, monkeypatch):
    _ours, theirs = socket.socketpair()
    monkeypatch.setattr(event_log, "_relay", None)
    event_log.relay_to(theirs, log.path)
    monkeypatch.setattr(event_log._relay, "pid", -1)  # as a child sees it after a fork
    log.record(entry(2))
    assert log.flush()
    assert [e["event"] for e in log.recent()] == ["event_2"]
