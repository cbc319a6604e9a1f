"""The event log: the events the proxy answered, kept in SQLite for the console and the CLI.

Every proxy worker writes to the same file under ``AHA_SERVICES_DATA``, so that the
console (another process) sees them all. The answer never waits on the file: a
worker hands each entry to a bounded queue and a background thread writes batches,
redacting them first and retrying while another process holds the file's lock. The
last ``AHA_SERVICES_EVENT_LOG`` entries (1,000) are kept; ``0`` switches the log off.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from services.core.redaction import Redactor

EVENT_LOG_SETTING = "AHA_SERVICES_EVENT_LOG"
DATA_SETTING = "AHA_SERVICES_DATA"
DEFAULT_DATA = "var"
DEFAULT_KEEP = 1000
FILE_NAME = "events.sqlite3"
# Entries waiting for the writer; beyond this a burst is counted, not queued.
QUEUE_LIMIT = 1000
BATCH_LIMIT = 200
# The writer lets a burst gather this long, so that many events share one transaction
# (the page shows them this much later; a commit costs far more than an entry).
BATCH_DELAY = 0.05
# The writer's connection keeps few pages cached: it only appends.
CACHE_KIB = 256
# How long one write waits for another process's lock before the batch is retried.
LOCK_WAIT = 0.5
RETRY_LIMIT = 2.0

_log = logging.getLogger("services.event_log")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    kind TEXT NOT NULL,
    service TEXT NOT NULL,
    event TEXT NOT NULL,
    outcome TEXT NOT NULL,
    duration REAL NOT NULL,
    replay_of INTEGER,
    detail TEXT NOT NULL
)
"""
_SUMMARY = "id, at, kind, service, event, outcome, duration, replay_of"


class SettingError(ValueError):
    """``AHA_SERVICES_EVENT_LOG`` holds something other than a count; the message names it."""


@dataclass
class Entry:
    """One answered request, as the proxy saw it: nothing here is redacted yet.

    ``secrets`` are the values to filter (the service's secret settings); the
    writer redacts every text of the entry with them before it is stored.
    """

    kind: str
    service: str
    event: str
    outcome: str
    duration: float
    detail: dict[str, Any]
    secrets: list[Any] = field(default_factory=list)
    at: float = field(default_factory=time.time)
    replay_of: int | None = None


def keep_setting() -> int:
    """How many entries to keep (``AHA_SERVICES_EVENT_LOG``, 1,000); 0 when the log is off."""
    text = os.environ.get(EVENT_LOG_SETTING, "").strip()
    if not text:
        return DEFAULT_KEEP
    if not text.isdigit():
        raise SettingError(f"{EVENT_LOG_SETTING} must be a count of events (0: off), not {text!r}")
    return int(text)


def log_path() -> Path:
    """The event log's file under ``AHA_SERVICES_DATA`` (``var/``)."""
    return Path(os.environ.get(DATA_SETTING) or DEFAULT_DATA) / FILE_NAME


def current() -> EventLog | None:
    """This process's event log, or None when ``AHA_SERVICES_EVENT_LOG`` is 0."""
    return _log_for(
        os.environ.get(DATA_SETTING) or DEFAULT_DATA, os.environ.get(EVENT_LOG_SETTING, "")
    )


@lru_cache(maxsize=32)
def _log_for(data: str, setting: str) -> EventLog | None:
    keep = keep_setting()
    return EventLog(Path(data) / FILE_NAME, keep) if keep else None


def redact_entry(entry: Entry) -> dict[str, Any]:
    """The entry as it is stored: every text in it redacted, the detail as JSON text."""
    redact = Redactor(entry.secrets)
    text = json.dumps(entry.detail, default=str)
    # A text holding a document of its own (a JSON body) reads escaped in ``text``: such
    # texts are redacted as they read unescaped first. Most entries hold none.
    if '\\"' in text:
        detail = _redact_values(entry.detail, redact, only='"')
        text = json.dumps(detail, default=str)
    redacted = redact(text)
    if redacted != text:
        try:
            json.loads(redacted)
        except ValueError:  # a secret that is a piece of JSON itself: value by value
            redacted = json.dumps(_redact_values(json.loads(text), redact), default=str)
    return {
        "at": entry.at,
        "kind": entry.kind,
        "service": redact(entry.service),
        "event": redact(entry.event),
        "outcome": redact(entry.outcome),
        "duration": entry.duration,
        "replay_of": entry.replay_of,
        "detail": redacted,
    }


def _redact_values(value: Any, redact: Callable[[object], str], only: str = "") -> Any:
    """``value`` with its texts redacted one by one (those holding ``only``, when given)."""
    if isinstance(value, dict):
        return {
            redact(key) if isinstance(key, str) and only in key else key: _redact_values(
                item, redact, only
            )
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redact_values(item, redact, only) for item in value]
    if isinstance(value, str) and only in value:
        return redact(value)
    return value


