"""Time limits for events: a service cannot hold a proxy worker for ever.

Handlers run on helper threads that are kept for the next event (starting a thread
cost more than a small event's own work); a thread left idle for ``IDLE_SECONDS``
ends, and closes what it kept for reuse (``thread_resource``), such as open
connections.
"""

from __future__ import annotations

import contextvars
import os
import queue
import threading
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
        self._work: queue.SimpleQueue[tuple[Callable[[], None], threading.Event]] = (
            queue.SimpleQueue()
        )
        self.resources: dict[str, Any] = {}

    def submit(self, task: Callable[[], None], finished: threading.Event) -> None:
        """Run ``task``, then set ``finished``: only once the thread is back in the pool, so
        that the caller's next event finds this thread (and what it keeps) free."""
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
                finished.set()
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
    outcome: dict[str, Any] = {}
    finished = threading.Event()
    context = contextvars.copy_context()

    def task() -> None:
        try:
            outcome["value"] = context.run(function)
        except BaseException as error:  # handed back to the caller's thread
            outcome["error"] = error

    thread = _handler_thread()
    thread.name = f"event:{what}"
    thread.submit(task, finished)
    if not finished.wait(seconds):
        raise TimeLimitExceeded(f"{what} did not finish within its time limit of {seconds:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")
