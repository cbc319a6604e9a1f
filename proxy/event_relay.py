"""The proxy's event log, stored by gunicorn's arbiter for all of its workers.

A worker that wrote the SQLite file itself would hold SQLite's library, a connection,
its page cache and a thread: about 2 MB in every worker. Instead each worker gets one
end of a socket pair before it is forked and sends its batches there, already
redacted (``services.core.event_log.relay_to``); a thread of the arbiter reads every
worker's end and stores the rows. The arbiter loads ``services/core/event_store.py`` and
``services/core/arbiter_channels.py`` from their files, not through the ``services``
package: the arbiter must hold no code of that package, or the workers it forks after a
reload would run the old code.
"""

from __future__ import annotations

import importlib.util
import logging
import socket
import threading
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

# How long a worker on its way out waits for its last entries to be relayed: well within
# the second gunicorn gives old workers after a reload (graceful_timeout).
_EXIT_FLUSH = 0.5
# How long the arbiter, stopping, goes on storing what its workers sent.
_DRAIN_LIMIT = 3.0

_log = logging.getLogger("services.event_log")


@cache
def _load(name: str) -> ModuleType:
    """``services/core/<name>.py`` under a name of its own, loaded once."""
    spec = importlib.util.find_spec("services")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the services package is not installed")
    location = Path(next(iter(spec.submodule_search_locations))) / "core" / f"{name}.py"
    module_spec = importlib.util.spec_from_file_location(f"_arbiter_{name}", location)
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"cannot load {location}")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def _load_store() -> ModuleType:
    return _load("event_store")


if TYPE_CHECKING:
    from services.core.arbiter_channels import ArbiterChannels, Received, pause_around_forks
else:
    ArbiterChannels = _load("arbiter_channels").ArbiterChannels
    pause_around_forks = _load("arbiter_channels").pause_around_forks


class EventRelay(ArbiterChannels):
    """The arbiter's side: one channel per worker, read by one thread that stores rows."""

    purpose = "event log relay"

    def __init__(self, store: ModuleType, path: Path, keep: int):
        super().__init__()
        self.path = path
        self._store = store
        self._rows = store.RowWriter(path, keep)
        self._closing = threading.Event()

    def channel_for(self, worker_id: int) -> socket.socket:
        """A channel for a worker about to be forked: the worker's end."""
        return self.channels_for(worker_id)[0]

    def drain(self, timeout: float) -> bool:
        """At the arbiter's shutdown, once its workers are gone: store what they sent
        before they exited, which would otherwise go with the arbiter. False when some
        worker's end was still open after ``timeout``."""
        self._closing.set()
        return self.joined(timeout)

    def pause(self) -> None:
        """Store nothing, with the file closed, until ``resume`` (a fork in between)."""
        self._rows.pause()

    def resume(self) -> None:
        self._rows.resume()

    def received(self, items: Received) -> None:
        """Each worker's rows stored; a channel that sent anything else is dropped."""
        for end, rows in items:
            if rows and all(self._store.is_row(row) for row in rows):
                self._rows.store(rows)
            else:
                self.refuse(end, "a relayed frame without rows of the event log")

    def finished(self) -> bool:
        return self._closing.is_set() and not self.open_channels

    def stopped(self) -> None:
        self._rows.close()


_relay: EventRelay | None = None


# The arbiter closes its connection to the log around each fork and writes nothing until
# the fork is done: a worker inherits no open file, no SQLite page cache.
pause_around_forks(lambda: _relay)


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
    (own,) = _relay.keep_only(id(worker))
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
