"""New jobs into the SQLite store: one ``INSERT`` a batch, its own transaction, then the
write-ahead log flushed to the disk, so that a job is kept before anyone is told so.

The adding connection does not wait on SQLite's lock, whose sleeps last milliseconds:
its statement takes the lock and gives it back within one call into SQLite, and tries
again in short steps of its own while another writer commits. Its own trigger notes,
within the insert, which new jobs are alone (no job of their integration open before
them): their integration must be queued.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Sequence
from contextlib import suppress
from functools import cache
from pathlib import Path
from typing import Any

from host.jobs import OPEN_STATES, Job
from host.sqlite_files import (
    connect,
    error_code,
    identity,
    log_path,
    quoted,
    unavailable,
    while_busy,
)

# What a new job's row holds: id, integration, state, received_at and its record.
Row = tuple[str, str, str, float, str]

_COLUMNS = 5
# A statement binds at most SQLite's limit of values: 999 in builds before 3.32.
_VALUE_LIMIT = sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER
_OLDEST_VALUE_LIMIT = 999
# How often a flush looks whether the store's files are still at their paths.
_FILES_LOOKED_AT_EVERY = 0.1
_OPEN = quoted(OPEN_STATES)
# A drain that finishes the job before commits before the insert, or after it and finds
# the new one. The job is noted by its id: a seq is given again once the newest jobs
# were purged, and a row noted under it before would name a job that is not this batch's.
_ALONE = f"""
PRAGMA temp_store = MEMORY;
CREATE TEMP TABLE IF NOT EXISTS alone (integration TEXT PRIMARY KEY, seq INTEGER, id TEXT);
CREATE TEMP TRIGGER IF NOT EXISTS job_alone AFTER INSERT ON main.jobs
WHEN NOT EXISTS (SELECT 1 FROM main.jobs WHERE integration = NEW.integration
                 AND state IN ({_OPEN}) AND seq < NEW.seq)
BEGIN
    INSERT OR REPLACE INTO alone VALUES (NEW.integration, NEW.seq, NEW.id);
END;
"""
_NOTED_SINCE = "SELECT integration, id FROM temp.alone WHERE seq >= ?"


def dump(job: Job) -> str:
    """The record without ``seq``: the row's own column holds it, known once inserted."""
    record = job.to_record()
    del record["seq"]
    return json.dumps(record)


def row_of(job: Job) -> Row:
    return job.id, job.integration, job.state, job.received_at, dump(job)


