"""What each connection to the SQLite store shares: how it opens, how it waits out
another writer, and how its errors are named."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from host.state import StoreUnavailable
from host.writer_lock import short_waits

Result = TypeVar("Result")


def quoted(states: tuple[str, ...]) -> str:
    """``states`` as the items of an SQL ``IN (...)``."""
    return ",".join(f"'{state}'" for state in states)


def connect(
    path: Path, busy_timeout: float, check_same_thread: bool = True, timeout: float | None = None
) -> sqlite3.Connection:
    """A connection in autocommit mode, the file in write-ahead log mode; ``timeout`` is
    SQLite's own wait on a busy file (``busy_timeout`` when not given)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(
        path,
        timeout=busy_timeout if timeout is None else timeout,
        isolation_level=None,
        check_same_thread=check_same_thread,
    )
    # A new store's first connections, in several processes at once, each ask for the
    # log: SQLite answers busy at once to all but one, without waiting its timeout.
    while_busy(lambda: db.execute("PRAGMA journal_mode=WAL"), busy_timeout)
    db.execute("PRAGMA synchronous=NORMAL")
    return db


def while_busy(operation: Callable[[], Result], patience: float) -> Result:
    """``operation()``, made again after short waits while another writer makes SQLite
    answer busy, until ``patience`` runs out; any other error at once."""
    for _ in short_waits(patience):
        try:
            return operation()
        except sqlite3.OperationalError as error:
            if error_code(error) != sqlite3.SQLITE_BUSY:
                raise
            failure = error
    raise failure


def error_code(error: sqlite3.Error) -> int:
    """SQLite's primary result code of an error (BUSY, READONLY...)."""
    return getattr(error, "sqlite_errorcode", 0) & 0xFF


def unavailable(error: object) -> StoreUnavailable:
    return StoreUnavailable(f"the state store is unavailable: {error}")


def log_path(db: sqlite3.Connection) -> Path:
    """The write-ahead log's path: SQLite keeps it beside the database's file once links
    are resolved (a state file that is a link has its log beside the file it names)."""
    return Path(db.execute("PRAGMA database_list").fetchone()[2] + "-wal")


def identity(status: os.stat_result) -> tuple[int, int]:
    return status.st_dev, status.st_ino
