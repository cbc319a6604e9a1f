"""Throughput: keep-alive clients, one process each, so no client ever waits on a GIL."""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
import time
from multiprocessing.connection import Connection as Pipe
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Barrier

from bench.wire import Connection

# Time for every client to connect and answer a first request before the clock starts.
_SETUP_LIMIT = 30.0


def _client(port: int, request: bytes, seconds: float, barrier: Barrier, results: Pipe) -> None:
    try:
        with Connection(port) as connection:
            connection.exchange(request)
            barrier.wait(_SETUP_LIMIT)
            count = 0
            started = now = time.perf_counter()
            deadline = started + seconds
            while now < deadline:
                connection.exchange(request)
                count += 1
                now = time.perf_counter()
        results.send((count, now - started))
    except BaseException as error:
        barrier.abort()
        results.send(f"{type(error).__name__}: {error}")


def requests_per_second(port: int, request: bytes, clients: int, seconds: float) -> float:
    """Requests/s that ``clients`` concurrent keep-alive connections get through in ``seconds``.

    Each client times itself from a common start, so a client that starts late
    does not skew the sum.
    """
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(clients + 1)
    processes: list[BaseProcess] = []
    receivers: list[Pipe] = []
    try:
        for _ in range(clients):
            receiver, sender = context.Pipe(duplex=False)
            process = context.Process(
                target=_client, args=(port, request, seconds, barrier, sender), daemon=True
            )
            process.start()
            sender.close()
            processes.append(process)
            receivers.append(receiver)
        # A client that failed breaks the barrier; its message is read below.
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(_SETUP_LIMIT)
        results = [_result(receiver, seconds + _SETUP_LIMIT) for receiver in receivers]
        errors = sorted({result for result in results if isinstance(result, str)})
        if errors:
            raise RuntimeError("load client failed: " + "; ".join(errors))
        return sum(count / elapsed for count, elapsed in results)
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()
            process.join()


def _result(receiver: Pipe, timeout: float) -> tuple[int, float] | str:
    if not receiver.poll(timeout):
        return f"no report within {timeout:g} s"
    try:
        return receiver.recv()
    except EOFError:
        return "a client process died"
