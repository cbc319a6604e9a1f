"""``make bench``: the proxy against a bare Flask app, measured as the outside check does.

A fresh clone of this repository (its committed state) gets its venv from a first,
untimed ``make serve``. Then, with every repetition alternating between the two
servers so that drift on a noisy machine hits both alike:

- cold start: ``make serve`` (make, gunicorn, the reloader) against plain
  ``gunicorn -w 2 --threads 4`` serving the bare app, process start to the first
  ``/configuration`` answer;
- ``/send_event`` requests/s for a small event no service handles, 1 and 8
  keep-alive clients, both servers running side by side (the proxy with its event
  log on, the default); then the same against a second proxy with the log off
  (``bench/event_log.py``);
- memory: each proxy worker's RSS after ~5,300 mixed events (every service, every
  event kind it handles), the third parties answered by a fake on loopback;
- the integration host: its intake, its workers' drain rate, two Redis workers
  against one (``bench/host.py``).

Only the ratios are targets; each is the median over pairs, printed with its spread.
"""

from __future__ import annotations

import itertools
import json
import sys
import tempfile
import threading
from contextlib import ExitStack
from pathlib import Path

from bench.event_log import event_log_rows
from bench.fake import fake_third_party
from bench.host import host_rows
from bench.load import requests_per_second
from bench.mixed import mixed_events
from bench.report import Row, table
from bench.servers import BARE, PROXY, Server, fresh_clone, running
from bench.wire import Connection
from bench.workload import (
    BARE_ANSWER,
    IGNORED_EVENT_BODY,
    PROXY_ANSWER,
    get_request,
    post_request,
)

START_REPEATS = 9
LOAD_REPEATS = 7
LOAD_SECONDS = 3.0
CONCURRENCY = (1, 8)
MIXED_EVENTS = 5300
# Connections opened before any is used, so that gunicorn hands some to each worker.
CONNECTIONS = 8
MAX_WORKER_MB = 45.0


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cold_start(clone: Path, work_dir: Path) -> Row:
    """One untimed start of each first (the page cache), then timed starts in turn."""
    samples: dict[str, list[float]] = {BARE: [], PROXY: []}
    for repeat in range(START_REPEATS + 1):
        for kind in (BARE, PROXY) if repeat % 2 == 0 else (PROXY, BARE):
            with running(kind, clone, work_dir) as (_, milliseconds, _):
                if repeat:
                    samples[kind].append(milliseconds)
        if repeat:
            _progress(
                f"cold start {repeat}/{START_REPEATS}: "
                f"bare {samples[BARE][-1]:.0f} ms, proxy {samples[PROXY][-1]:.0f} ms"
            )
    return Row("cold start", "ms", samples[BARE], samples[PROXY], "ratio <= 1.5", highest_ratio=1.5)


def check_answers(server: Server, expected: dict[str, object], services: int | None) -> None:
    """The path meant to be measured: the ignored event answered as expected, and (for
    the proxy) every service in ``/configuration``."""
    event = post_request("/send_event", IGNORED_EVENT_BODY, server.port)
    with ExitStack() as stack:
        connections = [stack.enter_context(Connection(server.port)) for _ in range(CONNECTIONS)]
        for connection in connections:
            configuration = json.loads(
                connection.exchange(get_request("/configuration", server.port))
            )
            if services is not None and len(configuration["services"]) != services:
                raise RuntimeError(
                    f"{server.kind} serves {len(configuration['services'])} "
                    f"services, not {services}"
                )
            answer = json.loads(connection.exchange(event))
            if answer != expected:
                raise RuntimeError(f"{server.kind} answered {answer!r}, not {expected!r}")


def throughput(bare: Server, proxy: Server, clients: int) -> Row:
    """``POST /send_event`` requests/s with ``clients`` concurrent keep-alive clients."""
    rates: dict[str, list[float]] = {BARE: [], PROXY: []}
    for repeat in range(LOAD_REPEATS):
        for server in (bare, proxy) if repeat % 2 == 0 else (proxy, bare):
            request = post_request("/send_event", IGNORED_EVENT_BODY, server.port)
            rates[server.kind].append(
                requests_per_second(server.port, request, clients, LOAD_SECONDS)
            )
        _progress(
            f"send_event x{clients} {repeat + 1}/{LOAD_REPEATS}: "
            f"bare {rates[BARE][-1]:.0f}/s, proxy {rates[PROXY][-1]:.0f}/s"
        )
    return Row(
        f"send_event x{clients}", "/s", rates[BARE], rates[PROXY], "ratio >= 0.9", lowest_ratio=0.9
    )


