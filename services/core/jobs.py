"""The host's jobs as the console reads them: a small contract, and its loader.

The console imports only ``services.core``; the host implements ``JobSource`` and
names its factory under the ``aha_services.jobs`` entry point group. Whatever a
source returns is already redacted: the console shows it as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Protocol

ENTRY_POINT_GROUP = "aha_services.jobs"
STATES = ("queued", "running", "retrying", "delivered", "failed")
OPEN_STATES = ("queued", "running", "retrying")


class JobsUnavailable(Exception):
    """The host's queue cannot be read (no host installed, a bad setting, a locked
    file); the message says why, without secrets."""


@dataclass(frozen=True)
class JobRow:
    """One job as a list shows it."""

    id: str
    integration: str
    event: str
    state: str
    received_at: float
    attempts: int


@dataclass(frozen=True)
class JobAttempt:
    started_at: float
    duration: float
    outcome: str
    error: str
    messages: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class JobDetail:
    """A job with its attempts, its payload and the request headers kept with it,
    secrets redacted."""

    row: JobRow
    attempts: list[JobAttempt]
    payload: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class JobsOverview:
    """Where the queue lives, and how many jobs are in each state, overall and per
    integration."""

    where: str
    by_state: dict[str, int]
    by_integration: dict[str, dict[str, int]]

    @property
    def depth(self) -> int:
        """Jobs that still wait for a worker, or are running now."""
        return sum(self.by_state.get(state, 0) for state in OPEN_STATES)


class JobSource(Protocol):
    """What the console asks of the host."""

    def overview(self) -> JobsOverview: ...

    def jobs(self, state: str | None, integration: str | None, limit: int) -> list[JobRow]:
        """Newest first."""
        ...

    def job(self, job_id: str) -> JobDetail | None: ...

    def retry(self, job_id: str) -> bool:
        """Queue a failed job again with a fresh count of attempts; False when the job
        is not failed (or not there)."""
        ...


JobSourceFactory = Callable[[], JobSource]


def load_job_source() -> JobSource:
    """The job source the installed host offers; ``JobsUnavailable`` when none does or
    it cannot open its queue."""
    found = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda point: point.name)
    if not found:
        raise JobsUnavailable(f"no host is installed (entry point group {ENTRY_POINT_GROUP})")
    factory: JobSourceFactory = found[0].load()
    return factory()
