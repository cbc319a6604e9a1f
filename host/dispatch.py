"""Runs each integration's jobs one at a time, in arrival order, at least once.

The queue (huey) carries only "look at integration X" tasks. Whoever takes one
leases X in the state store and runs X's oldest unfinished job, then the next,
until none is due; a job waiting for its retry is looked at again when huey's
scheduler hands the task back. A lease expires unless renewed, so a worker that
dies cannot hold an integration for ever; a worker that starts on the same machine
releases at once the leases of workers there that are gone, and runs their jobs.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from host.config import HostConfig, Integration
from host.delivery import conclude_overrun, run_event
from host.jobs import FAILED, QUEUED, RUNNING, Attempt, Job
from host.state import Started, StateStore
from services.core.errors import TimeLimitExceeded
from services.core.events import event_logger
from services.core.logger import EventLogger
from services.core.timing import run_watched

Enqueue = Callable[[str, float | None], None]
DEFAULT_LEASE_TTL = 60.0
# A job whose worker died this many times in a row is not run again: it may be the cause.
MAX_INTERRUPTIONS = 3
INTERRUPTED = "interrupted"

_log = logging.getLogger("host.dispatch")


def new_owner() -> str:
    """This worker's name in leases: machine, process, and a token of its own."""
    return f"{socket.gethostname()}/{os.getpid()}/{uuid.uuid4().hex[:8]}"


def owner_is_gone(owner: str, me: str) -> bool:
    """Whether a lease's owner is a process of this machine that no longer runs."""
    host, _, rest = owner.partition("/")
    pid_text = rest.partition("/")[0]
    if host != socket.gethostname() or not pid_text.isdigit() or owner.startswith(me):
        return False
    pid = int(pid_text)
    if pid == os.getpid():  # an earlier process whose number this one was given
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return _killed_not_reaped(pid)


