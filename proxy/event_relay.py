"""The proxy's event log, stored by gunicorn's arbiter for all of its workers.

A worker that wrote the SQLite file itself would hold SQLite's library, a connection,
its page cache and a thread: about 2 MB in every worker. Instead each worker gets one
end of a socket pair before it is forked and sends its batches there, already
redacted (``services.core.event_log.relay_to``); a thread of the arbiter reads every
worker's end and stores the rows. The arbiter loads ``services/core/event_store.py``
from its file, not through the ``services`` package: the arbiter must hold no code of
that package, or the workers it forks after a reload would run the old code.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import selectors
import socket
import threading
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

_READ_SIZE = 1 << 16
# How long a worker on its way out waits for its last entries to be relayed: well within
# the second gunicorn gives old workers after a reload (graceful_timeout).
_EXIT_FLUSH = 0.5
# How long the arbiter, stopping, goes on storing what its workers sent.
_DRAIN_LIMIT = 3.0

_log = logging.getLogger("services.event_log")


@cache
def _load_store() -> ModuleType:
    """``services/core/event_store.py`` under a name of its own, loaded once."""
    spec = importlib.util.find_spec("services")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the services package is not installed")
    location = Path(next(iter(spec.submodule_search_locations))) / "core" / "event_store.py"
    store_spec = importlib.util.spec_from_file_location("_arbiter_event_store", location)
    if store_spec is None or store_spec.loader is None:
        raise ImportError(f"cannot load {location}")
    module = importlib.util.module_from_spec(store_spec)
    store_spec.loader.exec_module(module)
    return module


class EventRelay:
    """The arbiter's side: one socket per worker, read by one thread that stores rows."""

    def __init__(self, store: ModuleType, path: Path, keep: int):
        self.path = path
        self._store = store
        self._rows = store.RowWriter(path, keep)
        self._selector = selectors.DefaultSelector()
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._selector.register(self._wake_reader, selectors.EVENT_READ)
        self._lock = threading.Lock()
        self._added: list[socket.socket] = []
        self._ends: dict[int, socket.socket] = {}  # each worker's end, kept until it exits
        self._reading: dict[socket.socket, Any] = {}
        self._thread: threading.Thread | None = None
        self._closing = threading.Event()

    def channel_for(self, worker_id: int) -> socket.socket:
        """A new socket pair for a worker about to be forked: the arbiter reads one end;
        the worker's end is returned (and closed here when the worker exits)."""
        ours, theirs = socket.socketpair()
        with self._lock:
            self._added.append(ours)
            self._ends[worker_id] = theirs
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="event-relay", daemon=True)
                self._thread.start()
        self._wake_writer.send(b"\0")
        return theirs

    def keep_only(self, worker_id: int) -> socket.socket:
        """In a newly forked worker: close what it inherited of the relay but its own end."""
        own = self._ends[worker_id]
        for end in [*self._ends.values(), *self._added, *self._reading]:
            if end is not own:
                end.close()
        self._wake_reader.close()
        self._wake_writer.close()
        self._selector.close()
        return own

    def worker_exited(self, worker_id: int) -> None:
        """Close the arbiter's copy of the worker's end: its own end then reads to the end."""
        with self._lock:
            end = self._ends.pop(worker_id, None)
        if end is not None:
            end.close()

    def drain(self, timeout: float) -> bool:
        """At the arbiter's shutdown, once its workers are gone: store what they sent
        before they exited, which would otherwise go with the arbiter. False when some
        worker's end was still open after ``timeout``."""
        self._closing.set()
        with self._lock:
            thread = self._thread
        if thread is None:
            return True
        self._wake_writer.send(b"\0")
        thread.join(timeout)
        return not thread.is_alive()

    def pause(self) -> None:
        """Store nothing, with the file closed, until ``resume`` (a fork in between)."""
        self._rows.pause()

    def resume(self) -> None:
        self._rows.resume()

    def _run(self) -> None:
        while not (self._closing.is_set() and not self._reading and not self._added):
            for key, _ in self._selector.select():
                if key.fileobj is self._wake_reader:
                    self._wake_reader.recv(_READ_SIZE)
                    self._register_added()
                else:
                    self._read(key.fileobj)  # type: ignore[arg-type]
        self._rows.close()

    def _register_added(self) -> None:
        with self._lock:
            added, self._added = self._added, []
        for end in added:
            self._reading[end] = self._store.FrameReader()
            self._selector.register(end, selectors.EVENT_READ)

    def _read(self, end: socket.socket) -> None:
        try:
            data = end.recv(_READ_SIZE)
            batches = list(self._reading[end].feed(data)) if data else None
        except (OSError, ValueError) as error:
            _log.warning("Dropped a worker's event log relay: %s", error)
            batches = None
        if batches is None:  # the worker is gone (or sent what no worker sends)
            self._selector.unregister(end)
            del self._reading[end]
            end.close()
            return
        for rows in batches:
            self._rows.store(rows)


_relay: EventRelay | None = None


def _before_fork() -> None:
    """The arbiter closes its connection to the log before any fork and writes nothing
    until the fork is done: a worker inherits no open file, no SQLite page cache. (The
    relay is made on the arbiter's main thread, the one that forks, so it is the same
    relay after the fork.)"""
    if _relay is not None:
        _relay.pause()


def _after_fork() -> None:
    if _relay is not None:
        _relay.resume()


os.register_at_fork(before=_before_fork, after_in_parent=_after_fork, after_in_child=_after_fork)


def relay() -> EventRelay | None:
    """The arbiter's relay, made on first use; None when the event log is off."""
    global _relay
    if _relay is None:
        store = _load_store()
        keep = store.keep_setting()
        if keep:
            _relay = EventRelay(store, store.log_path(), keep)
    return _relay


# gunicorn's server hooks (proxy/gunicorn_conf.py) ------------------------------------


def pre_fork(server: Any, worker: Any) -> None:
    """In the arbiter, before a worker is forked: its channel."""
    current = relay()
    if current is not None:
        current.channel_for(id(worker))


def post_fork(server: Any, worker: Any) -> None:
    """In the new worker: its entries go through its channel."""
    if _relay is None:
        return
    own = _relay.keep_only(id(worker))
    from services.core import event_log

    event_log.relay_to(own, _relay.path)


def worker_exit(server: Any, worker: Any) -> None:
    """In a worker on its way out (a reload, a stop): the entries it still holds reach
    the arbiter first; its writer thread would end with it."""
    if _relay is None:
        return
    from services.core import event_log

    log = event_log.current()
    if log is not None:
        log.flush(_EXIT_FLUSH)


def child_exit(server: Any, worker: Any) -> None:
    """In the arbiter, once a worker has exited."""
    if _relay is not None:
        _relay.worker_exited(id(worker))


def on_exit(server: Any) -> None:
    """In the arbiter, its workers gone, before it exits: their last entries stored."""
    if _relay is not None and not _relay.drain(_DRAIN_LIMIT):
        _log.warning("Some events were still on their way to the event log at exit")
