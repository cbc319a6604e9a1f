"""The state store in one SQLite file: the default, nothing to install."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from host.group_commit import GroupCommit
from host.job_adder import JobAdder, dump, row_of
from host.jobs import FINISHED_STATES, OPEN_STATES, QUEUED, STATES, Job
from host.sqlite_files import connect, error_code, quoted, unavailable
from host.state import Started, StateStore, StoreUnavailable, latency_bucket, start_if_ready
from host.writer_lock import WriterLock

# seq orders the jobs kept; it is not AUTOINCREMENT, whose counter row would be one more
# page written by every intake commit. (A number is used again only once its job, the
# newest, has been purged.) Each index is one more page that a new job writes, so a new
# job, queued, is in two: ``jobs_open`` (each integration's jobs by state) and the ids.
# ``jobs_taken`` finds the jobs by state once a worker took them; the queued ones are
# found through ``jobs_open``, one integration after another (``_INTEGRATIONS``). Stores
# made before kept an index of every state and one of the times received.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    integration TEXT NOT NULL,
    state TEXT NOT NULL,
    received_at REAL NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_open ON jobs (integration, state, seq);
CREATE INDEX IF NOT EXISTS jobs_taken ON jobs (state, seq) WHERE state != 'queued';
DROP INDEX IF EXISTS jobs_state;
DROP INDEX IF EXISTS jobs_received;
CREATE TABLE IF NOT EXISTS meta_data (integration TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS leases (
    integration TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value REAL NOT NULL);
"""
_HAS_JOBS = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'jobs'"
_OPEN = quoted(OPEN_STATES)
# Every state, named: an integration's newest jobs are then read down ``jobs_open`` one
# state after another, each in the order stored, not all of its jobs sorted.
_EVERY = f"state IN ({quoted(STATES)})"
_FINISHED = quoted(FINISHED_STATES)
# Jobs of an integration that were purged: with those kept, the requests it accepted.
_PURGED = "purged|"
# The integrations that have jobs, one step down ``jobs_open`` each, as ``named``.
_INTEGRATIONS = """WITH RECURSIVE named(integration) AS (
    SELECT min(integration) FROM jobs
    UNION ALL
    SELECT (SELECT min(integration) FROM jobs WHERE integration > named.integration)
    FROM named WHERE named.integration IS NOT NULL
) """
_QUEUED = f"state = '{QUEUED}' AND integration IN (SELECT integration FROM named)"
# ``jobs_taken``'s own condition: SQLite uses the index for a query that states it.
_TAKEN = f"state != '{QUEUED}'"
# A purge's batch: the last seq of the next jobs stored, and the oldest time received.
_PURGE_LOOK = (
    "SELECT max(seq), min(received_at) FROM "
    "(SELECT seq, received_at FROM jobs WHERE seq > ? ORDER BY seq LIMIT ?)"
)
# The batch's finished jobs received before the cut-off, found by their seq alone.
_PURGED_ONES = (
    f"FROM jobs NOT INDEXED WHERE seq > ? AND seq <= ? AND received_at < ? "
    f"AND state IN ({_FINISHED})"
)
_PURGED_COUNTS = f"SELECT integration, count(*) {_PURGED_ONES} GROUP BY integration"
_PURGE = f"DELETE {_PURGED_ONES}"
# The stored counters and, under the names of purged counts, each integration's jobs kept.
_COUNTERS = (
    "SELECT name, value FROM counters UNION ALL "
    f"SELECT '{_PURGED}' || integration, count(*) FROM jobs GROUP BY integration"
)
_HEAD = (
    f"SELECT seq, record FROM jobs WHERE integration = ? AND state IN ({_OPEN}) "
    "ORDER BY seq LIMIT 1"
)


