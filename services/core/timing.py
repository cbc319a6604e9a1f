"""Time limits for events: a service cannot hold a proxy worker for ever."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from services.core.errors import TimeLimitExceeded
from services.core.schema import number

DEFAULT_EVENT_TIME_LIMIT = 310.0
# The ``timeout`` setting every service accepts: its event time limit, in seconds.
EVENT_TIMEOUT_SETTING = number("timeout", minimum=1, maximum=600)

F = TypeVar("F", bound=Callable[..., Any])


def time_limit(seconds: float) -> Callable[[F], F]:
    """Give one ``receive_<event>`` method a shorter limit than the service's default."""

    def mark(method: F) -> F:
        # A function attribute, which typeshed does not declare; receive() reads it back.
        method.time_limit = float(seconds)  # type: ignore[attr-defined]
        return method

    return mark


def run_with_time_limit(function: Callable[[], Any], seconds: float, what: str) -> Any:
    """Run ``function`` in a helper thread and stop waiting for it after ``seconds``.

    A thread cannot be killed; the caller's HTTP client refuses new requests once
    the deadline has passed, so an abandoned handler stops at its next call out.
    """
    outcome: dict[str, Any] = {}
    finished = threading.Event()
    context = contextvars.copy_context()

    def target() -> None:
        try:
            outcome["value"] = context.run(function)
        except BaseException as error:  # handed back to the caller's thread
            outcome["error"] = error
        finally:
            finished.set()

    threading.Thread(target=target, name=f"event:{what}", daemon=True).start()
    if not finished.wait(seconds):
        raise TimeLimitExceeded(f"{what} did not finish within its time limit of {seconds:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")