class EventLog:
    """The SQLite file of recorded events, and this process's writer for it."""

    def __init__(self, path: Path, keep: int = DEFAULT_KEEP):
        self.path = Path(path)
        self.keep = keep
        self.dropped = 0
        self._queue: queue.Queue[Entry] = queue.Queue(QUEUE_LIMIT)
        self._writer: threading.Thread | None = None
        self._writer_pid = 0
        self._start_lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None

    # Writing -----------------------------------------------------------------

    def record(self, entry: Entry) -> None:
        """Queue ``entry`` for the writer; never blocks, never raises."""
        if self._writer_pid != os.getpid():  # first use, or a forked worker
            self._start_writer()
        try:
            self._queue.put_nowait(entry)
        except queue.Full:
            self.dropped += 1

    def write_now(self, entry: Entry) -> int:
        """Store ``entry`` in the caller's thread and return its id (the CLI's replays)."""
        with self._connect() as connection:
            return self._insert(connection, [redact_entry(entry)])

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything queued is written (or given up); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                left = deadline - time.monotonic()
                if left <= 0 or not self._queue.all_tasks_done.wait(left):
                    return False
        return True

    def _start_writer(self) -> None:
        with self._start_lock:
            if self._writer_pid == os.getpid():
                return
            # A forked child inherits the parent's queue without its thread.
            self._queue = queue.Queue(QUEUE_LIMIT)
            self._connection = None  # the parent's, used by the parent's writer only
            self._writer = threading.Thread(target=self._run, name="event-log", daemon=True)
            self._writer_pid = os.getpid()
            self._writer.start()

    def _run(self) -> None:
        source = self._queue
        pause = threading.Event()  # never set: waits without the retry's ``time.sleep``
        while True:
            batch = [source.get()]
            pause.wait(BATCH_DELAY)
            while len(batch) < BATCH_LIMIT:
                try:
                    batch.append(source.get_nowait())
                except queue.Empty:
                    break
            try:
                self._write(batch)
            finally:
                for _ in batch:
                    source.task_done()

    def _write(self, batch: list[Entry]) -> None:
        try:
            rows = [redact_entry(entry) for entry in batch]
        except Exception:
            _log.exception("Could not record %d events", len(batch))
            return
        wait = 0.05
        while True:
            try:
                self._insert(self._writer_connection(), rows)
                return
            except sqlite3.Error as error:
                self._close_writer_connection()
                if "locked" not in str(error) and "busy" not in str(error):
                    _log.warning("Could not record events in %s: %s", self.path, error)
                    return
            # Another process holds the file: keep the batch and try again shortly.
            time.sleep(wait)
            wait = min(wait * 2, RETRY_LIMIT)

    def _writer_connection(self) -> sqlite3.Connection:
        """The writer thread's connection, opened once: opening one costs more than a batch."""
        if self._connection is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=LOCK_WAIT)
            try:
                _prepare(connection)
                connection.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            except BaseException:
                connection.close()
                raise
            self._connection = connection
        return self._connection

    def _close_writer_connection(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _insert(self, connection: sqlite3.Connection, rows: list[dict[str, Any]]) -> int:
        with connection:
            connection.executemany(
                "INSERT INTO events (at, kind, service, event, outcome, duration, replay_of,"
                " detail) VALUES (:at, :kind, :service, :event, :outcome, :duration,"
                " :replay_of, :detail)",
                rows,
            )
            last = connection.execute("SELECT max(id) FROM events").fetchone()[0]
            connection.execute("DELETE FROM events WHERE id <= ?", (last - self.keep,))
        return int(last)

    # Reading -----------------------------------------------------------------

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=LOCK_WAIT)) as connection:
            connection.row_factory = sqlite3.Row
            _prepare(connection)
            yield connection

    def recent(self, limit: int = 100, after: int = 0) -> list[dict[str, Any]]:
        """Summaries of the newest entries (newer than id ``after``), newest first."""
        if not self.path.exists():
            return []
        with self._connect() as connection:
            rows = connection.execute(
                f"SELECT {_SUMMARY} FROM events WHERE id > ? ORDER BY id DESC LIMIT ?",
                (after, limit),
            ).fetchall()
        return [dict(row) for row in rows]

    def get(self, entry_id: int) -> dict[str, Any] | None:
        """One entry with its detail and the ids of its replays; None when it is gone."""
        if not self.path.exists():
            return None
        with self._connect() as connection:
            row = connection.execute(
                f"SELECT {_SUMMARY}, detail FROM events WHERE id = ?", (entry_id,)
            ).fetchone()
            if row is None:
                return None
            replays = connection.execute(
                "SELECT id FROM events WHERE replay_of = ? ORDER BY id", (entry_id,)
            ).fetchall()
        entry = dict(row)
        entry["detail"] = json.loads(entry["detail"])
        entry["replays"] = [replay["id"] for replay in replays]
        return entry


def _prepare(connection: sqlite3.Connection) -> None:
    """WAL (readers never wait on the writers), and the table."""
    if connection.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute(_SCHEMA)
