"""Refused requests, counted in memory and stored about once a second.

A refusal (no secret, a wrong one, an unknown integration, a malformed body) is
answered without waiting for the store: a locked store would hold every refused sender
for the busy timeout, and a flood of requests without the secret would make as many
writes. ``/metrics`` stores what its own process counted before it answers.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections import Counter

from host.state import StateStore, StoreUnavailable

FLUSH_EVERY = 1.0

_log = logging.getLogger("host.intake")


class RefusalCounter:
    def __init__(self, store: StateStore, every: float = FLUSH_EVERY):
        self.store = store
        self.every = every
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str]] = Counter()
        # Runs while there is something to store, and is started again by the next add.
        self._thread: threading.Thread | None = None
        atexit.register(self.flush)

    def add(self, integration: str, outcome: str) -> None:
        with self._lock:
            self._counts[integration, outcome] += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="refusals", daemon=True)
                self._thread.start()

    def flush(self) -> None:
        """Store what was counted since the last flush; kept for the next one when the
        store does not answer (or fails in any way: the flushing thread goes on)."""
        with self._lock:
            counts, self._counts = self._counts, Counter()
        if not counts:
            return
        try:
            self.store.count_received(counts)
        except Exception as error:
            with self._lock:
                self._counts.update(counts)
            if not isinstance(error, StoreUnavailable):
                _log.exception("Storing the counts of refused requests failed")

    def _run(self) -> None:
        pause = threading.Event()
        while not pause.wait(self.every):
            with self._lock:
                if not self._counts:
                    self._thread = None
                    return
            self.flush()