def _killed_not_reaped(pid: int) -> bool:
    """Whether the process has ended and waits for its parent to reap it (a zombie): a
    container's first process may take long, or never do it. Read where Linux says so."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] == "Z"
    except (OSError, IndexError):
        return False


class LeaseKeeper:
    """Renews a lease in the background while a job runs (a job may run for minutes)."""

    def __init__(self, store: StateStore, integration: str, owner: str, ttl: float):
        self.store, self.integration, self.owner, self.ttl = store, integration, owner, ttl
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease:{integration}", daemon=True)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._done.wait(self.ttl / 3):
            try:
                if not self.store.renew(self.integration, self.owner, self.ttl):
                    _log.warning("lost the lease of %s", self.integration)
            except Exception as error:
                _log.warning("could not renew the lease of %s: %s", self.integration, error)


@dataclass
class _Running:
    job: Job
    logger: EventLogger
    since: float


@dataclass
class _Run:
    """Where one drain of an integration stands: passed on to the next helper thread
    when an event overran its limit."""

    name: str
    holder: str
    integration: Integration
    meta_data: dict[str, Any] | None = None
    started: Started | None = None  # the next job, marked running by the last write
    running: _Running | None = None  # the job whose event runs now
    ran: int = 0


class Dispatcher:
    def __init__(
        self,
        config: HostConfig,
        store: StateStore,
        enqueue: Enqueue,
        owner: str | None = None,
        lease_ttl: float = DEFAULT_LEASE_TTL,
    ):
        self.config, self.store, self.enqueue = config, store, enqueue
        self.owner = owner or new_owner()
        self.lease_ttl = lease_ttl
        self.stopping = threading.Event()
        self._draining = 0
        self._idle = threading.Condition()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no drain runs (after ``stopping`` is set, none starts a job)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._draining == 0, timeout)

    def drain(self, name: str) -> int:
        """Run the integration's due jobs in order; how many attempts ran."""
        with self._idle:
            self._draining += 1
        try:
            return self._drain(name)
        finally:
            with self._idle:
                self._draining -= 1
                self._idle.notify_all()

    def _drain(self, name: str) -> int:
        # Each drain holds the lease under a name of its own: two threads of one worker
        # must not both take an integration.
        holder = f"{self.owner}/{uuid.uuid4().hex[:6]}"
        if not self.store.acquire(name, holder, self.lease_ttl):
            return 0
        try:
            with LeaseKeeper(self.store, name, holder, self.lease_ttl):
                ran = self._run_due(name, holder)
        finally:
            self.store.release(name, holder)
        self._look_again(name)
        return ran

    def _run_due(self, name: str, holder: str) -> int:
        """Under the lease: run the due jobs in order; how many attempts ran.

        The jobs run on one helper thread while this one watches each event's time
        limit (``run_watched``). An event that overruns it is given up: its outcome is
        stored from here, and the next jobs run on another helper thread."""
        integration = self.config.integrations.get(name)
        if integration is None:
            self._fail_unconfigured(name)
            return 0
        run = _Run(name, holder, integration)
        while True:
            try:
                run_watched(lambda: self._run_in_order(run))
                return run.ran
            except TimeLimitExceeded as overrun:
                self._give_up(run, overrun)

    def _run_in_order(self, run: _Run) -> None:
        """The integration's meta_data is read once, then each attempt passes on what it
        stored; each outcome is stored with the next job's start, in one write."""
        while not self.stopping.is_set():
            job = run.started.job if run.started else self._start_head(run.name, run.holder)
            if job is None:
                break
            if run.meta_data is None:
                run.meta_data = self.store.meta_data(run.name)
            logger = event_logger(run.integration.service_class)
            run.running = _Running(job, logger, time.monotonic())
            meta_data, duration = run_event(
                self.config, run.integration, job, run.meta_data, logger
            )
            run.running = None
            self._settle(run, job, meta_data, duration)
        if run.started is not None:
            # Told to stop just after the next job was marked: it was not started.
            run.started.job.put_back(run.started.was)
            self.store.save(run.started.job)
            run.started = None

    def _give_up(self, run: _Run, overrun: TimeLimitExceeded) -> None:
        """Store the outcome of the event that overran its limit, as its attempt's end."""
        running, run.running = run.running, None
        assert running is not None, "an overrun is found only while an event runs"
        duration = time.monotonic() - running.since
        conclude_overrun(run.integration, running.job, running.logger, overrun, duration)
        self._settle(run, running.job, run.meta_data or {}, duration)

    def _settle(self, run: _Run, job: Job, meta_data: dict[str, Any], duration: float) -> None:
        run.ran += 1
        run.meta_data = meta_data
        if self.stopping.is_set():
            self.store.finish_attempt(job, meta_data, duration)
            run.started = None
        else:
            run.started = self.store.finish_and_start_next(job, meta_data, duration, run.holder)

    def _start_head(self, name: str, holder: str) -> Job | None:
        """The integration's next job, marked running and stored; None when none is due."""
        while not self.stopping.is_set() and (job := self._due_head(name)) is not None:
            if job.state != RUNNING or self._resume(job):
                job.start(holder, time.time())
                self.store.save(job)
                return job
        return None

    def _due_head(self, name: str) -> Job | None:
        """The integration's oldest open job, when it is due or was left running; one
        waiting for its retry is queued for its time."""
        head = self.store.head(name)
        if head is not None and head.next_attempt_at > time.time() and head.state != RUNNING:
            self.enqueue(name, head.next_attempt_at)
            return None
        return head

    def _fail_unconfigured(self, name: str) -> None:
        while not self.stopping.is_set() and (job := self._due_head(name)) is not None:
            self._fail(job, f"the integration {name} is no longer configured")

    def _resume(self, job: Job) -> bool:
        """A job left running by a worker that died: run it again, unless it keeps dying.
        (The caller stores it, with its new attempt.)"""
        job.attempts[-1].outcome = INTERRUPTED
        interrupted = 0
        for attempt in reversed(job.attempts):
            if attempt.outcome != INTERRUPTED:
                break
            interrupted += 1
        if interrupted >= MAX_INTERRUPTIONS:
            self._fail(job, f"its worker stopped during {interrupted} attempts in a row")
            return False
        job.state = QUEUED
        return True

    def _fail(self, job: Job, reason: str) -> None:
        job.attempts.append(Attempt(started_at=time.time(), outcome=FAILED, error=reason))
        job.state = FAILED
        self.store.save(job)

    def _look_again(self, name: str) -> None:
        """A job that arrived while the lease was being given up has a task that found
        it taken: hand the integration back to the queue."""
        head = self.store.head(name)
        if head is not None and head.due(time.time()) and name not in self.store.leases():
            self.enqueue(name, None)

    def recover(self) -> list[str]:
        """At a worker's start: free the leases of dead workers here, queue every open
        integration again (a job huey handed to a dead worker is gone from huey)."""
        for name, owner in self.store.leases().items():
            if owner_is_gone(owner, self.owner):
                self.store.release(name, owner)
        queued = []
        for name in self.store.open_integrations():
            head = self.store.head(name)
            if head is not None:
                due = head.state == RUNNING or head.next_attempt_at <= time.time()
                self.enqueue(name, None if due else head.next_attempt_at)
                queued.append(name)
        return queued

    def sweep(self) -> list[str]:
        """Queue integrations whose next job is due and that nobody holds: those of a
        worker on another machine whose lease expired, or a task the queue lost."""
        leased = self.store.leases()
        now, queued = time.time(), []
        for name in self.store.open_integrations():
            head = self.store.head(name)
            if (
                name not in leased
                and head is not None
                and (head.state == RUNNING or head.next_attempt_at <= now)
            ):
                self.enqueue(name, None)
                queued.append(name)
        return queued
