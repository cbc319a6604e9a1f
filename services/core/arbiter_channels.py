"""Channels between gunicorn's arbiter and its workers: socket pairs the arbiter makes
before it forks each worker, all read by one thread of the arbiter, and the frames that
travel in them (a length, then that many bytes of JSON, a list).

The standard library only: the development proxy's arbiter loads this file by its path,
never through the ``services`` package, whose code a reload replaces
(``proxy/event_relay.py``).
"""

from __future__ import annotations

import json
import logging
import os
import selectors
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from typing import Any

_LENGTH = struct.Struct(">I")
MAX_FRAME = 1 << 30
_READ_SIZE = 1 << 16

# What each channel sent, with the end it came from.
Received = list[tuple[socket.socket, list[Any]]]

_log = logging.getLogger("services.arbiter")


def frame(items: list[Any]) -> bytes:
    """``items`` as one frame for a channel."""
    data = json.dumps(items).encode()
    return _LENGTH.pack(len(data)) + data


class FrameReader:
    """Cuts the bytes read from a channel into the lists they carry."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> Iterator[list[Any]]:
        """The lists that ``data`` completes; ValueError for bytes that are no frame."""
        self._buffer += data
        while len(self._buffer) >= _LENGTH.size:
            (length,) = _LENGTH.unpack_from(self._buffer)
            if length > MAX_FRAME:
                raise ValueError(f"a relayed frame of {length} bytes")
            end = _LENGTH.size + length
            if len(self._buffer) < end:
                return
            try:
                items = json.loads(self._buffer[_LENGTH.size : end])
            except RecursionError:
                raise ValueError("a relayed frame nested too deeply") from None
            del self._buffer[:end]
            if not isinstance(items, list):
                raise ValueError("a relayed frame without a list")
            yield items


def pause_around_forks(current: Callable[[], ArbiterChannels | None]) -> None:
    """Pause what ``current()`` gives (the arbiter's relay, once it has one) before each
    fork of this process, and resume it after, in both processes. The relay is made on
    the arbiter's main thread, the one that forks: the same relay after the fork."""

    def pause() -> None:
        if (channels := current()) is not None:
            channels.pause()

    def resume() -> None:
        if (channels := current()) is not None:
            channels.resume()

    os.register_at_fork(before=pause, after_in_parent=resume, after_in_child=resume)


def next_frame(end: socket.socket) -> list[Any]:
    """The next frame read from ``end`` (a worker waiting for the arbiter's answer);
    EOFError when the channel ends first."""
    reader = FrameReader()
    while data := end.recv(_READ_SIZE):
        for items in reader.feed(data):
            return items
    raise EOFError("the channel ended")


class ArbiterChannels:
    """The arbiter's side: each worker's channels, read by one thread that hands what
    arrived together to ``received``, until ``finished`` says so."""

    # Names the thread, and the channels in the log.
    purpose = "relay"

    def __init__(self) -> None:
        self._selector = selectors.DefaultSelector()
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._selector.register(self._wake_reader, selectors.EVENT_READ)
        self._lock = threading.Lock()
        self._added: list[socket.socket] = []
        self._ends: dict[int, list[socket.socket]] = {}  # each worker's, until it exits
        self._reading: dict[socket.socket, FrameReader] = {}
        self._thread: threading.Thread | None = None

    def channels_for(self, worker_id: int, count: int = 1) -> list[socket.socket]:
        """``count`` channels for a worker about to be forked: the worker's ends (closed
        here when the worker exits); the thread reads the others."""
        pairs = [socket.socketpair() for _ in range(count)]
        with self._lock:
            self._added += [ours for ours, _ in pairs]
            self._ends[worker_id] = [theirs for _, theirs in pairs]
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.purpose, daemon=True)
                self._thread.start()
        self.wake()
        return self._ends[worker_id]

    def keep_only(self, worker_id: int) -> list[socket.socket]:
        """In a newly forked worker: close what it inherited of the channels but its own
        ends, and return them."""
        own = self._ends[worker_id]
        others = [end for ends in self._ends.values() if ends is not own for end in ends]
        for end in [*others, *self._added, *self._reading]:
            end.close()
        self._wake_reader.close()
        self._wake_writer.close()
        self._selector.close()
        return own

    def worker_exited(self, worker_id: int) -> None:
        """Close the arbiter's copies of the worker's ends: its channels then end."""
        with self._lock:
            ends = self._ends.pop(worker_id, [])
        for end in ends:
            end.close()

    def wake(self) -> None:
        """Have the thread look again (at new channels, at ``finished``)."""
        self._wake_writer.send(b"\0")

    def drop(self, end: socket.socket) -> None:
        """Read ``end`` no more, and close it."""
        if end in self._reading:
            self._selector.unregister(end)
            del self._reading[end]
        end.close()

    def refuse(self, end: socket.socket, why: object) -> None:
        """Drop ``end``, whose worker sent what no worker sends, with one warning (none
        for the frames after the first that came with it)."""
        if end.fileno() == -1:
            return
        _log.warning("Dropped a worker's %s: %s", self.purpose, why)
        self.drop(end)

    def joined(self, timeout: float) -> bool:
        """Wait for the thread, once ``finished``; False when it still runs."""
        with self._lock:
            thread = self._thread
        if thread is None:
            return True
        self.wake()
        thread.join(timeout)
        return not thread.is_alive()

    def received(self, items: Received) -> None:
        """What the channels sent, in the order read."""
        raise NotImplementedError

    def pause(self) -> None:
        """Hold still while the arbiter forks: a worker must inherit none of the files
        the channels' owner writes, nor a write half made (``pause_around_forks``)."""

    def resume(self) -> None:
        """After the fork, in both processes."""

    def finished(self) -> bool:
        """Whether the thread stops, looked at after each wake-up."""
        return False

    def stopped(self) -> None:
        """Called on the thread once it stops."""

    @property
    def open_channels(self) -> int:
        """The channels read now, and those about to be."""
        return len(self._reading) + len(self._added)

    def _run(self) -> None:
        while not self.finished():
            items: Received = []
            for key, _ in self._selector.select():
                end: socket.socket = key.fileobj  # type: ignore[assignment]
                if end is self._wake_reader:
                    end.recv(_READ_SIZE)
                    self._register_added()
                else:
                    items += ((end, sent) for sent in self._read(end))
            if items:
                self._hand_over(items)
        self.stopped()

    def _hand_over(self, items: Received) -> None:
        """``received``, which never ends the thread: every later frame would be lost."""
        try:
            self.received(items)
        except Exception:
            _log.exception("The %s could not take what its workers sent", self.purpose)

    def _register_added(self) -> None:
        with self._lock:
            added, self._added = self._added, []
        for end in added:
            self._reading[end] = FrameReader()
            self._selector.register(end, selectors.EVENT_READ)

    def _read(self, end: socket.socket) -> list[list[Any]]:
        """What ``end`` sent; nothing, and the channel closed, once its worker has gone
        (or sent what no worker sends)."""
        try:
            data = end.recv(_READ_SIZE)
            if data:
                return list(self._reading[end].feed(data))
        except ConnectionResetError:
            pass  # the worker closed its end with an answer unread: it has gone
        except (OSError, ValueError) as error:
            self.refuse(end, error)
            return []
        self.drop(end)
        return []
