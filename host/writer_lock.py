"""One writer at a time across the processes of a machine, taking its turn within a
fraction of a millisecond of the last one: an ``flock`` on a file beside the database,
behind a lock of the process's own threads."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from host.state import StoreUnavailable

# A waiting writer looks again after 50 us, then twice as long each time, up to 0.5 ms:
# a commit holds a lock for well under a millisecond.
_FIRST_RETRY = 0.00005
_LAST_RETRY = 0.0005


class WriterLock:
    def __init__(self, path: Path):
        self.path = path
        self._threads = threading.Lock()
        self._fd: int | None = None

    def _file(self) -> int | None:
        """The lock file, opened once; None where it cannot be (a read-only folder):
        SQLite's own locking still keeps the writes apart."""
        if self._fd is None:
            with suppress(OSError):
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        return self._fd

    @contextmanager
    def held(self, patience: float) -> Iterator[None]:
        """Hold the lock; ``StoreUnavailable`` when it was not free within ``patience``."""
        if not self._threads.acquire(timeout=patience):
            raise StoreUnavailable("the state store is unavailable: busy")
        try:
            fd = self._file()
            if fd is not None:
                _lock(fd, patience)
            try:
                yield
            finally:
                if fd is not None:
                    fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()


def short_waits(patience: float) -> Iterator[None]:
    """One turn at once, then after each short wait, until ``patience`` runs out: for a
    writer that tries again while another one commits."""
    deadline = time.monotonic() + patience
    retry = _FIRST_RETRY
    yield
    while time.monotonic() < deadline:
        time.sleep(retry)
        retry = min(retry * 2, _LAST_RETRY)
        yield


def _lock(fd: int, patience: float) -> None:
    """Wait while another process writes; a holder stuck past ``patience`` makes this
    writer give up."""
    for _ in short_waits(patience):
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
    raise StoreUnavailable("the state store is unavailable: busy")