class JobAdder:
    """The one connection of a process that adds jobs, one batch at a time."""

    def __init__(self, path: Path, busy_timeout: float):
        self.path = path
        self.busy_timeout = busy_timeout
        self._db: sqlite3.Connection | None = None
        self._wal: Path | None = None
        self._wal_fd: int | None = None
        self._wal_closer: weakref.finalize | None = None
        self._database_file: tuple[int, int] | None = None
        self._files_looked_at = 0.0
        self._opening = threading.Lock()

    def connection(self) -> sqlite3.Connection:
        with self._opening:
            if self._db is None:
                try:
                    db = connect(self.path, self.busy_timeout, check_same_thread=False, timeout=0)
                except sqlite3.Error as error:
                    raise unavailable(error) from None
                try:
                    db.executescript(_ALONE)
                    self._wal = log_path(db)
                except sqlite3.Error as error:
                    db.close()
                    raise unavailable(error) from None
                self._db = db
            return self._db

    def add(self, rows: Sequence[Row], patience: float | None = None) -> list[tuple[int, bool]]:
        """Insert ``rows`` (at most ``most()``) in one transaction: each one's seq, and
        whether it is its integration's first in the batch and alone. The alone ones
        are read from the trigger's table only for a batch of several integrations.
        SQLite's lock is waited for ``patience`` seconds (the busy timeout when not given)."""
        values: list[Any] = []
        for row in rows:
            values += row
        db = self.connection()
        changes = db.total_changes
        try:
            last = int(
                while_busy(
                    lambda: db.execute(_insert(len(rows)), values).lastrowid or 0,
                    self.busy_timeout if patience is None else patience,
                )
            )
        except sqlite3.Error as error:
            if error_code(error) == sqlite3.SQLITE_READONLY:
                # SQLite opens a file it may not write read-only, and the connection stays
                # so: the next batch opens it again, once the store may be written.
                self.close()
            raise unavailable(error) from None
        noted = db.total_changes - changes - len(rows)
        first: dict[str, tuple[int, str]] = {}
        seqs = range(last - len(rows) + 1, last + 1)
        for seq, (job_id, integration, *_) in zip(seqs, rows, strict=True):
            first.setdefault(integration, (seq, job_id))
        alone = _alone(db, first) if noted else set()
        return [
            (seq, integration in alone and first[integration][0] == seq)
            for seq, (_, integration, *_) in zip(seqs, rows, strict=True)
        ]

    def most(self) -> int:
        """As many jobs as one ``INSERT`` may bind values for: SQLite's limit is 999 values
        in builds before 3.32, 32,766 after, more in some."""
        values = _OLDEST_VALUE_LIMIT if self._db is None else self._db.getlimit(_VALUE_LIMIT)
        return values // _COLUMNS

    def flush(self, look_at_files: bool = False) -> None:
        """Put the write-ahead log on the disk, and with it every commit before now (a
        checkpoint that emptied it first has synced the database file itself).

        A log or database no longer at its path (a data folder deleted under the intake)
        takes SQLite's writes without keeping them: from then on every batch is refused.
        The files are looked at once in ``_FILES_LOOKED_AT_EVERY`` (or when asked), not at
        every flush: each look is three more calls that hand the interpreter to another
        thread, and the jobs acknowledged just before a deletion are lost with it anyway."""
        try:
            log = self._wal_file()
            os.fdatasync(log)
            now = time.monotonic()
            if look_at_files or now >= self._files_looked_at + _FILES_LOOKED_AT_EVERY:
                if not self._in_place(log):
                    raise unavailable("its files were removed")
                self._files_looked_at = now
        except OSError as error:
            raise unavailable(error) from None

    def close(self) -> None:
        """Close the connection and the log's file; the next batch opens them again."""
        with self._opening:
            if self._db is not None:
                with suppress(sqlite3.Error):
                    self._db.close()
                self._db = None
            if self._wal_closer is not None:
                self._wal_closer()
                self._wal_fd = self._wal_closer = None

    def _wal_file(self) -> int:
        """The log's file, opened once: SQLite removes it only when its last connection to
        the database closes, and the adding connection stays open."""
        self.connection()
        with self._opening:
            if self._wal_fd is None:
                assert self._wal is not None
                self._wal_fd = os.open(self._wal, os.O_RDONLY | os.O_CLOEXEC)
                self._wal_closer = weakref.finalize(self, os.close, self._wal_fd)
                self._database_file = identity(os.stat(self.path))
            return self._wal_fd

    def _in_place(self, log: int) -> bool:
        """Whether the log and the database are still the files at their paths."""
        assert self._wal is not None
        return identity(os.fstat(log)) == identity(os.stat(self._wal)) and (
            self._database_file == identity(os.stat(self.path))
        )


def _alone(db: sqlite3.Connection, first: dict[str, tuple[int, str]]) -> set[str]:
    """The integrations of a batch whose first job the trigger noted alone. The jobs are
    stored by now: a look that fails says all of them, and the caller queues tasks that
    may find nothing to do, rather than refuse what it stored."""
    if len(first) == 1:
        return set(first)
    try:
        rows = db.execute(_NOTED_SINCE, (min(seq for seq, _ in first.values()),)).fetchall()
    except sqlite3.Error:
        return set(first)
    return {name for name, job_id in rows if name in first and first[name][1] == job_id}


@cache
def _insert(count: int) -> str:
    """``count`` new jobs in one ``INSERT``: SQLite numbers them one after another, each
    one more than the largest seq before it."""
    rows = ", ".join([f"({', '.join('?' * _COLUMNS)})"] * count)
    return f"INSERT INTO jobs (id, integration, state, received_at, record) VALUES {rows}"
