"""Where the queue and the state live: SQLite files under ``AHA_SERVICES_DATA``, or
one Redis server named by ``AHA_SERVICES_QUEUE`` that workers on several machines share."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from huey import Huey

from host.config import ConfigError
from host.dispatch import Enqueue
from host.state import StateStore, StoreUnavailable
from host.tasks import enqueuer

DATA_VARIABLE = "AHA_SERVICES_DATA"
QUEUE_VARIABLE = "AHA_SERVICES_QUEUE"
DEFAULT_DATA = "var"
STATE_FILE = "state.sqlite3"
QUEUE_NAME = "aha-services"
# Seconds a write waits for SQLite's lock before the intake answers 503.
SQLITE_TIMEOUT_VARIABLE = "AHA_SERVICES_SQLITE_TIMEOUT"


@dataclass
class Engine:
    huey: Huey
    store: StateStore
    enqueue: Enqueue
    # The engine's name for messages: a path or a Redis URL without its password.
    where: str

    def ping(self) -> None:
        """Raise ``StoreUnavailable`` unless both the queue and the state answer."""
        self.store.ping()
        try:
            self.huey.pending_count()
        except Exception as error:
            raise StoreUnavailable(f"the queue is unavailable: {type(error).__name__}") from None


def build_engine(environ: Mapping[str, str] | None = None) -> Engine:
    environ = os.environ if environ is None else environ
    settings = sqlite_settings(environ)
    if settings is None:
        return _redis_engine(environ[QUEUE_VARIABLE].strip())
    return _sqlite_engine(*settings)


def sqlite_settings(environ: Mapping[str, str]) -> tuple[Path, float] | None:
    """The SQLite state file and how long a write waits for its lock; None when the
    queue and the state are in Redis."""
    queue = environ.get(QUEUE_VARIABLE, "").strip()
    if queue.startswith(("redis://", "rediss://", "unix://")):
        return None
    if queue not in ("", "sqlite"):
        raise ConfigError(f"{QUEUE_VARIABLE}: a redis:// URL, or unset for SQLite")
    data = Path(environ.get(DATA_VARIABLE) or DEFAULT_DATA)
    try:
        timeout = float(environ.get(SQLITE_TIMEOUT_VARIABLE) or 5.0)
    except ValueError:
        raise ConfigError(f"{SQLITE_TIMEOUT_VARIABLE}: a number of seconds") from None
    return data / STATE_FILE, timeout


def _sqlite_engine(state: Path, timeout: float) -> Engine:
    """huey makes its tables in an exclusive transaction whenever it opens the queue: a
    queue file that another process holds locked, or cannot be opened, is named as an
    unavailable store is."""
    import sqlite3

    from huey import SqliteHuey

    from host.sqlite_state import SqliteStateStore

    data = state.parent
    data.mkdir(parents=True, exist_ok=True)
    try:
        huey = SqliteHuey(
            QUEUE_NAME,
            filename=str(data / "queue.sqlite3"),
            results=False,
            timeout=timeout,
            fsync=True,
        )
    except sqlite3.Error as error:
        raise StoreUnavailable(f"the queue is unavailable: {error}") from None
    store = SqliteStateStore(state, busy_timeout=timeout)
    return Engine(huey, store, enqueuer(huey), str(data))


def _redis_engine(url: str) -> Engine:
    from urllib.parse import urlsplit

    from huey import RedisHuey
    from redis import ConnectionPool

    from host.redis_state import RedisStateStore

    pool = ConnectionPool.from_url(url)
    huey = RedisHuey(QUEUE_NAME, connection_pool=pool, results=False)
    store = RedisStateStore(pool)
    parts = urlsplit(url)
    where = f"{parts.scheme}://{parts.hostname}:{parts.port or 6379}{parts.path}"
    return Engine(huey, store, enqueuer(huey), where)
