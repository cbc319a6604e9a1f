"""How the stores take new jobs: one fsync for the jobs of concurrent requests, one
queued task for an integration's burst, one writer at a time across processes."""

import fcntl
import os
import sqlite3
import threading
import time

import pytest

from host import job_adder, jobs, sqlite_state
from host.group_commit import GroupCommit
from host.jobs import DELIVERED, Job, new_job_id
from host.sqlite_state import SqliteStateStore
from host.state import StoreUnavailable
from host.writer_lock import WriterLock


def test_a_job_is_alone_only_when_its_integration_has_nothing_open(engine):
    first, second, other = Job("a", "webhook", {}), Job("a", "webhook", {}), Job("b", "x", {})
    assert engine.store.add_job(first) is True
    assert engine.store.add_job(second) is False
    assert engine.store.add_job(other) is True
    for job in (first, second):
        job.state = DELIVERED
        engine.store.save(job)
    assert engine.store.add_job(Job("a", "webhook", {})) is True
    assert [job.seq for job in (first, second, other)] == sorted([first.seq, second.seq, other.seq])


@pytest.mark.parametrize(
    ("names", "alone", "statements"),
    [
        (["a", "a"], [False, False], ["INSERT"]),  # (an earlier "a" is open)
        (["b", "b"], [True, False], ["INSERT"]),
        (["a", "b", "b"], [False, True, False], ["INSERT", "SELECT"]),
        (["b", "c"], [True, True], ["INSERT", "SELECT"]),
    ],
)
def test_a_batch_is_one_insert_that_tells_which_jobs_are_alone(tmp_path, names, alone, statements):
    store = SqliteStateStore(tmp_path / "state.sqlite3")
    store.add_job(Job("a", "webhook", {}))
    made: list[str] = []
    store._adder.connection().set_trace_callback(made.append)
    batch = [Job(name, "x", {"n": n}) for n, name in enumerate(names)]
    assert store._add_jobs(batch) == alone
    # (SQLite reports the insert again for each run of the trigger it fires.)
    assert [s.split()[0] for s in dict.fromkeys(made)] == statements
    assert all(job.id in made[0] for job in batch)
    assert [store.get(job.id).seq for job in batch] == [job.seq for job in batch]
    assert [job.seq for job in batch] == sorted(job.seq for job in batch)
    assert store.get(batch[-1].id).payload == {"n": len(names) - 1}
    assert store.counters().get("received|b|accepted", 0) == names.count("b")


def test_a_job_whose_earlier_ones_were_all_finished_is_alone_again(tmp_path):
    store = SqliteStateStore(tmp_path / "state.sqlite3")
    first = Job("a", "webhook", {})
    assert store.add_job(first) is True
    assert store.add_job(Job("a", "webhook", {})) is False
    for job in store.jobs(integration="a"):
        job.state = DELIVERED
        store.save(job)
    assert store._add_jobs([Job("b", "x", {}), Job("a", "x", {})]) == [True, True]


@pytest.mark.parametrize("first", [True, False])
def test_a_job_noted_alone_before_its_seq_was_used_again_is_not_alone_now(tmp_path, first):
    # "a" was alone at the seq that the newest job had before it was purged; that seq,
    # given again to a batch where "a" is not alone, must not make "a" alone.
    store = SqliteStateStore(tmp_path / "state.sqlite3")
    failed = Job("a", "webhook", {})
    assert store.add_job(failed) is True
    failed.state = jobs.FAILED
    store.save(failed)
    if not first:
        store.add_job(Job("c", "x", {}))
    gone = Job("a", "webhook", {}, received_at=1.0)
    assert store.add_job(gone) is True
    gone.state = DELIVERED
    store.save(gone)
    assert store.purge(before=2.0) == 1
    failed.state = jobs.QUEUED
    store.save(failed)
    names = ["a", "b"] if first else ["b", "a"]
    batch = [Job(name, "x", {}) for name in names]
    assert store._add_jobs(batch) == [name == "b" for name in names]
    assert gone.seq in [job.seq for job in batch]


def test_new_ids_follow_the_order_jobs_arrive_in_and_stay_unguessable(monkeypatch):
    ids = [new_job_id() for _ in range(200)]
    assert all(len(id_) == 32 and int(id_, 16) >= 0 for id_ in ids)
    times = [id_[:12] for id_ in ids]  # the millisecond: in order; the rest, random
    assert times == sorted(times) and len(set(ids)) == 200
    assert abs(int(times[0], 16) - time.time() * 1000) < 60_000
    # Within one millisecond, only the random part differs: 80 bits of it.
    monkeypatch.setattr(jobs.time, "time_ns", lambda: 1_796_000_000_123_456_789)
    same_moment = {new_job_id() for _ in range(200)}
    assert len(same_moment) == 200 and len({id_[:12] for id_ in same_moment}) == 1
    assert len({id_[12:] for id_ in same_moment}) == 200


