"""New jobs on SQLite under stress: several processes and threads adding to the same
integrations while a worker delivers, a database another process holds, a log or a
data folder that goes away, odd names and large bodies."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from host import job_adder, job_relay
from host.engine import build_engine
from host.intake import create_app
from host.jobs import DELIVERED, OPEN_STATES, Job
from host.sqlite_state import SqliteStateStore
from host.state import StoreUnavailable
from spec.host.conftest import SECRET, host_config

INTEGRATIONS = ("a", "b", "c")
PROCESSES, THREADS, JOBS = 3, 4, 40
_fork = multiprocessing.get_context("fork")


def _add_from_threads(
    path: Path, number: int, tasks: multiprocessing.Queue, out: Path, worker: object = None
) -> None:
    """One intake process: THREADS threads each adding JOBS jobs, queueing a task for
    each job added alone, and writing down what each add answered and when. A process
    forked as gunicorn's ``worker`` adds them through the arbiter (``job_relay``)."""
    if worker is not None:
        job_relay.post_fork(None, worker)
    store = SqliteStateStore(path, busy_timeout=10.0)
    job_relay.attach(store)
    assert (store.add_elsewhere is not None) == (worker is not None)
    added: list[dict] = []

    def add(thread: int) -> None:
        for n in range(JOBS):
            job = Job(INTEGRATIONS[(thread + n) % 3], "webhook", {"p": number, "t": thread})
            began = time.monotonic()
            alone = store.add_job(job)
            ended = time.monotonic()
            if alone:
                tasks.put(job.integration)
            added.append(
                {
                    "id": job.id,
                    "seq": job.seq,
                    "alone": alone,
                    "began": began,
                    "ended": ended,
                    "integration": job.integration,
                }
            )

    threads = [threading.Thread(target=add, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.write_text(json.dumps(added))


def _deliver(path: Path, tasks: multiprocessing.Queue, out: Path) -> None:
    """A worker: for each task, the integration's open jobs in order, each outcome
    stored with the next job's start, as a drain does."""
    store = SqliteStateStore(path, busy_timeout=10.0)
    delivered: list[tuple[str, int]] = []
    while (name := tasks.get()) is not None:
        head = store.head(name)
        if head is None or head.state not in OPEN_STATES:
            continue
        head.start("worker", time.time())
        store.save(head)
        job: Job | None = head
        while job is not None:
            delivered.append((job.integration, job.seq))
            job.state = DELIVERED
            started = store.finish_and_start_next(job, {}, 0.001, "worker")
            job = started.job if started else None
    out.write_text(json.dumps(delivered))


class _Server:
    """What gunicorn's hooks read of its arbiter."""

    class cfg:
        threads = THREADS


@pytest.mark.parametrize("relayed", [False, True], ids=["each process", "through the arbiter"])
def test_processes_and_threads_adding_while_a_worker_delivers_lose_and_strand_nothing(
    tmp_path, monkeypatch, relayed
):
    """Through the arbiter, all processes but one add their jobs through this one's
    relay, as gunicorn's workers do; the last one adds its own, beside them."""
    path = tmp_path / "state.sqlite3"
    if relayed:
        monkeypatch.setattr(job_relay, "_relay", None)
        job_relay.start({"AHA_SERVICES_DATA": str(tmp_path)})
    tasks: multiprocessing.Queue = _fork.Queue()
    worker = _fork.Process(target=_deliver, args=(path, tasks, tmp_path / "delivered.json"))
    worker.start()
    gunicorn_workers = [
        object() if relayed and n < PROCESSES - 1 else None for n in range(PROCESSES)
    ]
    intakes = []
    try:
        for n, gunicorn_worker in enumerate(gunicorn_workers):
            if gunicorn_worker is not None:
                job_relay.pre_fork(_Server, gunicorn_worker)
            out = tmp_path / f"added{n}.json"
            intakes.append(
                _fork.Process(target=_add_from_threads, args=(path, n, tasks, out, gunicorn_worker))
            )
            intakes[-1].start()
        for process, gunicorn_worker in zip(intakes, gunicorn_workers, strict=True):
            process.join(60)
            assert process.exitcode == 0
            if gunicorn_worker is not None:
                job_relay.child_exit(_Server, gunicorn_worker)
    finally:  # a failed intake must not leave the worker waiting for its tasks for ever
        tasks.put(None)
        worker.join(60)
        if worker.is_alive():
            worker.kill()
    assert worker.exitcode == 0
    if relayed:  # the arbiter's relay did add jobs
        assert job_relay._relay is not None and job_relay._relay._adder._db is not None

    added = [
        a for n in range(PROCESSES) for a in json.loads((tmp_path / f"added{n}.json").read_text())
    ]
    store = SqliteStateStore(path)
    rows = {job.id: job for job in store.jobs(limit=10_000)}
    assert len(added) == len(rows) == PROCESSES * THREADS * JOBS
    assert all(rows[a["id"]].seq == a["seq"] for a in added)
    # Nothing left open: every job had a task of its own or an earlier job ahead of it.
    assert {job.state for job in rows.values()} == {DELIVERED}
    delivered = json.loads((tmp_path / "delivered.json").read_text())
    for name in INTEGRATIONS:
        seqs = [seq for integration, seq in delivered if integration == name]
        assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))
    # Arrival order: a job added after another one was acknowledged comes after it.
    for earlier in added:
        for later in added:
            if earlier["ended"] < later["began"]:
                assert earlier["seq"] < later["seq"]


