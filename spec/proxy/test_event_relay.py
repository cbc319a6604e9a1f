"""The proxy's workers relay their event log to the arbiter, which stores it: a worker
never loads SQLite, and nothing recorded is lost on the way."""

import os
import socket
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from proxy import event_relay
from services.core import arbiter_channels, event_log, event_store
from spec.conftest import without_coverage
from spec.proxy.live_server import live_server, wait_until

ROW = {
    "at": 1.0,
    "kind": "send_event",
    "service": "webhooks",
    "event": "create_feature",
    "outcome": "ok",
    "duration": 0.1,
    "replay_of": None,
    "detail": "{}",
}


@pytest.fixture
def relay(tmp_path):
    store = event_relay._load_store()
    return event_relay.EventRelay(store, tmp_path / "events.sqlite3", keep=10)


def stored_events(path: Path) -> list[str]:
    if not path.exists():
        return []
    with closing(event_store.connect(path)) as connection:
        return [row["event"] for row in connection.execute("SELECT event FROM events ORDER BY id")]


def test_the_arbiter_stores_what_each_worker_relays(relay):
    first, second = relay.channel_for(1), relay.channel_for(2)
    first.sendall(arbiter_channels.frame([{**ROW, "event": "one"}]))
    second.sendall(arbiter_channels.frame([{**ROW, "event": "two"}, {**ROW, "event": "three"}]))
    wait_until(lambda: len(stored_events(relay.path)) == 3, 5, "three stored rows")
    assert sorted(stored_events(relay.path)) == ["one", "three", "two"]


def test_a_worker_that_exits_leaves_its_last_batch_stored_and_its_channel_closed(relay):
    channel = relay.channel_for(1)
    channel.sendall(arbiter_channels.frame([{**ROW, "event": "last"}]))
    channel.close()  # the worker's own copy, gone with the worker
    relay.worker_exited(1)
    wait_until(lambda: stored_events(relay.path) == ["last"], 5, "the last batch")
    wait_until(lambda: not relay._reading, 5, "the channel to close")


def test_the_arbiter_stopping_stores_what_its_exited_workers_sent_first(relay):
    channel = relay.channel_for(1)
    channel.sendall(arbiter_channels.frame([{**ROW, "event": f"e{n}"} for n in range(8)]))
    channel.close()
    relay.worker_exited(1)
    assert relay.drain(5)
    assert stored_events(relay.path) == [f"e{n}" for n in range(8)]


def test_the_arbiter_stops_waiting_for_a_worker_that_never_exits(relay, monkeypatch, caplog):
    relay.channel_for(1)
    monkeypatch.setattr(event_relay, "_relay", relay)
    monkeypatch.setattr(event_relay, "_DRAIN_LIMIT", 0.1)
    event_relay.on_exit(None)
    assert "still on their way" in caplog.text


def test_a_relay_that_never_had_a_worker_drains_at_once(relay):
    assert relay.drain(0)


def test_a_channel_that_sends_no_frame_is_dropped_and_the_others_go_on(relay, caplog):
    broken, good = relay.channel_for(1), relay.channel_for(2)
    broken.sendall(b"\xff\xff\xff\xffjunk")
    wait_until(lambda: "Dropped a worker's event log relay" in caplog.text, 5, "the warning")
    good.sendall(arbiter_channels.frame([{**ROW, "event": "fine"}]))
    wait_until(lambda: stored_events(relay.path) == ["fine"], 5, "the good row")


@pytest.mark.parametrize(
    "garbage",
    [
        len(b"[" * 100_000).to_bytes(4, "big") + b"[" * 100_000,  # deeper than Python reads
        arbiter_channels.frame([]),  # no row: once crashed on an empty table
        arbiter_channels.frame([{**ROW, "duration": 10**30}]),  # too large for SQLite
        arbiter_channels.frame([{**ROW, "replay_of": "one"}, ROW]),
        arbiter_channels.frame([["a", "row", "as", "a", "list"]]) * 3,
    ],
    ids=["deep", "empty", "huge-number", "wrong-type", "list-rows-thrice"],
)
def test_a_worker_that_relays_garbage_is_dropped_with_one_warning(relay, caplog, garbage):
    broken, good = relay.channel_for(1), relay.channel_for(2)
    broken.sendall(garbage)
    wait_until(lambda: "Dropped a worker's event log relay" in caplog.text, 5, "the warning")
    good.sendall(arbiter_channels.frame([{**ROW, "event": "fine"}]))
    wait_until(lambda: stored_events(relay.path) == ["fine"], 5, "the good row")
    assert caplog.text.count("Dropped") == 1
    assert "Traceback" not in caplog.text
    assert broken.recv(16) == b""  # the arbiter's end closed


