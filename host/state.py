"""The state store's contract: job records, each integration's ``meta_data``, the
per-integration leases and the counters behind ``/metrics``.

Two engines keep it: SQLite on one machine (``sqlite_state``), Redis for several
(``redis_state``). The queue itself is huey's; this store is what makes delivery
at least once and in order (see ``dispatch``).
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, NamedTuple

from host.jobs import Job

# Upper bounds of the attempt latency histogram, in seconds.
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)


def latency_bucket(seconds: float) -> str:
    """The name of the smallest bucket that holds ``seconds``."""
    for bound in LATENCY_BUCKETS:
        if seconds <= bound:
            return repr(bound)
    return "+Inf"


class StoreUnavailable(Exception):
    """The store did not answer (locked, read-only, unreachable); nothing was stored."""


class Started(NamedTuple):
    """A job the store marked running for its next attempt, and the state it had."""

    job: Job
    was: str


def start_if_ready(job: Job | None, worker: str) -> Started | None:
    """``job`` marked running for ``worker`` (not stored yet) when it is ready
    (``Job.ready``); None, and the job untouched, otherwise."""
    now = time.time()
    if job is None or not job.ready(now):
        return None
    return Started(job, job.start(worker, now))


class StateStore(ABC):
    # Jobs a purge looks at in one write: each write short, so that the intake and the
    # workers wait for none of them long.
    purge_batch = 1000

    @abstractmethod
    def add_job(self, job: Job) -> bool:
        """Store a new job durably, after every job stored before it; counts it received.

        True when the integration had no unfinished job before this one: then nothing
        is queued for it, and the caller queues it. Otherwise the task queued for an
        earlier job, or the drain running now, comes to this one in its turn."""

    @abstractmethod
    def count_received(self, counts: Mapping[tuple[str, str], int]) -> None:
        """Add requests that were refused, by integration and outcome, in one write
        (accepted ones are counted by ``add_job``)."""

    @abstractmethod
    def get(self, job_id: str) -> Job | None: ...

    @abstractmethod
    def jobs(
        self, state: str | None = None, integration: str | None = None, limit: int = 50
    ) -> list[Job]:
        """Newest first."""

    @abstractmethod
    def head(self, integration: str) -> Job | None:
        """The integration's oldest job that is not finished: the only one that may run."""

    @abstractmethod
    def open_integrations(self) -> list[str]:
        """Integrations that have a job not finished yet."""

    @abstractmethod
    def save(self, job: Job) -> None:
        """Write the job's record and state."""

    @abstractmethod
    def finish_attempt(self, job: Job, meta_data: dict[str, Any], duration: float) -> None:
        """Save the job and the integration's new ``meta_data`` together, and time it."""

    def finish_and_start_next(
        self, job: Job, meta_data: dict[str, Any], duration: float, worker: str
    ) -> Started | None:
        """``finish_attempt``, then mark the integration's next job running for
        ``worker`` when it is ready (``Job.ready``), and return it: a draining worker
        stores one job's outcome and the next one's start together. None when no job is
        ready. This default makes the calls one by one; an engine that can, makes them
        one write."""
        self.finish_attempt(job, meta_data, duration)
        started = start_if_ready(self.head(job.integration), worker)
        if started is not None:
            self.save(started.job)
        return started

    @abstractmethod
    def meta_data(self, integration: str) -> dict[str, Any]: ...

    @abstractmethod
    def acquire(self, integration: str, owner: str, ttl: float) -> bool:
        """Take the integration's lease unless another owner holds one that has not expired."""

    @abstractmethod
    def renew(self, integration: str, owner: str, ttl: float) -> bool:
        """Extend the lease ``owner`` holds; False when it is no longer theirs."""

    @abstractmethod
    def release(self, integration: str, owner: str) -> None: ...

    @abstractmethod
    def leases(self) -> dict[str, str]:
        """Integration -> owner, for every lease that has not expired."""

    @abstractmethod
    def purge(self, before: float) -> int:
        """Delete finished jobs received before ``before``; how many. The jobs are looked
        at in the order stored, ``purge_batch`` at a time, until a whole batch was
        received since ``before``: no index by time received is written for it."""

    @abstractmethod
    def state_counts(self) -> dict[str, int]: ...

    def integration_counts(self) -> dict[str, dict[str, int]]:
        """Integration -> state -> jobs, for the console. This reads every record; an
        engine that can count in place does so."""
        counts: dict[str, dict[str, int]] = {}
        for job in self.jobs(limit=sum(self.state_counts().values()) or 1):
            by_state = counts.setdefault(job.integration, {})
            by_state[job.state] = by_state.get(job.state, 0) + 1
        return counts

    @abstractmethod
    def counters(self) -> dict[str, float]:
        """Raw counters: ``received|<integration>|<outcome>``, ``latency|<bucket>``,
        ``latency_sum``, ``latency_count``."""

    @abstractmethod
    def ping(self) -> None:
        """Raise ``StoreUnavailable`` unless the store answers."""