def _intake(data: Path, timeout: str = "5"):
    config = host_config(
        {"hooks": {"service": "webhooks", "settings": {"hook_url": "https://h.example.com/x"}}}
    )
    engine = build_engine({"AHA_SERVICES_DATA": str(data), "AHA_SERVICES_SQLITE_TIMEOUT": timeout})
    return engine, create_app(config, engine).test_client()


def _post(client, body: object = None):
    return client.post(
        f"/aha/hooks?token={SECRET}",
        data=json.dumps(body if body is not None else {"event": "audit"}),
        content_type="application/json",
    )


def test_a_data_folder_deleted_while_the_intake_runs_is_refused_not_acknowledged(
    tmp_path, monkeypatch
):
    """Its files live on, unlinked, in the intake's connections: a job stored there is
    gone for good, so it is refused once the intake looks again, and the health check
    says so at once."""
    data = tmp_path / "data"
    _, client = _intake(data)
    assert _post(client).status_code == 202
    shutil.rmtree(data)
    assert client.get("/healthz").status_code == 503
    monkeypatch.setattr(job_adder, "_FILES_LOOKED_AT_EVERY", 0.0)
    answer = _post(client)
    assert answer.status_code == 503
    assert answer.json == {"error": "The event was not stored: the queue is unavailable"}
    assert client.get("/healthz").status_code == 503


@pytest.mark.parametrize("name", ["state.sqlite3-wal", "state.sqlite3"])
def test_a_log_or_database_file_removed_under_the_store_refuses_new_jobs(
    tmp_path, name, monkeypatch
):
    monkeypatch.setattr(job_adder, "_FILES_LOOKED_AT_EVERY", 0.0)
    store = SqliteStateStore(tmp_path / "state.sqlite3")
    store.add_job(Job("a", "webhook", {}))
    os.remove(tmp_path / name)
    for _ in range(2):
        with pytest.raises(StoreUnavailable, match="unavailable"):
            store.add_job(Job("a", "webhook", {}))


def test_the_files_are_looked_at_once_in_a_while_not_at_every_flush(tmp_path, monkeypatch):
    store = SqliteStateStore(tmp_path / "state.sqlite3")
    looks: list[int] = []
    real = store._adder._in_place
    monkeypatch.setattr(store._adder, "_in_place", lambda log: looks.append(log) or real(log))
    for _ in range(5):
        store.add_job(Job("a", "webhook", {}))
    assert len(looks) == 1
    store.ping()
    assert len(looks) == 2


