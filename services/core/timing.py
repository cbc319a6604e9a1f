"""Time limits for events: a service cannot hold a proxy worker for ever.

Handlers run on helper threads that are kept for the next event (starting a thread
cost more than a small event's own work); a thread left idle for ``IDLE_SECONDS``
ends, and closes what it kept for reuse (``thread_resource``), such as open
connections. A caller that runs many events one after another (the host's worker)
hands the whole sequence to one helper thread and watches each event's limit from
its own (``run_watched``): one hand-over for the sequence, not two for each event.
"""

from __future__ import annotations

import contextvars
import os
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from services.core.errors import TimeLimitExceeded
from services.core.schema import number

DEFAULT_EVENT_TIME_LIMIT = 310.0
# The ``timeout`` setting every service accepts: its event time limit, in seconds.
EVENT_TIMEOUT_SETTING = number("timeout", minimum=1, maximum=600)
# How long a helper thread waits for its next event before it ends.
IDLE_SECONDS = 30.0
# Idle helper threads kept at most; one finishing beyond that ends at once.
MAX_IDLE = 32

F = TypeVar("F", bound=Callable[..., Any])
R = TypeVar("R")


def time_limit(seconds: float) -> Callable[[F], F]:
    """Give one ``receive_<event>`` method a shorter limit than the service's default."""

    def mark(method: F) -> F:
        # A function attribute, which typeshed does not declare; receive() reads it back.
        method.time_limit = float(seconds)  # type: ignore[attr-defined]
        return method

    return mark


class _HandlerThread(threading.Thread):
    """Runs handlers one after another; idle, it waits in ``_idle`` for the next."""

    def __init__(self) -> None:
        super().__init__(name="event", daemon=True)
        self._work: queue.SimpleQueue[tuple[Callable[[], None], Callable[[], None]]] = (
            queue.SimpleQueue()
        )
        self.resources: dict[str, Any] = {}

    def submit(self, task: Callable[[], None], finished: Callable[[], None]) -> None:
        """Run ``task``, then call ``finished``: only once the thread is back in the pool,
        so that the caller's next event finds this thread (and what it keeps) free."""
        self._work.put((task, finished))

    def run(self) -> None:
        try:
            while True:
                try:
                    task, finished = self._work.get(timeout=IDLE_SECONDS)
                except queue.Empty:
                    if _retire(self):
                        return
                    continue  # taken from the pool just now: its task is on the way
                task()
                rested = _rest(self)
                finished()
                del task, finished  # not kept alive while the thread waits
                if not rested:
                    return
        finally:
            for resource in self.resources.values():
                resource.close()
            self.resources.clear()


_idle: list[_HandlerThread] = []
_idle_lock = threading.Lock()


def _rest(thread: _HandlerThread) -> bool:
    """Put a thread whose handler finished back in the pool; False when it is full."""
    with _idle_lock:
        if len(_idle) >= MAX_IDLE:
            return False
        _idle.append(thread)
        return True


def _retire(thread: _HandlerThread) -> bool:
    """Take an idle thread out of the pool to end it; False when a caller just took it."""
    with _idle_lock:
        if thread in _idle:
            _idle.remove(thread)
            return True
        return False


def _handler_thread() -> _HandlerThread:
    with _idle_lock:
        if _idle:
            return _idle.pop()  # the most recently used: its connections are the freshest
    thread = _HandlerThread()
    thread.start()
    return thread


def _forget_threads() -> None:
    """A forked child has none of its parent's threads."""
    global _idle_lock
    _idle.clear()
    _idle_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_threads)


def thread_resource(key: str, build: Callable[[], Any]) -> Any | None:
    """An object kept on this helper thread for the events it runs next (closed when the
    thread ends), built on first use; None outside a helper thread, where nothing would
    close it."""
    thread = threading.current_thread()
    if not isinstance(thread, _HandlerThread):
        return None
    resource = thread.resources.get(key)
    if resource is None:
        resource = thread.resources[key] = build()
    return resource


