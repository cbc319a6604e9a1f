"""The proxy's gunicorn worker: threads only ever run whole requests, and errors are JSON.

gunicorn's threaded worker hands a connection to a thread as soon as it is
readable, and the thread then waits for the rest of the request: a few clients
that send a request's head and then nothing hold every thread. Here the main
loop reads each request whole (bounded in time and size) before a thread takes
it; idle and slow connections cost a selector entry, not a thread.

Every answer the server layer writes itself (a malformed request, a body over
the limit, a request that did not arrive in time) is JSON, like the app's own.

This module imports nothing of ``services`` at load: gunicorn's arbiter imports
the worker class, and the arbiter must hold no service code that a reload is
meant to replace.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import io
import json
import os
import selectors
import socket
import time
from concurrent.futures import Future
from functools import partial
from http import HTTPStatus
from typing import Any

from gunicorn import http
from gunicorn.http import errors as parse_errors
from gunicorn.http.body import Body, ChunkedReader
from gunicorn.workers.gthread import TConn, ThreadWorker

from proxy import settings
from proxy.framing import ChunkProgress, Framing, expects_continue, request_framing
from proxy.load_failure import could_not_load

# How long a connection closed after an error answer is read (and discarded) so that
# the kernel does not reset it before the client has read that answer.
_LINGER_SECONDS = 2.0
# How often the main loop looks for connections past their deadline.
_EXPIRY_INTERVAL = 0.25
# How often the main loop tells the arbiter it is alive (a file's time, one system call):
# once a second is far within the arbiter's timeout, and not once per request.
_HEARTBEAT_INTERVAL = 1.0
# Memory the C allocator holds free goes back to the system when the worker is idle, at
# most this often (glibc keeps what a burst of events freed; a trim takes under a ms).
_TRIM_INTERVAL = 1.0
# glibc's mallopt parameter for the number of heaps, and the number the worker allows:
# one. Its threads allocate holding the GIL, so they hardly ever wait on the heap's lock
# (measured: the same send_event rate as with two heaps, 0.3 MB less after the mixed events).
_M_ARENA_MAX = -8
_ARENAS = 1
# Parse errors that are not a plain 400.
_STATUS_OF = (
    (parse_errors.InvalidResponseHeader, 500),
    (parse_errors.InvalidResponseHeaderName, 500),
    (parse_errors.ConfigurationProblem, 500),
    (parse_errors.LimitRequestLine, 414),
    (parse_errors.LimitRequestHeaders, 431),
    (parse_errors.ExpectationFailed, 417),
    (parse_errors.UnsupportedTransferCoding, 501),
    (parse_errors.ForbiddenProxyRequest, 403),
)


def json_answer(status: int, message: str) -> bytes:
    """A whole HTTP/1.1 answer with a ``{"error": message}`` body that closes the connection."""
    body = json.dumps({"error": message}).encode()
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode("latin-1") + body


def parse_error_status(error: BaseException) -> int | None:
    """The status for a request gunicorn's parser refused; ``None`` for other errors."""
    if not isinstance(error, parse_errors.ParseException):
        return None
    return next((status for kind, status in _STATUS_OF if isinstance(error, kind)), 400)


class ProxyConn(TConn):
    """A client connection, and what the main loop has read of its next request."""

    def __init__(self, cfg: Any, sock: socket.socket, client: Any, server: Any):
        super().__init__(cfg, sock, client, server)
        self.parser = http.get_parser(cfg, sock, client)
        self.initialized = True
        self.pending = bytearray()
        self.progress = ChunkProgress()  # how far a chunked body in ``pending`` was read
        self.deadline = 0.0
        self.request_started = False
        self.continued = False
        self.lingering = False
        self.closed = False


