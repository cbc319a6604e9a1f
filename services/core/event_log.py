"""The event log: the events the proxy answered, kept in SQLite for the console and the CLI.

Every process that records hands each entry to a bounded queue, so that the answer
never waits on the file; a background thread redacts batches of them and stores
them in one file under ``AHA_SERVICES_DATA`` (``services/core/event_store.py``), which
the console (another process) reads. A gunicorn worker of the proxy relays its
batches, redacted, to the arbiter, which stores the entries of every worker
(``relay_to``, ``proxy/event_relay.py``): the workers never load SQLite. The last
``AHA_SERVICES_EVENT_LOG`` entries (1,000) are kept; ``0`` switches the log off.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from services.core import event_store
from services.core.arbiter_channels import frame
from services.core.event_store import (
    DATA_SETTING,
    DEFAULT_DATA,
    DEFAULT_KEEP,
    EVENT_LOG_SETTING,
    FILE_NAME,
    SettingError,
    keep_setting,
    log_path,
)
from services.core.redaction import Redactor

__all__ = [
    "DATA_SETTING",
    "DEFAULT_DATA",
    "DEFAULT_KEEP",
    "EVENT_LOG_SETTING",
    "FILE_NAME",
    "Entry",
    "EventLog",
    "SettingError",
    "current",
    "keep_setting",
    "log_path",
    "redact_entry",
    "relay_to",
]

# Entries waiting for the writer; beyond this a burst is counted, not queued.
QUEUE_LIMIT = 1000
BATCH_LIMIT = 200
# The writer lets a burst gather this long, so that many events share one transaction
# (the page shows them this much later; a commit costs far more than an entry).
BATCH_DELAY = 0.05

_log = logging.getLogger("services.event_log")


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


class _Relay:
    """Where this process sends its batches instead of writing the file itself."""

    def __init__(self, channel: socket.socket, path: Path):
        self.channel = channel
        self.path = path
        self.pid = os.getpid()
        self.broken = False

    def send(self, rows: list[dict[str, Any]]) -> None:
        if self.broken:
            return
        try:
            self.channel.sendall(frame(rows))
        except OSError as error:  # the arbiter is gone: its workers follow it shortly
            self.broken = True
            _log.warning("Could not relay events to the proxy's arbiter: %s", error)


_relay: _Relay | None = None


def relay_to(channel: socket.socket, path: Path) -> None:
    """Send this process's entries for the log at ``path`` through ``channel``, to the
    process that stores them (a proxy worker's arbiter), instead of writing the file."""
    global _relay
    _relay = _Relay(channel, Path(path))


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
        self._rows = event_store.RowWriter(self.path, keep)

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
            return event_store.insert(connection, [redact_entry(entry)], self.keep)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything queued is written or relayed (or given up); False on
        timeout."""
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
            # A forked child inherits the parent's queue without its thread, and the
            # parent's connection, which only the parent's writer uses.
            self._queue = queue.Queue(QUEUE_LIMIT)
            self._rows = event_store.RowWriter(self.path, self.keep)
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
        relay = _relay
        if relay is not None and relay.pid == os.getpid() and relay.path == self.path:
            relay.send(rows)
        else:
            self._rows.store(rows)

    # Reading -----------------------------------------------------------------

    @contextmanager
    def _connect(self) -> Iterator[Any]:
        with closing(event_store.connect(self.path)) as connection:
            yield connection

    def recent(self, limit: int = 100, after: int = 0) -> list[dict[str, Any]]:
        """Summaries of the newest entries (newer than id ``after``), newest first."""
        if not self.path.exists():
            return []
        with self._connect() as connection:
            rows = connection.execute(
                f"SELECT {event_store.SUMMARY} FROM events WHERE id > ? ORDER BY id DESC LIMIT ?",
                (after, limit),
            ).fetchall()
        return [dict(row) for row in rows]

    def get(self, entry_id: int) -> dict[str, Any] | None:
        """One entry with its detail and the ids of its replays; None when it is gone."""
        if not self.path.exists():
            return None
        with self._connect() as connection:
            row = connection.execute(
                f"SELECT {event_store.SUMMARY}, detail FROM events WHERE id = ?", (entry_id,)
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