def run_with_time_limit(function: Callable[[], Any], seconds: float, what: str) -> Any:
    """Run ``function`` on a helper thread and stop waiting for it after ``seconds``.

    A thread cannot be killed; the caller's HTTP client refuses new requests once
    the deadline has passed, so an abandoned handler stops at its next call out, and
    its thread returns to the pool only when it has.
    """
    watch = _watch.get()
    if watch is not None and watch.takes_event():
        return watch.run(function, seconds, what)
    outcome, finished = _Outcome(), threading.Event()
    context = contextvars.copy_context()
    thread = _handler_thread()
    thread.name = f"event:{what}"
    thread.submit(lambda: outcome.capture(lambda: context.run(function)), finished.set)
    if not finished.wait(seconds):
        raise _overran(what, seconds)
    return outcome.result()


class _Outcome:
    """What a task on a helper thread returned or raised, handed back to its caller."""

    def __init__(self) -> None:
        self._value: Any = None
        self._error: BaseException | None = None

    def capture(self, function: Callable[[], Any]) -> None:
        try:
            self._value = function()
        except BaseException as error:
            self._error = error

    def result(self) -> Any:
        if self._error is not None:
            raise self._error
        return self._value


def _overran(what: str, seconds: float) -> TimeLimitExceeded:
    return TimeLimitExceeded(f"{what} did not finish within its time limit of {seconds:g} s")


class Abandoned(BaseException):
    """Ends a watched sequence on its helper thread once its watcher gave it up, when
    the event that overran its limit returns at last: from then on, nothing the
    sequence would do is wanted (its watcher carries on in its place)."""


class _Watch:
    """The limit of the event that a watched sequence runs now, and its watcher's view.

    The watcher sleeps until the running event's deadline and is woken only when the
    sequence ends, or when an event starts whose deadline comes before that sleep ends:
    the next event of the same service is usually later, so it costs no hand-over."""

    def __init__(self) -> None:
        self._changed = threading.Condition(threading.Lock())
        self._deadline: float | None = None
        self._event = ("", 0.0)
        self._wake_at: float | None = None
        self._given_up = False
        self._ended = False
        self.runner: threading.Thread | None = None  # the helper thread of the sequence

    def takes_event(self) -> bool:
        """False for an event started inside another, or on a thread that only carries the
        sequence's context (one an event started): that one runs on a thread of its own."""
        with self._changed:
            return self._deadline is None and threading.current_thread() is self.runner

    def run(self, function: Callable[[], Any], seconds: float, what: str) -> Any:
        threading.current_thread().name = f"event:{what}"
        with self._changed:
            self._deadline = time.monotonic() + seconds
            self._event = (what, seconds)
            if self._wake_at is None or self._deadline < self._wake_at:
                self._changed.notify()
        try:
            # In a context of its own, as a lone event: what it sets is not the next one's.
            return contextvars.copy_context().run(function)
        finally:
            with self._changed:
                self._deadline = None
                if self._given_up:
                    raise Abandoned  # what it returned or raised is nobody's now

    def end(self) -> None:
        with self._changed:
            self._ended = True
            self._changed.notify()

    def watch(self) -> None:
        """Wait for the sequence to end; raise TimeLimitExceeded, and give the sequence
        up, when one of its events overruns its limit."""
        with self._changed:
            while not self._ended:
                if self._deadline is not None and time.monotonic() >= self._deadline:
                    self._given_up = True
                    raise _overran(*self._event)
                self._wake_at = self._deadline
                timeout = None if self._deadline is None else self._deadline - time.monotonic()
                self._changed.wait(timeout)


_watch: contextvars.ContextVar[_Watch | None] = contextvars.ContextVar("watch", default=None)


def run_watched(sequence: Callable[[], R]) -> R:
    """Run ``sequence`` on a helper thread, its events (``run_with_time_limit``) one
    after another on that thread, and watch their limits from this one.

    When an event overruns its limit, this raises TimeLimitExceeded at once and the
    sequence is given up: the event is left to finish on its own, and the sequence
    ends with ``Abandoned`` when it does. The caller then records the overrun and
    runs the rest of its work in a new sequence."""
    watch, outcome = _Watch(), _Outcome()
    context = contextvars.copy_context()

    def task() -> None:
        _watch.set(watch)
        watch.runner = threading.current_thread()
        outcome.capture(sequence)  # (``Abandoned`` too, which nobody reads)

    thread = _handler_thread()
    thread.name = "events"
    thread.submit(lambda: context.run(task), watch.end)
    watch.watch()
    result: R = outcome.result()
    return result
