"""The state store's contract: job records, each integration's ``meta_data``, the
per-integration leases and the counters behind ``/metrics``.

Two engines keep it: SQLite on one machine (``sqlite_state``), Redis for several
(``redis_state``). The queue itself is huey's; this store is what makes delivery
at least once and in order (see ``dispatch``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

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


class StateStore(ABC):
    @abstractmethod
    def add_job(self, job: Job) -> bool:
        """Store a new job durably, after every job stored before it; counts it received.

        True when the integration had no unfinished job before this one: then nothing
        is queued for it, and the caller queues it. Otherwise the task queued for an
        earlier job, or the drain running now, comes to this one in its turn."""

    @abstractmethod
    def count_received(self, integration: str, outcome: str) -> None:
        """Count a request that was refused (accepted ones are counted by ``add_job``)."""

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
        """Delete finished jobs received before ``before``; how many."""

    @abstractmethod
    def state_counts(self) -> dict[str, int]: ...

    @abstractmethod
    def counters(self) -> dict[str, float]:
        """Raw counters: ``received|<integration>|<outcome>``, ``latency|<bucket>``,
        ``latency_sum``, ``latency_count``."""

    @abstractmethod
    def ping(self) -> None:
        """Raise ``StoreUnavailable`` unless the store answers."""