class SqliteStateStore(StateStore):
    """Each thread reads on a connection of its own; every write is committed to
    SQLite's write-ahead log (``synchronous=NORMAL``): a process that is killed loses
    none of them.

    A new job is also on the disk before ``add_job`` returns: the intake acknowledges
    it next, and the sender will not send it again. Jobs that one process's threads add
    at the same time share one ``INSERT``, its own transaction (``GroupCommit``); then
    the log is flushed with ``fdatasync``, outside any lock, while the next batch
    commits. A worker's writes are not flushed: a power cut may lose the last outcomes,
    and those jobs run again.

    Every other write is one immediate transaction on the one connection that writes,
    its writer holding a lock file first (``WriterLock``): SQLite's own wait on a busy
    database sleeps in steps of milliseconds, which a writer would spend idle while
    another one commits. A new job's ``INSERT`` holds SQLite's lock within one call into
    SQLite and waits for it in short steps of its own (``JobAdder``).
    """

    def __init__(self, path: Path, busy_timeout: float = 5.0):
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self._local = threading.local()
        self._writing: sqlite3.Connection | None = None
        self._adder = JobAdder(self.path, busy_timeout)
        self._adding: GroupCommit[Job, bool] = GroupCommit(
            self._add_jobs, self._adder.flush, self._adder.most
        )
        # Where a process's new jobs go first when another one adds them (``job_relay``):
        # it answers whether the job is alone, or None to have them added here.
        self.add_elsewhere: Callable[[Job], bool | None] | None = None
        self._writer = WriterLock(self.path.with_name(self.path.name + ".lock"))
        try:
            _set_up(self._connection())
            self._count_accepted_by_rows()
        except sqlite3.Error as error:
            raise unavailable(error) from None

    def _connection(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = self._connect()
        return db

    def _writing_connection(self) -> sqlite3.Connection:
        """The one connection that writes, whichever thread holds the writer lock (one at
        a time): a page it has read stays in its cache until another process writes."""
        if self._writing is None:
            self._writing = self._connect(check_same_thread=False)
        return self._writing

    def _connect(self, check_same_thread: bool = True) -> sqlite3.Connection:
        return connect(self.path, self.busy_timeout, check_same_thread)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One immediate transaction."""
        with self._writer.held(self.busy_timeout):
            try:
                db = self._writing_connection()
                db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as error:
                raise self._unavailable(error) from None
            try:
                yield db
                db.execute("COMMIT")
            except sqlite3.Error as error:
                _rollback(db)
                raise self._unavailable(error) from None
            except BaseException:
                _rollback(db)
                raise

    def _unavailable(self, error: sqlite3.Error) -> StoreUnavailable:
        """``error`` named; SQLite opens a file it may not write read-only, and the
        connection stays so: the next write opens another, once the store may be written."""
        if error_code(error) == sqlite3.SQLITE_READONLY and self._writing is not None:
            with suppress(sqlite3.Error):
                self._writing.close()
            self._writing = None
        return unavailable(error)

    def _read(self, sql: str, *args: Any) -> list[tuple]:
        try:
            return self._connection().execute(sql, args).fetchall()
        except sqlite3.Error as error:
            raise unavailable(error) from None

    def add_job(self, job: Job) -> bool:
        if self.add_elsewhere is not None:
            alone = self.add_elsewhere(job)
            if alone is not None:
                return alone
        return self._adding.submit(job)

    def _add_jobs(self, jobs: Sequence[Job]) -> list[bool]:
        added = self._adder.add([row_of(job) for job in jobs])
        for job, (seq, _) in zip(jobs, added, strict=True):
            job.seq = seq
        return [alone for _, alone in added]

    def count_received(self, counts: Mapping[tuple[str, str], int]) -> None:
        with self._write() as db:
            for (integration, outcome), count in counts.items():
                _increment(db, f"received|{integration}|{outcome}", count)

    def get(self, job_id: str) -> Job | None:
        rows = self._read("SELECT seq, record FROM jobs WHERE id = ?", job_id)
        return _load(*rows[0]) if rows else None

    def jobs(
        self, state: str | None = None, integration: str | None = None, limit: int = 50
    ) -> list[Job]:
        where, args, names = [], [], ""
        if state:
            where.append("state = ?")
            args.append(state)
        if integration:
            where.append("integration = ?")
            args.append(integration)
            if not state:
                where.append(_EVERY)
        elif state == QUEUED:
            where.append(_QUEUED)
            names = _INTEGRATIONS
        elif state:
            where.append(_TAKEN)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = self._read(
            f"{names}SELECT seq, record FROM jobs {clause} ORDER BY seq DESC LIMIT ?", *args, limit
        )
        return [_load(*row) for row in rows]

    def head(self, integration: str) -> Job | None:
        rows = self._read(_HEAD, integration)
        return _load(*rows[0]) if rows else None

    def open_integrations(self) -> list[str]:
        rows = self._read(
            f"{_INTEGRATIONS}SELECT integration FROM named WHERE EXISTS (SELECT 1 FROM jobs "
            f"WHERE jobs.integration = named.integration AND state IN ({_OPEN}))"
        )
        return sorted(row[0] for row in rows)

    def save(self, job: Job) -> None:
        with self._write() as db:
            _save(db, job)

    def finish_attempt(self, job: Job, meta_data: dict[str, Any], duration: float) -> None:
        with self._write() as db:
            _finish(db, job, meta_data, duration)

    def finish_and_start_next(
        self, job: Job, meta_data: dict[str, Any], duration: float, worker: str
    ) -> Started | None:
        """One transaction: the outcome, the meta_data, the latency and the next start."""
        with self._write() as db:
            _finish(db, job, meta_data, duration)
            rows = db.execute(_HEAD, (job.integration,)).fetchall()
            started = start_if_ready(_load(*rows[0]) if rows else None, worker)
            if started is not None:
                _save(db, started.job)
        return started

    def meta_data(self, integration: str) -> dict[str, Any]:
        rows = self._read("SELECT data FROM meta_data WHERE integration = ?", integration)
        return json.loads(rows[0][0]) if rows else {}

    def acquire(self, integration: str, owner: str, ttl: float) -> bool:
        now = time.time()
        with self._write() as db:
            rows = db.execute(
                "SELECT owner, expires_at FROM leases WHERE integration = ?", (integration,)
            ).fetchall()
            if rows and rows[0][0] != owner and rows[0][1] > now:
                return False
            db.execute(
                "INSERT INTO leases (integration, owner, expires_at) VALUES (?, ?, ?) "
                "ON CONFLICT (integration) DO UPDATE SET owner = excluded.owner, "
                "expires_at = excluded.expires_at",
                (integration, owner, now + ttl),
            )
        return True

    def renew(self, integration: str, owner: str, ttl: float) -> bool:
        with self._write() as db:
            cursor = db.execute(
                "UPDATE leases SET expires_at = ? WHERE integration = ? AND owner = ?",
                (time.time() + ttl, integration, owner),
            )
            return cursor.rowcount == 1

    def release(self, integration: str, owner: str) -> None:
        with self._write() as db:
            db.execute(
                "DELETE FROM leases WHERE integration = ? AND owner = ?", (integration, owner)
            )

    def leases(self) -> dict[str, str]:
        rows = self._read("SELECT integration, owner FROM leases WHERE expires_at > ?", time.time())
        return dict(rows)

    def purge(self, before: float) -> int:
        """Delete old finished jobs; each stays counted as accepted (``counters``).

        No index orders the jobs by the time they were received: they are looked at in
        the order stored, ``purge_batch`` at a time, each batch in a short write of its
        own, until a whole batch was received since ``before``. A job received in the
        future (a clock set ahead, then back) does not stop the purge; one stored after
        such a batch yet received before it is left to a later purge."""
        purged, after = 0, -1
        while True:
            last, oldest = self._read(_PURGE_LOOK, after, self.purge_batch)[0]
            if last is None or oldest >= before:
                return purged
            with self._write() as db:
                args = (after, last, before)
                for integration, count in db.execute(_PURGED_COUNTS, args).fetchall():
                    _increment(db, f"{_PURGED}{integration}", count)
                purged += db.execute(_PURGE, args).rowcount
            after = last

    def state_counts(self) -> dict[str, int]:
        return dict(
            self._read(
                f"{_INTEGRATIONS}SELECT state, count(*) FROM jobs WHERE {_TAKEN} GROUP BY state "
                f"UNION ALL SELECT state, count(*) FROM jobs WHERE {_QUEUED} GROUP BY state"
            )
        )

    def integration_counts(self) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {}
        rows = self._read("SELECT integration, state, count(*) FROM jobs GROUP BY 1, 2")
        for integration, state, count in rows:
            counts.setdefault(integration, {})[state] = count
        return counts

    def counters(self) -> dict[str, float]:
        """The stored counters, and each integration's accepted requests: its jobs, those
        kept and those purged. A new job writes its row alone, not a counter too. Both
        are read in one statement, one snapshot: a purge that commits between two reads
        would move its jobs out of the rows counted yet not into the purged count, and a
        counter scraped then would go down."""
        counters: dict[str, float] = {}
        for name, value in self._read(_COUNTERS):
            if name.startswith(_PURGED):
                name = f"received|{name.removeprefix(_PURGED)}|accepted"
            counters[name] = counters.get(name, 0) + value
        return counters

    def _count_accepted_by_rows(self) -> None:
        """A store whose jobs each wrote an accepted counter: keep, of each, what its
        purged jobs counted, as ``counters`` now adds the rows kept."""
        if not self._read("SELECT 1 FROM counters WHERE name LIKE 'received|%|accepted' LIMIT 1"):
            return
        with self._write() as db:
            rows = db.execute(
                "SELECT name, value FROM counters WHERE name LIKE 'received|%|accepted'"
            ).fetchall()
            for name, value in rows:
                integration = name.removeprefix("received|").removesuffix("|accepted")
                (kept,) = db.execute(
                    "SELECT count(*) FROM jobs WHERE integration = ?", (integration,)
                ).fetchone()
                db.execute("DELETE FROM counters WHERE name = ?", (name,))
                if value > kept:
                    _increment(db, f"{_PURGED}{integration}", value - kept)

    def ping(self) -> None:
        """Take the write lock and give it back, and flush the log: a file that is locked,
        read-only or removed still answers reads, but the intake could not store a job in
        it."""
        with self._write() as db:
            db.execute("UPDATE counters SET value = value WHERE 0")
        self._adder.flush(look_at_files=True)


def _set_up(db: sqlite3.Connection) -> None:
    """Make the store's tables and indexes, or bring a store made before up to date. A
    store this process may only read is read as it is: its queries are the same whatever
    the indexes, and the next process that may write it changes them."""
    try:
        db.executescript(_SCHEMA)
    except sqlite3.OperationalError as error:
        if error_code(error) != sqlite3.SQLITE_READONLY or not db.execute(_HAS_JOBS).fetchone():
            raise


def _save(db: sqlite3.Connection, job: Job) -> None:
    """The job's row, found by its seq (the table's own key; every job saved was added to
    or read from the store)."""
    db.execute(
        "UPDATE jobs SET state = ?, record = ? WHERE seq = ? AND id = ?",
        (job.state, dump(job), job.seq, job.id),
    )


def _finish(db: sqlite3.Connection, job: Job, meta_data: dict[str, Any], duration: float) -> None:
    """An attempt's outcome: the job's row, the integration's meta_data, the latency."""
    _save(db, job)
    # Unchanged meta_data (the usual case) leaves its row, and its page, alone.
    db.execute(
        "INSERT INTO meta_data (integration, data) VALUES (?, ?) "
        "ON CONFLICT (integration) DO UPDATE SET data = excluded.data "
        "WHERE data IS NOT excluded.data",
        (job.integration, json.dumps(meta_data)),
    )
    db.execute(
        "INSERT INTO counters (name, value) VALUES (?, 1), ('latency_sum', ?), "
        "('latency_count', 1) "
        "ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
        (f"latency|{latency_bucket(duration)}", duration),
    )


def _increment(db: sqlite3.Connection, name: str, amount: float) -> None:
    db.execute(
        "INSERT INTO counters (name, value) VALUES (?, ?) "
        "ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
        (name, amount),
    )


def _rollback(db: sqlite3.Connection) -> None:
    with suppress(sqlite3.Error):
        db.execute("ROLLBACK")


def _load(seq: int, record: str) -> Job:
    job = Job.from_record(json.loads(record))
    job.seq = seq
    return job
