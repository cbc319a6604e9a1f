"""``make bench``: the proxy against a bare Flask app, side by side in one run.

Every figure is a median over repetitions that alternate between the two servers,
so drift on a noisy machine hits both alike; only the ratios are targets.
"""

from __future__ import annotations

import json
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from statistics import median

from bench.load import requests_per_second
from bench.report import Row, table
from bench.servers import BARE_APP, PROXY_APP, Server, running
from bench.wire import Connection
from bench.workload import (
    IGNORED_ANSWER,
    IGNORED_EVENT,
    IGNORED_EVENT_BODY,
    get_request,
    post_request,
)

START_REPEATS = 7
LOAD_REPEATS = 5
LOAD_SECONDS = 3.0
CONCURRENCY = (1, 8)
# Fresh connections, so that gunicorn hands some to each worker.
WARM_UP_CONNECTIONS = 8
MAX_WORKER_MB = 45.0


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cold_start(work_dir: Path) -> Row:
    """Process start to the first ``/configuration`` answer; one untimed start of each app
    first, so that both find their bytecode compiled and their files in the page cache."""
    samples: dict[str, list[float]] = {BARE_APP: [], PROXY_APP: []}
    for repeat in range(START_REPEATS + 1):
        for app in (BARE_APP, PROXY_APP) if repeat % 2 == 0 else (PROXY_APP, BARE_APP):
            with running(app, work_dir, reload=True) as (_, milliseconds):
                if repeat:
                    samples[app].append(milliseconds)
        if repeat:
            _progress(
                f"cold start {repeat}/{START_REPEATS}: "
                f"bare {samples[BARE_APP][-1]:.0f} ms, proxy {samples[PROXY_APP][-1]:.0f} ms"
            )
    bare, proxy = median(samples[BARE_APP]), median(samples[PROXY_APP])
    return Row("cold start", "ms", bare, proxy, "ratio <= 1.5", proxy <= 1.5 * bare)


def warm_up(server: Server, expected: dict[str, object]) -> None:
    """A few ``/configuration`` and ``/send_event`` requests, checking that the event takes
    the path meant to be measured (the proxy ignores it, the bare app echoes it).

    The connections are all opened first, so that gunicorn spreads them over its workers.
    """
    event = post_request("/send_event", IGNORED_EVENT_BODY, server.port)
    with ExitStack() as stack:
        connections = [
            stack.enter_context(Connection(server.port)) for _ in range(WARM_UP_CONNECTIONS)
        ]
        for connection in connections:
            connection.exchange(get_request("/configuration", server.port))
            for _ in range(3):
                answer = json.loads(connection.exchange(event))
                if answer != expected:
                    raise RuntimeError(f"{server.app} answered {answer!r}, not {expected!r}")


def throughput(bare: Server, proxy: Server, clients: int) -> Row:
    """``POST /send_event`` requests/s with ``clients`` concurrent keep-alive clients."""
    rates: dict[str, list[float]] = {BARE_APP: [], PROXY_APP: []}
    for repeat in range(LOAD_REPEATS):
        # bare, proxy, proxy, bare, ...: a linear drift cancels out.
        for server in (bare, proxy) if repeat % 2 == 0 else (proxy, bare):
            request = post_request("/send_event", IGNORED_EVENT_BODY, server.port)
            rates[server.app].append(
                requests_per_second(server.port, request, clients, LOAD_SECONDS)
            )
        _progress(
            f"send_event x{clients} {repeat + 1}/{LOAD_REPEATS}: "
            f"bare {rates[BARE_APP][-1]:.0f}/s, proxy {rates[PROXY_APP][-1]:.0f}/s"
        )
    bare_rate, proxy_rate = median(rates[BARE_APP]), median(rates[PROXY_APP])
    return Row(
        f"send_event x{clients}",
        "/s",
        bare_rate,
        proxy_rate,
        "ratio >= 0.8",
        proxy_rate >= 0.8 * bare_rate,
    )


def memory(bare: Server, proxy: Server) -> Row:
    """The largest worker's RSS; the target is on the proxy alone, the bare app is context."""
    bare_mb, proxy_mb = max(bare.worker_rss_mb()), max(proxy.worker_rss_mb())
    return Row(
        "RSS per worker",
        "MB",
        bare_mb,
        proxy_mb,
        f"proxy < {MAX_WORKER_MB:g} MB",
        proxy_mb < MAX_WORKER_MB,
    )


def _workers(label: str, bare: Server, proxy: Server) -> str:
    def listed(server: Server) -> str:
        return ", ".join(f"{mb:.1f}" for mb in server.worker_rss_mb())

    return f"  RSS of each worker {label}: bare {listed(bare)} MB; proxy {listed(proxy)} MB"


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="aha-bench-") as work:
        work_dir = Path(work)
        rows = [cold_start(work_dir)]
        with (
            running(BARE_APP, work_dir, reload=False) as (bare, _),
            running(PROXY_APP, work_dir, reload=False) as (proxy, _),
        ):
            warm_up(bare, IGNORED_EVENT)
            warm_up(proxy, IGNORED_ANSWER)
            memory_row = memory(bare, proxy)
            notes = [_workers("after warm-up", bare, proxy)]
            rows.extend(throughput(bare, proxy, clients) for clients in CONCURRENCY)
            notes.append(_workers("after the load runs", bare, proxy))
    print(table([*rows, memory_row], notes))


if __name__ == "__main__":
    main()