def test_flushes_that_never_pause_still_look_at_the_files_again(tmp_path, monkeypatch):
    """A busy intake flushes more often than it looks; it must look all the same."""
    monkeypatch.setattr(job_adder, "_FILES_LOOKED_AT_EVERY", 0.02)
    store = SqliteStateStore(tmp_path / "state.sqlite3")
    looks: list[int] = []
    real = store._adder._in_place
    monkeypatch.setattr(store._adder, "_in_place", lambda log: looks.append(log) or real(log))
    flushes, until = 0, time.monotonic() + 0.1
    while time.monotonic() < until:
        store.add_job(Job("a", "webhook", {}))
        flushes += 1
    assert 3 <= len(looks) < flushes


def test_a_log_emptied_by_a_checkpoint_between_flushes_is_still_the_one_flushed(tmp_path):
    """``wal_checkpoint(TRUNCATE)`` empties the log in place: the kept descriptor is still
    the log's file, and the next job is in it (and so on the disk) before it is answered."""
    path = tmp_path / "state.sqlite3"
    store = SqliteStateStore(path)
    store.add_job(Job("a", "webhook", {}))
    other = sqlite3.connect(path, isolation_level=None)
    assert other.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone() == (0, 0, 0)
    assert os.path.getsize(f"{path}-wal") == 0
    job = Job("a", "webhook", {"after": "checkpoint"})
    assert store.add_job(job) is False
    log = os.stat(f"{path}-wal")
    assert log.st_size > 0
    assert (
        os.fstat(store._adder._wal_file()).st_ino,
        os.fstat(store._adder._wal_file()).st_dev,
    ) == (
        log.st_ino,
        log.st_dev,
    )
    other.close()
    read = (
        "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("
        "'SELECT seq FROM jobs WHERE id = ?', (sys.argv[2],)).fetchone()[0])"
    )
    seen = subprocess.run(
        [sys.executable, "-c", read, str(path), job.id], capture_output=True, text=True, check=True
    )
    assert int(seen.stdout) == job.seq


_HOLD = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute(sys.argv[2])
print("held", flush=True)
time.sleep(float(sys.argv[3]))
db.execute("COMMIT")
"""


def _hold(path: Path, begin: str, seconds: float) -> subprocess.Popen:
    """Another process that holds the database's write lock for ``seconds``."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(path), begin, str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    return holder


@pytest.mark.parametrize("begin", ["BEGIN IMMEDIATE", "BEGIN EXCLUSIVE"])
def test_a_database_another_process_holds_past_the_busy_timeout_is_a_503(tmp_path, begin):
    engine, client = _intake(tmp_path, timeout="0.2")
    holder = _hold(tmp_path / "state.sqlite3", begin, 30)
    try:
        started = time.monotonic()
        answer = _post(client)
        waited = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    assert answer.status_code == 503
    assert answer.json == {"error": "The event was not stored: the queue is unavailable"}
    assert 0.2 <= waited < 5
    assert engine.store.jobs() == []
    assert engine.huey.pending_count() == 0


@pytest.mark.parametrize("begin", ["BEGIN IMMEDIATE", "BEGIN EXCLUSIVE"])
def test_a_database_another_process_gives_back_within_the_busy_timeout_is_a_202(tmp_path, begin):
    engine, client = _intake(tmp_path, timeout="10")
    holder = _hold(tmp_path / "state.sqlite3", begin, 0.3)
    started = time.monotonic()
    answer = _post(client)
    waited = time.monotonic() - started
    assert holder.wait(10) == 0
    assert answer.status_code == 202
    assert waited > 0.1
    assert [job.id for job in engine.store.jobs()] == [answer.json["job"]]
    assert engine.huey.pending_count() == 1


