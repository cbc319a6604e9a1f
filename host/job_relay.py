"""The intake's new jobs, added by gunicorn's arbiter for all of its workers.

Two workers that each added their own jobs would each commit and flush the log for
their own requests, and each read again the pages that the other one had just changed.
Instead every worker thread sends its job through a channel of its own (one end of a
socket pair the arbiter made before forking the worker) and waits for the answer; a
thread of the arbiter adds the jobs that arrived together in one ``INSERT``, flushes
the log once, and only then answers each one: a job is on the disk before its sender
is told. A process with no channel (outside gunicorn, the specs) adds its jobs itself.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from host.job_adder import JobAdder, row_of
from host.jobs import Job
from host.sqlite_files import unavailable
from host.state import StateStore, StoreUnavailable
from services.core.arbiter_channels import (
    ArbiterChannels,
    Received,
    frame,
    next_frame,
    pause_around_forks,
)

# The answers a worker may get: the job added (its seq, whether it is alone), the store
# unavailable (why), or a failure of the arbiter's own.
_ADDED, _UNAVAILABLE, _FAILED = "added", "unavailable", "failed"
# How long a worker waits for its answer beyond what a batch may wait for SQLite's lock.
_ANSWER_MARGIN = 10.0
# A worker's frame: the job's row, then the moment (``time.monotonic()``, one clock for
# every process of the machine) by which its wait for SQLite's lock must end.
_FRAME_ITEMS = 6

_log = logging.getLogger("host.intake")


class JobRelay(ArbiterChannels):
    """The arbiter's side: every worker thread's channel, read by one thread that adds
    the jobs."""

    purpose = "channel for new jobs"

    def __init__(self, path: Path, busy_timeout: float):
        super().__init__()
        self.path = path
        self.busy_timeout = busy_timeout
        self._adder = JobAdder(path, busy_timeout)
        # Held while a batch is added, and across each fork (``pause``).
        self._adding = threading.Lock()

    def pause(self) -> None:
        """No batch until ``resume``, the store's files closed: a process about to fork,
        whose child must inherit neither SQLite's files nor a batch half made."""
        self._adding.acquire()
        self._adder.close()

    def resume(self) -> None:
        self._adding.release()

    def received(self, items: Received) -> None:
        """The jobs sent together, added together (as many as one ``INSERT`` takes); a
        channel that sent something else is dropped."""
        jobs = []
        for end, values in items:
            if _is_request(values):
                jobs.append((end, values))
            else:
                self.refuse(end, "a frame that is no job")
        most = self._adder.most()
        for first in range(0, len(jobs), most):
            self._add(jobs[first : first + most])

    def _add(self, requests: Received) -> None:
        """One batch, waiting for SQLite's lock only until the first of its senders' own
        waits ends: a job that came while the batch before it waited has waited already,
        and its sender would stop waiting for the answer while this batch may still add
        it (answered 503, yet kept)."""
        with self._adding:
            try:
                ends_at = min(values[-1] for _, values in requests)
                added = self._adder.add(
                    [tuple(values[:-1]) for _, values in requests],
                    patience=max(0.0, ends_at - time.monotonic()),
                )
                self._adder.flush()
                answers = [[_ADDED, seq, alone] for seq, alone in added]
            except StoreUnavailable as error:
                answers = [[_UNAVAILABLE, str(error)]] * len(requests)
            except Exception:
                _log.exception("Adding new jobs failed")
                answers = [[_FAILED]] * len(requests)
        for (end, _), answer in zip(requests, answers, strict=True):
            try:
                end.sendall(frame(answer))
            except OSError:
                self.drop(end)


class Channels:
    """A worker's side: its threads' channels, each taken by one request at a time."""

    def __init__(self, ends: list[socket.socket], path: Path, busy_timeout: float):
        self.path = path
        self._free = list(ends)
        self.busy_timeout = busy_timeout

    def add(self, job: Job) -> bool | None:
        """Whether ``job``, added and on the disk, is alone; None when no channel is free
        (the caller adds it itself)."""
        try:
            end = self._free.pop()
        except IndexError:
            return None
        try:
            end.settimeout(self.busy_timeout + _ANSWER_MARGIN)
            end.sendall(frame([*row_of(job), time.monotonic() + self.busy_timeout]))
            answer = next_frame(end)
        except (OSError, ValueError, EOFError):
            end.close()  # an answer may still come: the channel is of no more use
            raise unavailable("no answer from the arbiter") from None
        self._free.append(end)
        if answer[0] == _ADDED:
            job.seq = answer[1]
            return bool(answer[2])
        if answer[0] == _UNAVAILABLE:
            raise StoreUnavailable(answer[1])
        raise RuntimeError("the arbiter failed to add a job")


def _is_request(values: list[Any]) -> bool:
    """Whether ``values`` is a worker's frame: a job's row and when its wait ends."""
    ends_at = values[-1] if len(values) == _FRAME_ITEMS else None
    return isinstance(ends_at, int | float) and not isinstance(ends_at, bool)


# The arbiter's relay and, in a worker, its channels ---------------------------------

_relay: JobRelay | None = None
_channels: Channels | None = None


pause_around_forks(lambda: _relay)


def start(environ: Mapping[str, str]) -> None:
    """In the arbiter: its workers add their jobs through it, when the state is in
    SQLite. Settings that are wrong are left to the workers, which name them."""
    global _relay
    from host.config import ConfigError
    from host.engine import sqlite_settings

    try:
        settings = sqlite_settings(environ)
    except ConfigError:
        return
    if settings is not None:
        _relay = JobRelay(*settings)


def attach(store: StateStore) -> None:
    """In a worker: ``store`` adds its new jobs through the arbiter, when this worker
    has channels to the arbiter's relay for that store."""
    from host.sqlite_state import SqliteStateStore

    if (
        _channels is not None
        and isinstance(store, SqliteStateStore)
        and store.path == _channels.path
    ):
        store.add_elsewhere = _channels.add


# gunicorn's server hooks (host/gunicorn_conf.py) -------------------------------------


def pre_fork(server: Any, worker: Any) -> None:
    if _relay is not None:
        _relay.channels_for(id(worker), server.cfg.threads)


def post_fork(server: Any, worker: Any) -> None:
    global _relay, _channels
    if _relay is not None:
        _channels = Channels(_relay.keep_only(id(worker)), _relay.path, _relay.busy_timeout)
        _relay = None


def child_exit(server: Any, worker: Any) -> None:
    if _relay is not None:
        _relay.worker_exited(id(worker))


def on_exit(server: Any) -> None:
    """The arbiter, its workers gone: the batch being added finishes first."""
    if _relay is not None:
        _relay.pause()