def test_a_batch_that_fails_stores_none_of_its_jobs(tmp_path):
    store = SqliteStateStore(tmp_path / "state.sqlite3")
    taken = Job("a", "webhook", {})
    store.add_job(taken)
    again = Job("b", "webhook", {})
    again.id = taken.id  # the second row breaks the UNIQUE id
    with pytest.raises(StoreUnavailable, match="UNIQUE"):
        store._add_jobs([Job("b", "webhook", {"n": 1}), again])
    assert [job.integration for job in store.jobs()] == ["a"]


def test_purged_jobs_stay_counted_as_accepted(engine):
    jobs = [Job("a", "webhook", {}) for _ in range(3)] + [Job("b", "x", {})]
    for job in jobs:
        engine.store.add_job(job)
    for job in jobs[:2]:
        job.state = DELIVERED
        engine.store.save(job)
    engine.store.count_received({("a", "unauthorized"): 1})
    before = engine.store.counters()
    assert engine.store.purge(time.time() + 1) == 2
    assert engine.store.counters() == before
    assert before["received|a|accepted"] == 3 and before["received|b|accepted"] == 1
    assert before["received|a|unauthorized"] == 1


def test_a_store_that_counted_each_job_is_counted_once_after_the_change(tmp_path):
    """Before, each new job also wrote its counter; those counters already hold the jobs."""
    store = SqliteStateStore(tmp_path / "state.sqlite3")
    for _ in range(2):
        store.add_job(Job("a", "webhook", {}))
    with store._write() as db:  # the old counter: 2 kept and 5 purged long ago
        db.execute("INSERT INTO counters VALUES ('received|a|accepted', 7)")
        db.execute("INSERT INTO counters VALUES ('received|c|accepted', 1)")
        db.execute("INSERT INTO counters VALUES ('received|d|accepted', 1)")
    store.add_job(Job("d", "webhook", {}))  # counted by its row alone from now on
    reopened = SqliteStateStore(tmp_path / "state.sqlite3")
    assert reopened.counters() == {
        "received|a|accepted": 7,
        "received|c|accepted": 1,
        "received|d|accepted": 1,
    }
    SqliteStateStore(tmp_path / "state.sqlite3")  # once only
    assert reopened.counters()["received|a|accepted"] == 7


@pytest.mark.parametrize(
    ("most", "after_the_first"),
    [(None, [[1, 2, 3, 4, 5]]), (2, [[1, 2], [3, 4], [5]])],
    ids=["all-waiting", "at-most-two"],
)
def test_writes_that_wait_share_the_next_commits_in_arrival_order(most, after_the_first):
    """Those that queue while a commit runs share the next one, as many as one commit may
    take (``most``: what one SQLite statement may bind), the rest the ones after."""
    batches: list[list[int]] = []
    entered, release = threading.Event(), threading.Event()

    def commit(items):
        batches.append(list(items))
        if len(batches) == 1:
            entered.set()
            release.wait(5)
        return [item * 10 for item in items]

    group: GroupCommit[int, int] = (
        GroupCommit(commit) if most is None else GroupCommit(commit, most=lambda: most)
    )
    results: dict[int, int] = {}

    def submit(item: int) -> None:
        results[item] = group.submit(item)

    first = threading.Thread(target=submit, args=(0,))
    first.start()
    entered.wait(5)
    waiting = []
    for n in range(1, 6):  # one at a time, so that they queue in this order
        waiting.append(threading.Thread(target=submit, args=(n,)))
        waiting[-1].start()
        while len(group._waiting) < n:
            threading.Event().wait(0.001)
    release.set()
    for thread in (first, *waiting):
        thread.join(5)
    assert batches == [[0], *after_the_first]
    assert results == {n: n * 10 for n in range(6)}


def test_a_failed_commit_fails_each_of_its_writes_and_not_the_next():
    calls = []

    def commit(items):
        calls.append(items)
        if len(calls) == 1:
            raise StoreUnavailable("the state store is unavailable: disk I/O error")
        return list(items)

    group = GroupCommit(commit)
    with pytest.raises(StoreUnavailable):
        group.submit("a")
    assert group.submit("b") == "b"