def mixed_warm_up(proxy: Server, fake_url: str) -> tuple[int, int]:
    """Send ``MIXED_EVENTS`` mixed events over ``CONNECTIONS`` connections; how many
    were sent, and how many kinds of event they cycled through."""
    bodies = mixed_events(fake_url)
    requests = [post_request("/send_event", json.dumps(b).encode(), proxy.port) for b in bodies]
    per_connection = -(-MIXED_EVENTS // CONNECTIONS)
    errors: list[str] = []

    def send(connection: Connection, offset: int) -> None:
        sequence = itertools.islice(itertools.cycle(requests), offset, offset + per_connection)
        try:
            for request in sequence:
                connection.exchange(request)
        except Exception as error:  # reported after the other connections finish
            errors.append(f"{type(error).__name__}: {error}")

    with ExitStack() as stack:
        connections = [
            stack.enter_context(Connection(proxy.port, 120.0)) for _ in range(CONNECTIONS)
        ]
        threads = [
            threading.Thread(target=send, args=(connection, index * len(requests) // CONNECTIONS))
            for index, connection in enumerate(connections)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    if errors:
        raise RuntimeError("mixed events failed: " + "; ".join(sorted(set(errors))))
    return per_connection * CONNECTIONS, len(bodies)


def _listed(server: Server) -> str:
    return ", ".join(f"{mb:.1f}" for mb in server.worker_rss_mb())


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="aha-bench-") as work:
        work_dir = Path(work)
        _progress("cloning, and a first make serve to create the clone's venv ...")
        clone = fresh_clone(work_dir)
        rows = [cold_start(clone, work_dir)]
        with fake_third_party() as fake_port:
            fake_url = f"http://127.0.0.1:{fake_port}"
            proxy_env = {
                "AHA_SERVICES_ALLOWED_HOSTS": "127.0.0.1",
                "AHA_API_URL": f"{fake_url}/api/v1",
            }
            with (
                running(BARE, clone, work_dir) as (bare, _, _),
                running(PROXY, clone, work_dir, proxy_env) as (proxy, _, configuration),
            ):
                services = len(json.loads(configuration)["services"])
                check_answers(bare, BARE_ANSWER, None)
                check_answers(proxy, PROXY_ANSWER, services)
                rows.extend(throughput(bare, proxy, clients) for clients in CONCURRENCY)
                _progress("the event log on against off ...")
                log_rows, log_notes = event_log_rows(
                    proxy, clone, work_dir, proxy_env, CONCURRENCY, LOAD_REPEATS, LOAD_SECONDS
                )
                rows.extend(log_rows)
                notes = [
                    *log_notes,
                    f"  RSS of each worker after the load runs: bare {_listed(bare)} MB; "
                    f"proxy {_listed(proxy)} MB",
                ]
                _progress("mixed events ...")
                sent, kinds = mixed_warm_up(proxy, fake_url)
                bare_mb, proxy_mb = max(bare.worker_rss_mb()), max(proxy.worker_rss_mb())
                notes.append(
                    f"  RSS of each proxy worker after {sent} mixed events ({kinds} kinds, "
                    f"{services} services): {_listed(proxy)} MB; of the arbiter, which "
                    f"writes the event log: {proxy.arbiter_rss_mb():.1f} MB "
                    f"(bare: {bare.arbiter_rss_mb():.1f} MB)"
                )
        rows.append(
            Row(
                "RSS per worker",
                "MB",
                [bare_mb],
                [proxy_mb],
                f"proxy < {MAX_WORKER_MB:g} MB",
                limit=MAX_WORKER_MB,
            )
        )
        _progress("the integration host ...")
        more_rows, more_notes = host_rows(clone, work_dir)
        rows.extend(more_rows)
        notes.extend(more_notes)
    print(table(rows, notes))


if __name__ == "__main__":
    main()