class ProxyWorker(ThreadWorker):
    """gunicorn's threaded worker, with whole requests read by the main loop."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.max_body = settings.max_body()
        self.request_timeout = settings.request_timeout()
        self.max_line = self.cfg.limit_request_line or 8190
        self.max_head = self.max_line + self.cfg.limit_request_fields * (
            self.cfg.limit_request_field_size + 2
        )
        self.waiting: set[ProxyConn] = set()
        self._next_expiry = 0.0
        self._next_heartbeat = 0.0
        self.running = 0
        self._next_trim = 0.0
        self._trim_due = False
        self._trim = _malloc_trim()

    def init_process(self) -> None:
        # After the fork: gunicorn's own lines (a refused request names its method)
        # go through the same escaping as every other log line.
        from services.core.logger import escaping

        for logger in (self.log.error_log, self.log.access_log):
            for handler in logger.handlers:
                handler.setFormatter(escaping(handler.formatter))
        limit_malloc_arenas()
        super().init_process()

    def load_wsgi(self) -> None:
        """A proxy whose code does not load answers every request with the error, as JSON,
        until a save reloads it; the server stays up."""
        try:
            self.wsgi = self.app.wsgi()
        except Exception as error:
            self.log.exception("The proxy could not load")
            self.wsgi = could_not_load(error)

    # -- the main loop ---------------------------------------------------------------

    def run(self) -> None:
        self.poller.register(
            self.method_queue.fileno(), selectors.EVENT_READ, self.method_queue.run_callbacks
        )
        self.set_accept_enabled(True)
        while self.alive:
            self.heartbeat()
            can_accept = self.nr_conns < self.worker_connections
            if can_accept != self._accepting:
                self.set_accept_enabled(can_accept)
            self.wait_for_and_dispatch_events(timeout=1.0)
            if not self.is_parent_alive():
                break
            self.expire_waiting()
            self.release_memory()
        self.retire()

    def heartbeat(self) -> None:
        now = time.monotonic()
        if now >= self._next_heartbeat:
            self._next_heartbeat = now + _HEARTBEAT_INTERVAL
            self.notify()

    def retire(self) -> None:
        """Stop accepting, close idle connections, and let running requests finish.

        A reload retires a worker while a long event may run: the event finishes
        here, on the code it started with, while new workers answer new requests.
        """
        self.set_accept_enabled(False)
        # Idle keep-alive connections go; a new connection whose request has not been
        # read yet stays and is answered (closing it would reset the client's request).
        for conn in list(self.waiting):
            if not conn.request_started and not conn.pending and not conn.lingering:
                self.close_now(conn)
        while self.nr_conns > 0 and self.is_parent_alive():
            self.heartbeat()
            self.wait_for_and_dispatch_events(timeout=1.0)
            self.expire_waiting()
        for conn in list(self.waiting):
            self.close_now(conn)
        self.tpool.shutdown(wait=False)
        self.poller.close()
        self.method_queue.close()
        for listener in self.sockets:
            listener.close()

    def accept(self, listener: socket.socket) -> None:
        try:
            client_sock, client_addr = listener.accept()
        except OSError as error:
            if error.errno in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                return
            raise
        self.nr_conns += 1
        conn = ProxyConn(self.cfg, client_sock, client_addr, listener.getsockname())
        conn.request_started = True  # a new connection gets the request time, no idle time
        self.wait_for_request(conn, self.request_timeout)

    def wait_for_request(self, conn: ProxyConn, seconds: float) -> None:
        conn.sock.setblocking(False)
        conn.deadline = time.monotonic() + seconds
        self.waiting.add(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_readable, conn))

    def stop_waiting(self, conn: ProxyConn) -> None:
        self.waiting.discard(conn)
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.poller.unregister(conn.sock)

    def on_readable(self, conn: ProxyConn, _sock: Any) -> None:
        if conn.closed:  # closed by an earlier event of the same batch
            return
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if conn.lingering:
            if not data:
                self.close_now(conn)
            return
        if not data:
            self.close_now(conn)
            return
        if not conn.request_started:
            conn.request_started = True
            conn.deadline = time.monotonic() + self.request_timeout
        conn.pending += data
        self.read_further(conn)

    def read_further(self, conn: ProxyConn) -> None:
        """Hand the request to a thread once it is whole; refuse it once it is too large."""
        framing = request_framing(
            conn.pending,
            max_body=self.max_body,
            max_line=self.max_line,
            max_head=self.max_head,
            progress=conn.progress,
        )
        if framing is Framing.INCOMPLETE:
            if not conn.continued and expects_continue(conn.pending):
                conn.continued = True
                self.send_quietly(conn, b"HTTP/1.1 100 Continue\r\n\r\n")
            return
        self.stop_waiting(conn)
        conn.progress = ChunkProgress()
        if framing is Framing.TOO_LARGE:
            self.log.warning(
                "Refused a request from %s: body over %d bytes", _address(conn), self.max_body
            )
            self.answer_and_close(
                conn, 413, f"The request body is larger than {self.max_body} bytes"
            )
            return
        conn.parser.unreader.unread(bytes(conn.pending))
        conn.pending = bytearray()
        self.enqueue_req(conn)

    def expire_waiting(self) -> None:
        now = time.monotonic()
        if now < self._next_expiry:
            return
        self._next_expiry = now + _EXPIRY_INTERVAL
        for conn in [c for c in self.waiting if c.deadline <= now]:
            if conn.pending and not conn.lingering:
                self.stop_waiting(conn)
                self.log.warning(
                    "Dropped a request from %s: not received within %g s",
                    _address(conn),
                    self.request_timeout,
                )
                self.answer_and_close(
                    conn, 408, f"The request did not arrive within {self.request_timeout:g} s"
                )
            else:
                self.close_now(conn)

    def enqueue_req(self, conn: ProxyConn) -> None:
        self.running += 1
        super().enqueue_req(conn)

    def finish_request(self, conn: ProxyConn, future: Future) -> None:
        """Back on the main loop once a thread is done with the connection."""
        self.running -= 1
        if self.running == 0:
            self._trim_due = True
            self.release_memory()
        try:
            keep = not future.cancelled() and future.exception() is None and future.result()
        except Exception:
            keep = False
        if not keep or not self.alive:
            self.close_lingering(conn)
            return
        leftover = conn.parser.unreader.take_buffered()
        conn.pending = bytearray(leftover)
        conn.progress = ChunkProgress()
        conn.continued = False
        conn.request_started = bool(leftover)
        self.wait_for_request(conn, self.request_timeout if leftover else self.cfg.keepalive)
        if leftover:
            self.read_further(conn)

    def release_memory(self) -> None:
        """Give back what the requests freed once none runs, at most once a second; a
        trim put off by that runs on a later turn of the main loop, so that the end of a
        burst is always given back."""
        if not self._trim_due or self.running or self._trim is None:
            return
        now = time.monotonic()
        if now >= self._next_trim:
            self._next_trim = now + _TRIM_INTERVAL
            self._trim_due = False
            self._trim(0)

    # -- closing ---------------------------------------------------------------------

    def answer_and_close(self, conn: ProxyConn, status: int, message: str) -> None:
        self.send_quietly(conn, json_answer(status, message))
        self.close_lingering(conn)

    def send_quietly(self, conn: ProxyConn, data: bytes) -> None:
        """A short answer on a connection the main loop owns: never blocks it."""
        try:
            conn.sock.setblocking(False)
            conn.sock.send(data)
        except OSError:
            pass

    def close_lingering(self, conn: ProxyConn) -> None:
        """Send FIN, then read and drop what the client still sends for a moment: closing
        with unread bytes would reset the connection before the client reads the answer."""
        self.stop_waiting(conn)
        try:
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self.close_now(conn)
            return
        conn.lingering = True
        self.wait_for_request(conn, _LINGER_SECONDS)

    def close_now(self, conn: ProxyConn) -> None:
        self.stop_waiting(conn)
        if not conn.closed:
            conn.closed = True
            self.nr_conns -= 1
            conn.close()

    # -- in a thread -----------------------------------------------------------------

    def handle(self, conn: ProxyConn) -> bool:
        """Parse the request read by the main loop and run the app; whether to keep alive."""
        request = None
        try:
            # Bounded, so that a thread never waits long on a client, reading or writing.
            conn.sock.settimeout(self.request_timeout)
            request = next(conn.parser)
            if isinstance(request.body.reader, ChunkedReader):
                # gunicorn judges chunk framing only as the app reads the body, where a
                # fault would be a 500 on a connection kept alive: judge it here, answer 400.
                request.body = Body(io.BytesIO(request.body.read()))
            if conn.continued and hasattr(request, "_expected_100_continue"):
                request._expected_100_continue = False  # the main loop has sent it
            keep = self.handle_request(request, conn)
            return self._keepalive_after(conn, keep)
        except (http.errors.NoMoreData, StopIteration):
            self.log.debug("Client closed the connection")
        except TimeoutError:
            self.log.debug("Client too slow; connection closed")
        except OSError as error:
            if error.errno not in (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN):
                self.log.exception("Socket error processing request.")
        except Exception as error:
            self.handle_error(request, conn.sock, conn.client, error)
        return False

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        """Answer a request the server layer refused, or failed, with a JSON error."""
        status = parse_error_status(exc)
        if status is None or status == 500:
            self.log.exception("Error handling request")
            status, message = 500, f"Internal error: {type(exc).__name__}"
        else:
            message = f"{HTTPStatus(status).phrase}: {exc}"
            self.log.warning("Refused a request from %s: %s", (addr or ("",))[0], message)
        try:
            client.settimeout(1.0)
            client.sendall(json_answer(status, message))
        except OSError:
            self.log.debug("Failed to send the error answer")


def _malloc_trim() -> Any:
    """glibc's ``malloc_trim``, or ``None`` where the C library has none."""
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None


def limit_malloc_arenas() -> None:
    """Let the worker's threads share one heap of the C allocator, unless
    ``MALLOC_ARENA_MAX`` says otherwise: glibc gives each thread that allocates a heap
    of its own (up to eight per core), and each keeps what its busiest moment took."""
    if os.environ.get("MALLOC_ARENA_MAX"):
        return  # glibc read it at start
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(_M_ARENA_MAX, _ARENAS)


def _address(conn: ProxyConn) -> str:
    return conn.client[0] if isinstance(conn.client, tuple) else str(conn.client)
