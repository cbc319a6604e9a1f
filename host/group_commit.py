"""Group commit: the writes of threads that arrive while one is being committed go to
the disk together, in the next transaction, so that one fsync acknowledges many.

Each caller still returns only once its own write is committed and flushed. The thread
whose write opens a batch commits it; the next waiting thread then commits the writes
that queued up meanwhile, in arrival order, while the first flushes its batch.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class _Slot(Generic[Item, Result]):
    def __init__(self, item: Item):
        self.item = item
        self.wake = threading.Event()
        self.done = False
        self.result: Result | None = None
        self.error: BaseException | None = None


class GroupCommit(Generic[Item, Result]):
    """Runs ``commit(items) -> results`` for batches of concurrently submitted items, one
    batch at a time, then ``flush()`` for each batch, beside the next batch's commit. A
    batch holds at most ``most()`` items (what one commit can take); the others wait for
    the next."""

    def __init__(
        self,
        commit: Callable[[Sequence[Item]], Sequence[Result]],
        flush: Callable[[], None] = lambda: None,
        most: Callable[[], int] = lambda: sys.maxsize,
    ):
        self._commit, self._flush, self._most = commit, flush, most
        self._lock = threading.Lock()
        self._waiting: list[_Slot[Item, Result]] = []
        self._busy = False

    def submit(self, item: Item) -> Result:
        slot: _Slot[Item, Result] = _Slot(item)
        with self._lock:
            self._waiting.append(slot)
            leads = not self._busy
            self._busy = True
        if not leads:
            slot.wake.wait()
        if not slot.done:
            self._commit_waiting()
        if slot.error is not None:
            raise slot.error
        return slot.result  # type: ignore[return-value]

    def _commit_waiting(self) -> None:
        with self._lock:
            batch, self._waiting = self._waiting, []
            if len(batch) > 1:  # (one item is always taken: no need to ask)
                most = max(1, self._most())
                batch, self._waiting = batch[:most], batch[most:]
        try:
            results = self._commit([slot.item for slot in batch])
            for slot, result in zip(batch, results, strict=True):
                slot.result = result
        except BaseException as error:
            for slot in batch:
                slot.error = error
        with self._lock:
            if self._waiting:
                self._waiting[0].wake.set()  # the next batch's committer
            else:
                self._busy = False
        if batch[0].error is None:
            try:
                self._flush()
            except BaseException as error:
                for slot in batch:
                    slot.error = error
        for slot in batch:
            slot.done = True
            slot.wake.set()