def _add_all_at_once(store: SqliteStateStore, jobs: list[Job]) -> list[bool | str]:
    """Add ``jobs`` from a thread each, all waiting behind another connection's write
    until every one is queued, so that they make one burst."""
    holder = sqlite3.connect(store.path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    answers: list[bool | str] = [""] * len(jobs)

    def add(n: int) -> None:
        try:
            answers[n] = store.add_job(jobs[n])
        except StoreUnavailable as error:
            answers[n] = str(error)

    threads = [threading.Thread(target=add, args=(n,)) for n in range(len(jobs))]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10
    while len(store._adding._waiting) < len(jobs) - 1 and time.monotonic() < deadline:
        time.sleep(0.001)
    holder.execute("COMMIT")
    for thread in threads:
        thread.join(10)
    return answers


def test_a_burst_larger_than_one_insert_may_carry_is_stored_in_several(tmp_path):
    """An SQLite built with a lower limit of values a statement may bind (999 before
    3.32) cannot take a burst of many threads in one ``INSERT``."""
    store = SqliteStateStore(tmp_path / "state.sqlite3", busy_timeout=10.0)
    store.add_job(Job("first", "webhook", {}))
    store._adder.connection().setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 50)
    jobs = [Job(("a", "b")[n % 2], "webhook", {"n": n}) for n in range(33)]
    answers = _add_all_at_once(store, jobs)
    for name in ("a", "b"):
        mine = sorted(
            (job.seq, answers[n]) for n, job in enumerate(jobs) if job.integration == name
        )
        assert [alone for _, alone in mine] == [True] + [False] * (len(mine) - 1)
    stored = {job.id: job.seq for job in store.jobs(limit=100)}
    assert len(stored) == 34
    assert [stored[job.id] for job in jobs] == [job.seq for job in jobs]
    assert len({job.seq for job in jobs}) == 33


def test_names_with_quotes_and_unicode_and_bodies_near_a_megabyte_are_stored_whole(tmp_path):
    store = SqliteStateStore(tmp_path / "state.sqlite3", busy_timeout=10.0)
    names = ['o\'brien "q" --', "ünï 🚀 %_", "a'); DROP TABLE jobs; --"]
    big = "x\"'\\ü\u2028" * (1000 * 1024 // 8)
    jobs = [Job(names[n % 3], "webhook", {"body": big, "n": n}) for n in range(9)]
    answers = _add_all_at_once(store, jobs)
    assert sorted(answers, key=str) == [False] * 6 + [True] * 3
    for job in jobs:
        stored = store.get(job.id)
        assert stored is not None and stored.payload == job.payload
        assert stored.integration == job.integration and stored.seq == job.seq
    assert store.open_integrations() == sorted(names)
    assert {name: store.head(name).seq for name in names} == {
        name: min(job.seq for job in jobs if job.integration == name) for name in names
    }


def test_a_body_at_the_intake_limit_is_stored_and_one_byte_more_is_refused(tmp_path):
    engine, client = _intake(tmp_path)
    limit = 1024 * 1024
    padding = limit - len(json.dumps({"event": "audit", "pad": ""}))
    at_limit = {"event": "audit", "pad": "é" * (padding // 2)}
    body = json.dumps(at_limit, ensure_ascii=False).encode()
    body += b" " * (limit - len(body))
    answer = client.post(f"/aha/hooks?token={SECRET}", data=body, content_type="application/json")
    assert answer.status_code == 202
    assert engine.store.get(answer.json["job"]).payload == at_limit
    refused = client.post(
        f"/aha/hooks?token={SECRET}", data=body + b" ", content_type="application/json"
    )
    assert refused.status_code == 413
    assert len(engine.store.jobs()) == 1


def test_a_state_file_that_is_a_symlink_flushes_the_log_sqlite_writes(tmp_path):
    """SQLite keeps the log beside the file the link points to; a file of the log's
    name beside the link itself is not it."""
    (tmp_path / "disk").mkdir()
    (tmp_path / "data").mkdir()
    sqlite3.connect(tmp_path / "disk" / "state.sqlite3").close()
    os.symlink("../disk/state.sqlite3", tmp_path / "data" / "state.sqlite3")
    store = SqliteStateStore(tmp_path / "data" / "state.sqlite3")
    assert store.add_job(Job("a", "webhook", {})) is True
    log = os.stat(tmp_path / "disk" / "state.sqlite3-wal")
    assert _identity(os.fstat(store._adder._wal_file())) == (log.st_dev, log.st_ino)
    (tmp_path / "data" / "state.sqlite3-wal").write_bytes(b"")  # a stray file
    again = SqliteStateStore(tmp_path / "data" / "state.sqlite3")
    assert again.add_job(Job("a", "webhook", {})) is False
    assert _identity(os.fstat(again._adder._wal_file())) == (log.st_dev, log.st_ino)


def _identity(status: os.stat_result) -> tuple[int, int]:
    return status.st_dev, status.st_ino
