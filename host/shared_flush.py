"""Group flush across processes: one ``fdatasync`` of the write-ahead log at a time on a
machine, each covering every commit made before it started.

A writer numbers its commit after making it (under the writer lock, so the numbers
follow the log's order), then waits for a flush that began after that: when the one
running began too early, the next writer to flush covers it and every other commit
numbered by then. So N intake threads in several processes share one flush instead of
queueing N flushes at the disk. The two numbers live in a 16-byte file beside the
database, mapped into each process; each is an aligned native 8-byte word, written
only under its own lock.
"""

from __future__ import annotations

import fcntl
import mmap
import os
import threading
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

_COMMITTED, _FLUSHED = 0, 1  # commits numbered so far; commits known to be on the disk


class SharedFlush:
    def __init__(self, path: Path, flush: Callable[[], None]):
        self.path = path
        self._flush = flush
        self._threads = threading.Lock()
        self._fd: int | None = None
        self._counters: memoryview | None = None

    def _mapped(self) -> memoryview | None:
        """The counters, mapped once; None where the file cannot be (a read-only folder):
        then each writer flushes for itself."""
        if self._counters is None:
            with suppress(OSError):
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
                try:
                    if os.fstat(fd).st_size < 16:
                        os.ftruncate(fd, 16)
                    self._counters = memoryview(mmap.mmap(fd, 16)).cast("Q")
                    self._fd = fd
                except OSError:
                    os.close(fd)
        return self._counters

    def number_commit(self) -> int:
        """The number of the commit just made; call it holding the writer lock. 0 when
        there are no shared counters."""
        counters = self._mapped()
        if counters is None:
            return 0
        counters[_COMMITTED] += 1
        return counters[_COMMITTED]

    def wait_flushed(self, number: int) -> None:
        """Return once commit ``number`` is on the disk, flushing the log unless a flush
        that began after that commit has finished meanwhile."""
        counters = self._mapped()
        if not number or counters is None or self._fd is None:
            self._flush()
            return
        with self._threads:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                if counters[_FLUSHED] >= number:
                    return
                covered = counters[_COMMITTED]  # every commit numbered before the flush
                self._flush()
                counters[_FLUSHED] = covered
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
