"""The arbiter adds the jobs of the intake's workers (``host.job_relay``): in order, on
the disk before each answer, and every failure answered, never waited for in vain."""

from __future__ import annotations

import os
import select
import socket
import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

import pytest

from host import job_adder, job_relay
from host.job_adder import row_of
from host.job_relay import Channels, JobRelay
from host.jobs import Job
from host.sqlite_state import SqliteStateStore
from host.state import StoreUnavailable
from services.core.arbiter_channels import frame

THREADS = 4


@pytest.fixture
def path(tmp_path) -> Path:
    return tmp_path / "state.sqlite3"


def _relayed(path: Path, busy_timeout: float = 5.0) -> tuple[SqliteStateStore, JobRelay]:
    """A store whose jobs go through a relay of this process, as a worker's go to its
    arbiter's."""
    store = SqliteStateStore(path, busy_timeout=busy_timeout)
    relay = JobRelay(path, busy_timeout)
    store.add_elsewhere = Channels(relay.channels_for(1, THREADS), path, busy_timeout).add
    return store, relay


def _open_files(fragment: str) -> list[str]:
    links = []
    for fd in os.listdir("/proc/self/fd"):
        with suppress(OSError):  # the listing's own descriptor, closed by now
            links.append(os.readlink(f"/proc/self/fd/{fd}"))
    return [link for link in links if fragment in link]


