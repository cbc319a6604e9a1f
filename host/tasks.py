"""The one huey task: "run integration X's due jobs", and the way to queue it."""

from __future__ import annotations

import time

from huey import Huey

from host.dispatch import Dispatcher, Enqueue

TASK_NAME = "aha_services.drain"
_bound: dict[str, Dispatcher] = {}


def bind(dispatcher: Dispatcher) -> None:
    """The dispatcher that this process's huey consumer runs tasks with."""
    _bound["dispatcher"] = dispatcher


def _drain(integration: str) -> None:
    _bound["dispatcher"].drain(integration)


def enqueuer(huey: Huey) -> Enqueue:
    """Queue the task for an integration now, or at a time (epoch seconds)."""
    task = huey.task(name=TASK_NAME)(_drain)

    def enqueue(integration: str, eta: float | None = None) -> None:
        if eta is None:
            task(integration)
        else:
            task.schedule(args=(integration,), delay=max(eta - time.time(), 0.0))

    return enqueue
