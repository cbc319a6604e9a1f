"""New jobs on SQLite under stress: several processes and threads adding to the same
integrations while a worker delivers, a database another process holds, a log or a
data folder that goes away, odd names and large bodies."""

from __future__ import annotations

import json
import multiprocessing
import threading
import time
from pathlib import Path

from host.jobs import DELIVERED, OPEN_STATES, Job
from host.sqlite_state import SqliteStateStore

INTEGRATIONS = ("a", "b", "c")
PROCESSES, THREADS, JOBS = 3, 4, 40
_fork = multiprocessing.get_context("fork")


def _add_from_threads(path: Path, number: int, tasks: multiprocessing.Queue, out: Path) -> None:
    """One intake process: THREADS threads each adding JOBS jobs, queueing a task for
    each job added alone, and writing down what each add answered and when."""
    store = SqliteStateStore(path, busy_timeout=10.0)
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
                    "thread": f"{number}/{thread}",
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


def test_processes_and_threads_adding_while_a_worker_delivers_lose_and_strand_nothing(tmp_path):
    path = tmp_path / "state.sqlite3"
    tasks: multiprocessing.Queue = _fork.Queue()
    worker = _fork.Process(target=_deliver, args=(path, tasks, tmp_path / "delivered.json"))
    worker.start()
    intakes = [
        _fork.Process(target=_add_from_threads, args=(path, n, tasks, tmp_path / f"added{n}.json"))
        for n in range(PROCESSES)
    ]
    for process in intakes:
        process.start()
    for process in intakes:
        process.join(60)
        assert process.exitcode == 0
    tasks.put(None)
    worker.join(60)
    assert worker.exitcode == 0

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