def test_a_batch_answers_only_after_its_flush_and_a_failed_flush_fails_it():
    flushes = []

    def flush():
        flushes.append(len(flushes))
        if len(flushes) == 2:
            raise StoreUnavailable("the state store is unavailable: disk I/O error")

    group = GroupCommit(lambda items: list(items), flush)
    assert group.submit("a") == "a" and flushes == [0]
    with pytest.raises(StoreUnavailable):
        group.submit("b")
    assert group.submit("c") == "c" and len(flushes) == 3


def test_a_writer_gives_up_when_another_process_holds_the_lock_too_long(tmp_path):
    store = SqliteStateStore(tmp_path / "state.sqlite3", busy_timeout=0.05)
    other = os.open(tmp_path / "state.sqlite3.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(other, fcntl.LOCK_EX)
    try:
        with pytest.raises(StoreUnavailable, match="busy"):
            store.save(Job("a", "webhook", {}))
    finally:
        os.close(other)


def test_a_new_job_waits_for_another_writer_within_the_busy_timeout(tmp_path):
    store = SqliteStateStore(tmp_path / "state.sqlite3", busy_timeout=2.0)
    holder = sqlite3.connect(
        tmp_path / "state.sqlite3", isolation_level=None, check_same_thread=False
    )
    holder.execute("BEGIN IMMEDIATE")
    threading.Timer(0.05, holder.execute, ("COMMIT",)).start()
    started = time.monotonic()
    assert store.add_job(Job("a", "webhook", {})) is True
    assert 0.04 < time.monotonic() - started < 1.5
    assert len(store.jobs()) == 1


def test_a_new_job_gives_up_on_a_writer_that_holds_on_past_the_busy_timeout(tmp_path):
    store = SqliteStateStore(tmp_path / "state.sqlite3", busy_timeout=0.05)
    holder = sqlite3.connect(tmp_path / "state.sqlite3", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreUnavailable, match="locked"):
            store.add_job(Job("a", "webhook", {}))
    finally:
        holder.execute("COMMIT")
    assert store.jobs() == []
    assert store.add_job(Job("a", "webhook", {})) is True


def test_a_writer_lock_that_cannot_be_created_leaves_locking_to_sqlite(tmp_path):
    lock = WriterLock(tmp_path / "missing" / "state.lock")
    with lock.held(0.1):
        assert lock._fd is None


def test_an_attempt_rewrites_meta_data_only_when_it_changed(tmp_path):
    store = SqliteStateStore(tmp_path / "state.sqlite3")
    with store._write() as db:
        db.execute(
            "CREATE TRIGGER meta_written AFTER UPDATE ON meta_data BEGIN "
            "INSERT INTO counters VALUES ('meta_written', 1) "
            "ON CONFLICT (name) DO UPDATE SET value = value + 1; END"
        )
    job = Job("a", "webhook", {})
    store.add_job(job)
    for meta_data in ({"n": 1}, {"n": 1}, {"n": 2}):
        store.finish_attempt(job, meta_data, 0.2)
    assert store.meta_data("a") == {"n": 2}
    counters = store.counters()
    assert counters["meta_written"] == 1
    assert (counters["latency_count"], counters["latency|0.25"]) == (3, 3)
    assert counters["latency_sum"] == pytest.approx(0.6)


def test_new_jobs_are_flushed_to_the_disk_before_add_job_returns(tmp_path, monkeypatch):
    store = SqliteStateStore(tmp_path / "state.sqlite3")
    synced: list[str] = []

    def fdatasync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))

    monkeypatch.setattr(os, "fdatasync", fdatasync)
    store.add_job(Job("a", "webhook", {}))
    store.add_job(Job("a", "webhook", {}))
    assert synced == [str(tmp_path / "state.sqlite3-wal")] * 2


def test_a_failed_flush_answers_unavailable(tmp_path, monkeypatch):
    store = SqliteStateStore(tmp_path / "state.sqlite3")

    def fdatasync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fdatasync", fdatasync)
    with pytest.raises(StoreUnavailable, match="Input/output error"):
        store.add_job(Job("a", "webhook", {}))


def test_new_jobs_stored_but_not_looked_at_are_taken_as_alone(tmp_path, monkeypatch):
    store = SqliteStateStore(tmp_path / "state.sqlite3")
    real = store._adder.connection()

    class LookFails:
        """The adding connection, whose reads fail as a busy database's do."""

        def __getattr__(self, name: str) -> object:
            return getattr(real, name)

        def execute(self, sql: str, *args: object) -> object:
            if sql.startswith("SELECT"):
                raise sqlite3.OperationalError("database is locked")
            return real.execute(sql, *args)

    monkeypatch.setattr(store._adder, "_db", LookFails())
    assert store._add_jobs([Job("a", "webhook", {"n": 2}), Job("b", "x", {})]) == [True, True]
    assert [job.payload for job in store.jobs()] == [{}, {"n": 2}]