def test_a_forked_worker_keeps_only_its_own_end_and_the_arbiter_all_of_its_own(relay):
    mine, other = relay.channel_for(1), relay.channel_for(2)
    child = os.fork()
    if child == 0:  # the worker: only its own end left open
        kept = relay.keep_only(1)
        os._exit(0 if kept == [mine] and mine.fileno() >= 0 and other.fileno() == -1 else 1)
    assert os.waitpid(child, 0)[1] == 0
    other.sendall(arbiter_channels.frame([{**ROW, "event": "after the fork"}]))
    wait_until(lambda: stored_events(relay.path) == ["after the fork"], 5, "the row")


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs Linux's /proc")
def test_a_worker_forked_after_the_arbiter_wrote_inherits_no_open_log_file(relay, monkeypatch):
    monkeypatch.setattr(event_relay, "_relay", relay)
    channel = relay.channel_for(1)
    channel.sendall(arbiter_channels.frame([{**ROW, "event": "before"}]))
    wait_until(lambda: stored_events(relay.path) == ["before"], 5, "the first row")
    child = os.fork()
    if child == 0:  # the new worker: none of the arbiter's files of the log
        try:
            inherited = [name for name in _open_files(os.getpid()) if str(relay.path) in name]
        finally:
            os._exit(1 if inherited else 0)
    assert os.waitpid(child, 0)[1] == 0
    channel.sendall(arbiter_channels.frame([{**ROW, "event": "after"}]))
    wait_until(lambda: stored_events(relay.path) == ["before", "after"], 5, "the next row")


def test_the_arbiter_loads_the_store_without_the_services_package(tmp_path):
    code = (
        "import sys; from proxy import event_relay; relay = event_relay.relay(); "
        "print(relay.path, [m for m in sys.modules if m.split('.')[0] == 'services'], "
        "'sqlite3' in sys.modules)"
    )
    env = {**without_coverage(), "AHA_SERVICES_DATA": str(tmp_path), "AHA_SERVICES_EVENT_LOG": "5"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.stdout.split() == [str(tmp_path / "events.sqlite3"), "[]", "False"], result


def test_no_relay_when_the_log_is_off(monkeypatch):
    monkeypatch.setattr(event_relay, "_relay", None)
    monkeypatch.setenv("AHA_SERVICES_EVENT_LOG", "0")
    assert event_relay.relay() is None
    event_relay.pre_fork(None, object())  # nothing to set up, nothing raised
    event_relay.post_fork(None, object())
    event_relay.worker_exit(None, object())
    event_relay.child_exit(None, object())
    event_relay.on_exit(None)


def test_serving_events_does_not_load_sqlite():
    code = (
        "import sys; from proxy.wsgi import app; "
        "app({'REQUEST_METHOD': 'GET', 'PATH_INFO': '/configuration'}, lambda *a: None); "
        "print('sqlite3' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=without_coverage()
    )
    assert result.stdout.strip() == "False", result.stderr


def _workers(server_pid: int) -> list[int]:
    """The gunicorn workers among the live server's descendants."""
    parents = {}
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit():
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parents[int(entry.name)] = int(stat[1])
        except OSError:
            continue
    gunicorn = [
        pid
        for pid in parents
        if b"gunicorn" in Path(f"/proc/{pid}/cmdline").read_bytes()
        and _descends(pid, server_pid, parents)
    ]
    return [pid for pid in gunicorn if parents[pid] in gunicorn]


def _descends(pid: int, ancestor: int, parents: dict[int, int]) -> bool:
    while pid in parents and pid != ancestor:
        pid = parents[pid]
    return pid == ancestor


def _open_files(pid: int) -> list[str]:
    files = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            files.append(os.readlink(fd))
        except OSError:
            continue
    return files


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs Linux's /proc")
def test_make_serve_records_events_that_only_the_arbiter_writes(tmp_path):
    event = {"service_name": "webhooks", "event": "no_such_event", "payload": {}}
    event["user_data"] = {"hook_url": "https://hooks.example.com/aha"}
    with live_server(tmp_path) as server:
        for _ in range(4):
            assert server.post("/send_event", event).status == 200
        path = tmp_path / "var" / event_store.FILE_NAME
        wait_until(lambda: len(stored_events(path)) == 4, 10, "four recorded events")
        workers = _workers(server.process.pid)
        assert len(workers) == 2
        arbiter = {_parent(pid) for pid in workers}
        assert len(arbiter) == 1
        assert str(path) in _open_files(arbiter.pop())
        for pid in workers:
            assert not [name for name in _open_files(pid) if name.startswith(str(path))]
    assert stored_events(path) == ["no_such_event"] * 4


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def test_a_worker_on_its_way_out_relays_what_it_still_holds(relay, monkeypatch, tmp_path):
    monkeypatch.setenv("AHA_SERVICES_DATA", str(tmp_path))
    monkeypatch.setattr(event_relay, "_relay", relay)
    ours, theirs = socket.socketpair()
    child = os.fork()
    if child == 0:  # a worker that answered three events, then was told to stop
        try:
            ours.close()
            event_log.relay_to(theirs, relay.path)
            log = event_log.current()
            for n in range(3):
                log.record(event_log.Entry("send_event", "webhooks", f"e{n}", "ok", 0.0, {}))
            event_relay.worker_exit(None, None)
        finally:
            os._exit(0)  # its threads end with it, as gunicorn's workers' do
    theirs.close()
    reader, batches, data = arbiter_channels.FrameReader(), [], b"-"
    while data:
        data = ours.recv(1 << 16)
        batches.extend(reader.feed(data))
    ours.close()
    assert os.waitpid(child, 0)[1] == 0
    assert [row["event"] for rows in batches for row in rows] == ["e0", "e1", "e2"]