def _eventually(condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + 5
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def test_jobs_from_several_threads_are_added_by_the_relay_in_order(path):
    store, relay = _relayed(path)
    added: list[tuple[Job, bool]] = []

    def add(thread: int) -> None:
        for n in range(25):
            job = Job("a", "webhook", {"t": thread, "n": n})
            added.append((job, store.add_job(job)))

    threads = [threading.Thread(target=add, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    stored = {job.id: job for job in store.jobs(limit=1000)}
    assert len(stored) == len(added) == 100
    assert all(stored[job.id].seq == job.seq for job, _ in added)
    # No worker ran: only the integration's first job was alone.
    assert [job.seq for job, alone in added if alone] == [min(stored[j].seq for j in stored)]
    # Each thread's jobs in the order it added them.
    for thread in range(THREADS):
        mine = [job.seq for job, _ in added if job.payload["t"] == thread]
        assert mine == sorted(mine)
    # The store itself added nothing: it opened no adding connection of its own.
    assert store._adder._db is None and relay._adder._db is not None


def test_a_job_is_on_the_disk_before_its_answer(path, monkeypatch):
    store, relay = _relayed(path)
    flushed: list[int] = []
    real = relay._adder.flush
    monkeypatch.setattr(relay._adder, "flush", lambda: flushed.append(1) or real())
    sent: list[int] = []
    real_frame = job_relay.frame
    monkeypatch.setattr(
        job_relay, "frame", lambda items: sent.append(len(flushed)) or real_frame(items)
    )
    store.add_job(Job("a", "webhook", {}))
    # The worker's frame went out before any flush; the answer only after one.
    assert sent == [0, 1]


def test_a_locked_store_is_answered_unavailable_and_keeps_nothing(path):
    store, _ = _relayed(path, busy_timeout=0.1)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(
            StoreUnavailable, match="the state store is unavailable: database is locked"
        ):
            store.add_job(Job("a", "webhook", {}))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert store.jobs() == []
    # The channel answers the next job as before.
    assert store.add_job(Job("a", "webhook", {"n": 2})) is True
    assert [job.payload for job in store.jobs()] == [{"n": 2}]


def test_a_job_sent_while_a_batch_waits_for_the_lock_waits_no_longer_than_its_own_wait(
    path, monkeypatch
):
    """The second job reaches the relay only once the first one's batch has waited its
    whole timeout: its own batch waits for what is left of the second job's timeout, so
    that it is refused before its sender stops waiting, never kept after a 503."""
    monkeypatch.setattr(job_relay, "_ANSWER_MARGIN", 0.5)
    store, relay = _relayed(path, busy_timeout=1.0)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    errors: list[Exception] = []

    def add_first() -> None:
        try:
            store.add_job(Job("a", "webhook", {"n": 1}))
        except StoreUnavailable as error:
            errors.append(error)

    first = threading.Thread(target=add_first)
    first.start()
    try:
        assert _eventually(relay._adding.locked)  # the first batch waits for the lock
        with pytest.raises(StoreUnavailable) as refused:
            store.add_job(Job("a", "webhook", {"n": 2}))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        first.join()
    assert "database is locked" in str(refused.value)
    assert [str(error) for error in errors] == [
        "the state store is unavailable: database is locked"
    ]
    with relay._adding:  # no batch left half way
        assert store.jobs() == []


def test_a_frame_without_the_end_of_its_wait_is_dropped_with_a_warning(path, caplog):
    relay = JobRelay(path, 5.0)
    (end,) = relay.channels_for(3, 1)
    end.sendall(frame(["id", "a", "queued", 1.0, "{}", "soon"]) * 2)
    assert end.recv(16) == b""
    assert relay._adder._db is None
    assert caplog.text.count("Dropped a worker's channel for new jobs") == 1


def test_a_store_read_only_when_the_relay_opened_it_is_written_once_it_may_be(path, monkeypatch):
    """SQLite opens a file that may not be written read-only (permissions, a read-only
    mount) and the connection stays so: once the fault is gone the relay adds again."""
    store, _ = _relayed(path)
    real = job_adder.connect

    def read_only(path: Path, *args: object, **kwargs: object) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)

    monkeypatch.setattr(job_adder, "connect", read_only)
    with pytest.raises(StoreUnavailable, match="attempt to write a readonly database"):
        store.add_job(Job("a", "webhook", {"n": 1}))
    monkeypatch.setattr(job_adder, "connect", real)
    assert store.add_job(Job("a", "webhook", {"n": 2})) is True
    assert [job.payload for job in store.jobs()] == [{"n": 2}]


def test_a_failure_of_the_arbiter_is_answered_as_one(path, monkeypatch, caplog):
    store, relay = _relayed(path)

    def broken(rows: object) -> object:
        raise KeyError("a fault of the relay's own")

    monkeypatch.setattr(relay._adder, "add", broken)
    with pytest.raises(RuntimeError, match="the arbiter failed to add a job"):
        store.add_job(Job("a", "webhook", {}))
    assert "Adding new jobs failed" in caplog.text
    monkeypatch.undo()
    assert store.add_job(Job("a", "webhook", {})) is True


def test_no_answer_in_time_is_unavailable_and_later_jobs_are_added_here(path, monkeypatch):
    """A channel whose arbiter never answers: the job is refused within the limit, the
    channel is dropped (a late answer would reach the next job), and the next job is
    added by the process itself."""
    monkeypatch.setattr(job_relay, "_ANSWER_MARGIN", 0.2)
    store = SqliteStateStore(path, busy_timeout=0.0)
    silent, ours = socket.socketpair()
    store.add_elsewhere = Channels([ours], path, 0.0).add
    with pytest.raises(StoreUnavailable, match="no answer from the arbiter"):
        store.add_job(Job("a", "webhook", {"n": 1}))
    assert ours.fileno() == -1
    assert store.add_job(Job("a", "webhook", {"n": 2})) is True
    assert [job.payload for job in store.jobs()] == [{"n": 2}]
    silent.close()


def test_a_worker_that_is_gone_or_sends_nonsense_leaves_the_others_served(path):
    store, relay = _relayed(path)
    gone, nonsense = relay.channels_for(2, 2)
    gone.close()
    nonsense.sendall(frame(["not", "a", "job"]))
    assert nonsense.recv(16) == b""  # dropped by the relay
    assert store.add_job(Job("a", "webhook", {})) is True
    assert len(store.jobs()) == 1


def test_a_worker_that_exits_has_its_channels_closed_and_dropped(path):
    """The arbiter closes its copies of the worker's ends; with the worker's own gone,
    the relay reads the end of each channel and lets it go."""
    relay = JobRelay(path, 5.0)
    ends = relay.channels_for(7, 2)
    assert _eventually(lambda: len(relay._reading) == 2)
    relay.worker_exited(7)
    assert all(end.fileno() == -1 for end in ends)
    assert _eventually(lambda: not relay._reading)


def test_around_a_fork_the_relay_holds_no_file_of_the_store(path):
    """A child forked from the arbiter inherits none of SQLite's files."""
    store, relay = _relayed(path)
    store.add_job(Job("a", "webhook", {}))
    wal = f"{path}-wal"
    before = _open_files(wal)
    relay.pause()
    try:
        assert relay._adder._db is None
        assert len(_open_files(wal)) < len(before)
    finally:
        relay.resume()
    assert store.add_job(Job("a", "webhook", {})) is False
    assert len(store.jobs()) == 2


def test_a_store_is_attached_only_to_channels_for_its_own_file(path, tmp_path, monkeypatch):
    monkeypatch.setattr(job_relay, "_channels", None)
    store = SqliteStateStore(path)
    job_relay.attach(store)
    assert store.add_elsewhere is None
    monkeypatch.setattr(job_relay, "_channels", Channels([], tmp_path / "other.sqlite3", 1.0))
    job_relay.attach(store)
    assert store.add_elsewhere is None
    monkeypatch.setattr(job_relay, "_channels", Channels([], path, 1.0))
    job_relay.attach(store)
    assert store.add_elsewhere is not None
    # With no channel free, the store adds the job itself.
    assert store.add_job(Job("a", "webhook", {})) is True


def test_the_arbiter_relays_only_for_a_sqlite_state(tmp_path, monkeypatch):
    monkeypatch.setattr(job_relay, "_relay", None)
    job_relay.start({"AHA_SERVICES_QUEUE": "redis://127.0.0.1:1/0"})
    assert job_relay._relay is None
    job_relay.start({"AHA_SERVICES_QUEUE": "nonsense://"})  # named by the workers
    assert job_relay._relay is None
    job_relay.start({"AHA_SERVICES_DATA": str(tmp_path), "AHA_SERVICES_SQLITE_TIMEOUT": "2"})
    assert job_relay._relay is not None
    assert (job_relay._relay.path, job_relay._relay.busy_timeout) == (
        tmp_path / "state.sqlite3",
        2.0,
    )


def test_a_worker_end_closed_with_an_answer_unread_is_dropped_quietly(path, caplog):
    """A worker that stopped waiting (or was killed) before its answer came: its channel
    ends without a warning in the arbiter's log."""
    _, relay = _relayed(path)
    (end,) = relay.channels_for(3, 1)
    end.sendall(frame([*row_of(Job("a", "webhook", {})), time.monotonic() + 5]))
    assert select.select([end], [], [], 5)[0]  # the answer waits, unread
    end.close()
    assert _eventually(lambda: relay.open_channels == THREADS)
    assert "Dropped" not in caplog.text