def test_a_store_whose_trigger_cannot_be_made_is_unavailable(tmp_path, monkeypatch):
    store = SqliteStateStore(tmp_path / "state.sqlite3")
    monkeypatch.setattr(job_adder, "_ALONE", "CREATE TEMP TRIGGER broken")
    made: list[sqlite3.Connection] = []
    connect = job_adder.connect

    def connect_and_keep(*args: object, **kwargs: object) -> sqlite3.Connection:
        made.append(connect(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(job_adder, "connect", connect_and_keep)
    for _ in range(2):
        with pytest.raises(StoreUnavailable, match="the state store is unavailable"):
            store.add_job(Job("a", "webhook", {}))
    assert store._adder._db is None
    # Each connection that could not be made ready was closed, not left open.
    assert len(made) == 2
    for db in made:
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            db.execute("SELECT 1")


def test_accepted_counts_never_go_down_while_a_purge_commits(tmp_path, monkeypatch):
    """A scrape reads the counters and the jobs kept in one snapshot: a purge that commits
    meanwhile is seen whole or not at all, so the counter a scrape reports never drops."""
    store = SqliteStateStore(tmp_path / "state.sqlite3")
    for _ in range(2):
        job = Job("a", "webhook", {})
        store.add_job(job)
        job.state = DELIVERED
        store.save(job)
    reads = store._read

    def purge_after_each_read(sql, *args):
        rows = reads(sql, *args)
        SqliteStateStore(store.path).purge(time.time() + 1)  # another process's purge
        return rows

    monkeypatch.setattr(store, "_read", purge_after_each_read)
    assert store.counters() == {"received|a|accepted": 2}
    monkeypatch.undo()
    assert store.counters() == {"received|a|accepted": 2}
    assert store.jobs() == []


@pytest.mark.parametrize(("busy_answers", "opens"), [(3, True), (10_000, False)])
def test_a_new_store_opened_by_several_processes_at_once_waits_for_its_log_mode(
    tmp_path, monkeypatch, busy_answers, opens
):
    # SQLite answers busy at once, not after its timeout, to all but one of the first
    # connections that put a new database in write-ahead log mode at the same time.
    asked: list[str] = []
    connect = sqlite3.connect

    class Racing:
        def __init__(self, db: sqlite3.Connection):
            self.db = db

        def execute(self, sql: str, *args):
            if sql == "PRAGMA journal_mode=WAL" and len(asked) < busy_answers:
                asked.append(sql)
                busy = sqlite3.OperationalError("database is locked")
                busy.sqlite_errorcode = sqlite3.SQLITE_BUSY
                raise busy
            return self.db.execute(sql, *args)

        def __getattr__(self, name: str):
            return getattr(self.db, name)

    clock = [0.0]
    monkeypatch.setattr(sqlite_state.sqlite3, "connect", lambda *a, **kw: Racing(connect(*a, **kw)))
    monkeypatch.setattr("host.writer_lock.time.monotonic", lambda: clock[0])
    monkeypatch.setattr("host.writer_lock.time.sleep", lambda s: clock.__setitem__(0, clock[0] + s))
    if opens:
        store = SqliteStateStore(tmp_path / "state.sqlite3", busy_timeout=1.0)
        assert len(asked) == 3
        assert store.add_job(Job("a", "webhook", {})) is True
        assert store._connection().execute("PRAGMA journal_mode").fetchone() == ("wal",)
    else:
        with pytest.raises(StoreUnavailable, match="database is locked"):
            SqliteStateStore(tmp_path / "state.sqlite3", busy_timeout=1.0)
        assert 1.0 <= clock[0] < 1.5


def test_a_store_read_only_when_its_writer_opened_it_is_written_once_it_may_be(
    tmp_path, monkeypatch
):
    """SQLite opens a file that may not be written read-only, and the connection stays
    so: a write after the fault opens another (the worker's outcomes, the health check)."""
    path = tmp_path / "state.sqlite3"
    store = SqliteStateStore(path, busy_timeout=0.1)
    job = Job("a", "webhook", {})
    store.add_job(job)
    real = sqlite_state.connect

    def read_only(path, *args, **kwargs):
        return sqlite3.connect(
            f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
        )

    monkeypatch.setattr(sqlite_state, "connect", read_only)
    job.state = DELIVERED
    with pytest.raises(StoreUnavailable, match="attempt to write a readonly database"):
        store.save(job)
    monkeypatch.setattr(sqlite_state, "connect", real)
    store.save(job)
    store.ping()
    assert store.get(job.id).state == DELIVERED
