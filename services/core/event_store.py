"""The event log's file: its settings, its SQLite table, and the writer of its rows.

Only the standard library, and ``sqlite3`` only where a connection opens: a proxy
worker relays its entries to gunicorn's arbiter (``proxy/event_relay.py``) and never
loads SQLite, and the arbiter loads this file on its own, without the ``services``
package, whose code a reload replaces.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlite3

EVENT_LOG_SETTING = "AHA_SERVICES_EVENT_LOG"
DATA_SETTING = "AHA_SERVICES_DATA"
DEFAULT_DATA = "var"
DEFAULT_KEEP = 1000
FILE_NAME = "events.sqlite3"
# How long one write waits for another process's lock before the batch is retried.
LOCK_WAIT = 0.5
RETRY_LIMIT = 2.0
# The writer's connection keeps few pages cached: it only appends.
CACHE_KIB = 256

_log = logging.getLogger("services.event_log")

SCHEMA = """
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
SUMMARY = "id, at, kind, service, event, outcome, duration, replay_of"
_TEXTS = ("kind", "service", "event", "outcome", "detail")
_LARGEST_ID = (1 << 63) - 1


class SettingError(ValueError):
    """``AHA_SERVICES_EVENT_LOG`` holds something other than a count; the message names it."""


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


def connect(path: Path) -> sqlite3.Connection:
    """A connection to the log (created with its table when missing); rows read as mappings."""
    import sqlite3

    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, timeout=LOCK_WAIT, check_same_thread=False)
    try:
        connection.row_factory = sqlite3.Row
        if connection.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            connection.execute("PRAGMA journal_mode=WAL")  # readers never wait on writers
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute(SCHEMA)
    except BaseException:
        connection.close()
        raise
    return connection


def is_row(value: object) -> bool:
    """Whether ``value`` is a row of the table as the event log makes them: what a worker
    relays is checked, since SQLite refuses other values only half way through a batch."""
    if not isinstance(value, dict):
        return False
    replay_of = value.get("replay_of")
    return (
        all(isinstance(value.get(name), str) for name in _TEXTS)
        and all(_is_number(value.get(name)) for name in ("at", "duration"))
        and "replay_of" in value
        and (replay_of is None or (_is_id(replay_of)))
    )


def _is_number(value: object) -> bool:
    return isinstance(value, float) or _is_id(value)


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _LARGEST_ID


def insert(connection: sqlite3.Connection, rows: list[dict[str, Any]], keep: int) -> int:
    """Store ``rows`` and forget all but the last ``keep`` entries; the last row's id."""
    with connection:
        connection.executemany(
            "INSERT INTO events (at, kind, service, event, outcome, duration, replay_of,"
            " detail) VALUES (:at, :kind, :service, :event, :outcome, :duration,"
            " :replay_of, :detail)",
            rows,
        )
        last = connection.execute("SELECT max(id) FROM events").fetchone()[0]
        connection.execute("DELETE FROM events WHERE id <= ?", (last - keep,))
    return int(last)


class RowWriter:
    """Stores batches of rows on one connection, opened once (opening costs more than a
    batch), waiting while another process holds the file."""

    def __init__(self, path: Path, keep: int):
        self.path = path
        self.keep = keep
        self._connection: sqlite3.Connection | None = None
        # Held while a connection is in use, and by ``pause`` until ``resume``.
        self._lock = threading.Lock()

    def store(self, rows: list[dict[str, Any]]) -> None:
        """Store ``rows``; a file that cannot be written is logged, never raised."""
        wait = 0.05
        while not self._attempt(rows):
            # Another process holds the file: keep the batch and try again shortly.
            time.sleep(wait)
            wait = min(wait * 2, RETRY_LIMIT)

    def _attempt(self, rows: list[dict[str, Any]]) -> bool:
        """True once ``rows`` are stored or given up; False while the file is busy."""
        import sqlite3

        with self._lock:
            try:
                if self._connection is None:
                    self._connection = connect(self.path)
                    self._connection.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
                insert(self._connection, rows, self.keep)
                return True
            except (sqlite3.Error, OSError) as error:
                self._close()
                if not _busy(error):
                    _log.warning("Could not record events in %s: %s", self.path, error)
                    return True
                return False

    def pause(self) -> None:
        """Close the connection and store nothing until ``resume``: a process about to
        fork, whose children must not inherit the connection (its files, its memory)."""
        self._lock.acquire()
        self._close()

    def resume(self) -> None:
        self._lock.release()

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _busy(error: Exception) -> bool:
    """Whether SQLite said another connection holds the file (worth waiting for), by its
    code: a message may name a path that reads "locked" or "busy"."""
    import sqlite3

    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
