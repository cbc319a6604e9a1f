"""A job: one stored event, its attempts and where it stands."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, fields
from typing import Any

from host.headers import shown_headers

QUEUED = "queued"
RUNNING = "running"
RETRYING = "retrying"
DELIVERED = "delivered"
FAILED = "failed"
STATES = (QUEUED, RUNNING, RETRYING, DELIVERED, FAILED)
# A job in one of these still waits for a worker, in its integration's arrival order.
OPEN_STATES = (QUEUED, RUNNING, RETRYING)
FINISHED_STATES = (DELIVERED, FAILED)


def new_job_id() -> str:
    """32 hex digits, as a UUID's: the time in milliseconds, then 80 random bits. Ids in
    the order jobs arrive put each new one on the newest page of the store's index of
    ids, where random ones changed a page anywhere in it (one more page to read and to
    write at every new job: a tenth of the intake's rate)."""
    return f"{time.time_ns() // 1_000_000:012x}{os.urandom(10).hex()}"


@dataclass
class Attempt:
    started_at: float
    duration: float = 0.0
    outcome: str = ""
    error: str = ""
    messages: list[dict[str, Any]] = field(default_factory=list)
    # The worker that made the attempt (machine/process/token).
    worker: str = ""


@dataclass
class Job:
    integration: str
    event: str
    payload: dict[str, Any]
    # The request headers the service may need (``host.headers``), lower-case names.
    headers: dict[str, str] = field(default_factory=dict)
    id: str = field(default_factory=lambda: new_job_id())
    received_at: float = field(default_factory=time.time)
    state: str = QUEUED
    next_attempt_at: float = 0.0
    attempts: list[Attempt] = field(default_factory=list)
    # Attempts that count toward the limit; one a worker's death cut short does not.
    tries: int = 0
    # Arrival order within the store; set by the store when the job is added.
    seq: int = 0

    def due(self, now: float) -> bool:
        return self.state in OPEN_STATES and self.next_attempt_at <= now

    def ready(self, now: float) -> bool:
        """Due and not running: a worker holding the lease may start it as it is. (One
        left running by a dead worker is looked at first: it may have to fail.)"""
        return self.state != RUNNING and self.due(now)

    def start(self, worker: str, now: float) -> str:
        """Mark the job running with a new attempt, to be stored before the event runs so
        that a worker's death shows; the state it had, for ``put_back``."""
        was, self.state = self.state, RUNNING
        self.attempts.append(Attempt(started_at=now, outcome=RUNNING, worker=worker))
        return was

    def put_back(self, was: str) -> None:
        """Undo ``start`` for an event that was not run, so the job is not counted as
        interrupted."""
        self.attempts.pop()
        self.state = was

    def to_record(self) -> dict[str, Any]:
        """The job as JSON values. Written out by hand: ``dataclasses.asdict`` copies the
        payload deeply, which cost a worker a tenth of a millisecond at every save."""
        return {
            "integration": self.integration,
            "event": self.event,
            "payload": self.payload,
            "headers": self.headers,
            "id": self.id,
            "received_at": self.received_at,
            "state": self.state,
            "next_attempt_at": self.next_attempt_at,
            "attempts": [vars(attempt) for attempt in self.attempts],
            "tries": self.tries,
            "seq": self.seq,
        }

    def to_view(self) -> dict[str, Any]:
        """The record as job views show it: headers that carry a secret are filtered."""
        record = self.to_record()
        record["headers"] = shown_headers(self.headers)
        return record

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Job:
        record = {name: record[name] for name in _FIELDS if name in record}
        record["attempts"] = [Attempt(**a) for a in record.get("attempts", [])]
        return cls(**record)


_FIELDS = tuple(field.name for field in fields(Job))
