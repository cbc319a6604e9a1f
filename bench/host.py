"""The integration host's rows of ``make bench``, each a ratio measured in one run.

- intake: ``POST /aha/<integration>`` requests/s at 8 keep-alive clients, the host's
  intake against the bare Flask app, both under ``gunicorn -w 2 --threads 4``; each
  accepted event is stored in SQLite and flushed to the disk before the answer;
- drain: ``webhooks`` events delivered per second to a loopback sink by one worker of 4
  threads (4 integrations), against a bare loop of ``requests.post`` to that sink in
  4 threads;
- Redis: two workers against one, when the sink takes 50 ms to answer.

A drain rate is read from the sink's own clock: the arrivals between the 10th and the
90th percent of the events, so that neither a worker's start nor the last stragglers
count. ``python -m bench.host`` runs these rows alone, from this tree.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection as Pipe
from pathlib import Path

from bench.load import requests_per_second
from bench.report import Row, table
from bench.servers import Server, free_port
from bench.wire import Connection
from bench.workload import get_request, post_request

SECRET = "bench-intake-secret-0123456789"
CLIENTS = 8
LOAD_REPEATS = 5
LOAD_SECONDS = 3.0
DRAIN_THREADS = 4
DRAIN_EVENTS = 400  # per integration, in DRAIN_THREADS integrations
DRAIN_REPEATS = 3
SLOW_SINK = 0.05
SLOW_INTEGRATIONS = 8
SLOW_EVENTS = 30  # per integration
SLOW_REPEATS = 3
_READY_LIMIT = 60.0
_DRAIN_LIMIT = 300.0
EVENT = {"event": "create_feature", "feature": {"id": "1007", "reference_num": "APP-12"}}


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the sink ----------------------------------------------------------------------------


def _serve_sink(port: int, delay: float, commands: Pipe) -> None:
    """A loopback HTTP server in its own process: answers each POST after ``delay`` and
    notes when it arrived (CLOCK_MONOTONIC is one clock for every process)."""
    arrivals: list[float] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body leave in separate writes: without this, a kept-alive
        # connection would wait out the client's delayed ACK (40 ms) on each answer.
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            arrivals.append(time.monotonic())
            if delay:
                time.sleep(delay)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            """Quiet: thousands of requests."""

    ThreadingHTTPServer.request_queue_size = 256
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    commands.send("ready")
    while (command := commands.recv()) in ("arrivals", "count"):
        if command == "count":
            commands.send(len(arrivals))
            continue
        commands.send(list(arrivals))
        arrivals.clear()


class Sink:
    """The sink process, and the arrivals it saw since it was last asked."""

    def __init__(self, delay: float = 0.0):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        context = multiprocessing.get_context("fork")
        self._commands, theirs = context.Pipe()
        self._process = context.Process(
            target=_serve_sink, args=(self.port, delay, theirs), daemon=True
        )
        self._process.start()
        if self._commands.recv() != "ready":
            raise RuntimeError("the sink did not start")

    def arrivals(self) -> list[float]:
        self._commands.send("arrivals")
        return self._commands.recv()

    def count(self) -> int:
        """How many arrived since the arrivals were last taken; they stay."""
        self._commands.send("count")
        return self._commands.recv()

    def close(self) -> None:
        self._commands.send("stop")
        self._process.join(5)
        if self._process.is_alive():
            self._process.kill()


def middle_rate(arrivals: list[float]) -> float:
    """Arrivals per second between the 10th and the 90th percent of them."""
    times = sorted(arrivals)
    first, last = len(times) // 10, len(times) * 9 // 10
    return (last - first) / (times[last] - times[first])


# --- processes ---------------------------------------------------------------------------


def _environment(root: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AHA_", "WEB_CONCURRENCY", "HOST_THREADS", "WORKER_THREADS"))
    }
    env["PYTHONPATH"] = str(root)
    return {**env, **extra}


@contextmanager
def _process(kind: str, argv: list[str], root: Path, env: dict[str, str], log: Path):
    """A process in its own group, stopped with its children on the way out."""
    with log.open("ab") as output:
        process = subprocess.Popen(
            argv,
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(kind, 0, process, log)
    try:
        yield server
    finally:
        server.stop()


def _wait_for(condition, what: str, server: Server | None = None, limit: float = _READY_LIMIT):
    deadline = time.monotonic() + limit
    while not condition():
        if server is not None and server.process.poll() is not None:
            raise RuntimeError(f"{server.kind} exited:\n{server.log_tail()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.01)


def _answers(port: int, path: str) -> bool:
    try:
        with Connection(port, 2.0) as connection:
            connection.exchange(get_request(path, port))
        return True
    except (OSError, RuntimeError):
        return False


def write_config(folder: Path, integrations: int, hook_url: str) -> Path:
    tables = "".join(
        f'[integrations.bench-{index}]\nservice = "webhooks"\nsecret = "{SECRET}"\n'
        f'settings = {{ hook_url = "{hook_url}" }}\n'
        for index in range(integrations)
    )
    path = folder / "integrations.toml"
    path.write_text(f'[aha]\ndomain = "bench"\ntoken = "bench-aha-token-value"\n{tables}')
    return path


def _bin(root: Path, name: str) -> str:
    """A command of ``root``'s venv (a fresh clone's), else of the one running this."""
    own = root / ".venv" / "bin" / name
    return str(own if own.exists() else Path(sys.executable).with_name(name))


# --- intake ------------------------------------------------------------------------------


def intake_row(root: Path, work_dir: Path) -> Row:
    """``POST /aha/bench-0`` (stored, queued, 202) against the bare app's ``/send_event``
    with the same body, 8 clients each."""
    folder = work_dir / "intake"
    folder.mkdir()
    config = write_config(folder, 1, "http://127.0.0.1:9/hook")
    host_port, bare_port = free_port(), free_port()
    host_env = _environment(
        root,
        {
            "PORT": str(host_port),
            "WEB_CONCURRENCY": "2",
            "HOST_THREADS": "4",
            "AHA_SERVICES_CONFIG": str(config),
            "AHA_SERVICES_DATA": str(folder / "data"),
        },
    )
    bare_argv = [
        _bin(root, "gunicorn"),
        "-w",
        "2",
        "--threads",
        "4",
        "-b",
        f"127.0.0.1:{bare_port}",
    ]
    host_argv = [_bin(root, "gunicorn"), "--config", "python:host.gunicorn_conf", "host.wsgi:app"]
    body = json.dumps(EVENT).encode()
    requests = {
        "bare": post_request("/send_event", body, bare_port),
        "host": post_request(f"/aha/bench-0?token={SECRET}", body, host_port),
    }
    ports = {"bare": bare_port, "host": host_port}
    rates: dict[str, list[float]] = {"bare": [], "host": []}
    with (
        _process(
            "bare",
            [*bare_argv, "bench.bare_app:app"],
            root,
            _environment(root, {}),
            folder / "bare.log",
        ) as bare,
        _process("host", host_argv, root, host_env, folder / "host.log") as host,
    ):
        _wait_for(lambda: _answers(bare_port, "/configuration"), "the bare app", bare)
        _wait_for(lambda: _answers(host_port, "/healthz"), "the intake", host)
        for repeat in range(LOAD_REPEATS):
            for kind in ("bare", "host") if repeat % 2 == 0 else ("host", "bare"):
                rates[kind].append(
                    requests_per_second(ports[kind], requests[kind], CLIENTS, LOAD_SECONDS)
                )
            _progress(
                f"intake x{CLIENTS} {repeat + 1}/{LOAD_REPEATS}: "
                f"bare {rates['bare'][-1]:.0f}/s, host {rates['host'][-1]:.0f}/s"
            )
    return Row(
        f"intake x{CLIENTS}",
        "/s",
        rates["bare"],
        rates["host"],
        "ratio >= 0.6",
        lowest_ratio=0.6,
        names=("bare", "host"),
    )


# --- drain -------------------------------------------------------------------------------


def _fill(environ: dict[str, str], integrations: int, per_integration: int) -> None:
    """Store and queue the jobs as the intake does, round robin over the integrations."""
    from host.engine import build_engine
    from host.jobs import Job

    engine = build_engine(environ)
    for number in range(per_integration):
        for index in range(integrations):
            name = f"bench-{index}"
            payload = {**EVENT, "feature": {**EVENT["feature"], "n": number}}  # type: ignore[dict-item]
            if engine.store.add_job(Job(integration=name, event="create_feature", payload=payload)):
                engine.enqueue(name, None)


def _delivered(environ: dict[str, str]) -> int:
    from host.engine import build_engine

    return build_engine(environ).store.state_counts().get("delivered", 0)


def host_drain(
    root: Path,
    folder: Path,
    sink: Sink,
    integrations: int,
    per_integration: int,
    workers: int,
    queue: str | None = None,
) -> float:
    """Events/s that ``workers`` worker processes of 4 threads deliver to the sink, the
    jobs stored before the workers start."""
    folder.mkdir()
    config = write_config(folder, integrations, sink.url)
    environ = _environment(
        root,
        {
            "AHA_SERVICES_CONFIG": str(config),
            "AHA_SERVICES_DATA": str(folder / "data"),
            "AHA_SERVICES_ALLOWED_HOSTS": "127.0.0.1",
        },
    )
    if queue:
        environ["AHA_SERVICES_QUEUE"] = queue
    _fill(environ, integrations, per_integration)
    sink.arrivals()
    total = integrations * per_integration
    argv = [_bin(root, "aha-services"), "worker", "--threads", str(DRAIN_THREADS)]
    with ExitStack() as stack:
        started = [
            stack.enter_context(
                _process(f"worker {index}", argv, root, environ, folder / f"worker-{index}.log")
            )
            for index in range(workers)
        ]
        # The sink's count, not the store's: a look at the store every few milliseconds
        # would open it each time, taking CPU and the file's locks from the workers.
        _wait_for(lambda: sink.count() >= total, "the events to arrive", started[0], _DRAIN_LIMIT)
        _wait_for(
            lambda: _delivered(environ) >= total,
            "the events to be delivered",
            started[0],
            _DRAIN_LIMIT,
        )
    arrivals = sink.arrivals()
    if len(arrivals) != total:
        raise RuntimeError(f"the sink saw {len(arrivals)} events, not {total}")
    return middle_rate(arrivals)


def bare_drain(sink: Sink, threads: int, per_thread: int) -> float:
    """Events/s that ``threads`` threads, each a loop of ``requests.post``, deliver."""
    import requests

    body = {**EVENT, "feature": {**EVENT["feature"]}}
    start = threading.Barrier(threads)

    def loop() -> None:
        start.wait()
        for _ in range(per_thread):
            requests.post(sink.url, json=body, timeout=10).raise_for_status()

    sink.arrivals()
    workers = [threading.Thread(target=loop) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return middle_rate(sink.arrivals())


def drain_row(root: Path, work_dir: Path) -> Row:
    sink = Sink()
    rates: dict[str, list[float]] = {"bare": [], "host": []}
    try:
        for repeat in range(DRAIN_REPEATS):
            for kind in ("bare", "host") if repeat % 2 == 0 else ("host", "bare"):
                if kind == "bare":
                    rates[kind].append(bare_drain(sink, DRAIN_THREADS, DRAIN_EVENTS))
                else:
                    folder = work_dir / f"drain-{repeat}"
                    rate = host_drain(root, folder, sink, DRAIN_THREADS, DRAIN_EVENTS, 1)
                    rates[kind].append(rate)
            _progress(
                f"drain x{DRAIN_THREADS} {repeat + 1}/{DRAIN_REPEATS}: "
                f"requests.post {rates['bare'][-1]:.0f}/s, host {rates['host'][-1]:.0f}/s"
            )
    finally:
        sink.close()
    return Row(
        f"drain x{DRAIN_THREADS}",
        "/s",
        rates["bare"],
        rates["host"],
        "ratio >= 0.7",
        lowest_ratio=0.7,
        names=("post", "host"),
    )


# --- Redis: two workers against one ------------------------------------------------------


@contextmanager
def redis_server(folder: Path) -> Iterator[str | None]:
    """A redis-server of our own on a free loopback port, or None when there is none."""
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    port = free_port()
    folder.mkdir()
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(folder)]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(lambda: _pong(port), "redis-server")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(10)


def _pong(port: int) -> bool:
    import redis

    try:
        return bool(redis.Redis(port=port).ping())
    except redis.RedisError:
        return False


def redis_row(root: Path, work_dir: Path) -> Row | None:
    import redis

    rates: dict[int, list[float]] = {1: [], 2: []}
    with redis_server(work_dir / "redis") as url:
        if url is None:
            return None
        sink = Sink(delay=SLOW_SINK)
        try:
            for repeat in range(SLOW_REPEATS):
                for workers in (1, 2) if repeat % 2 == 0 else (2, 1):
                    redis.Redis.from_url(url).flushdb()
                    folder = work_dir / f"redis-{repeat}-{workers}"
                    rates[workers].append(
                        host_drain(root, folder, sink, SLOW_INTEGRATIONS, SLOW_EVENTS, workers, url)
                    )
                _progress(
                    f"redis, sink {SLOW_SINK * 1000:.0f} ms {repeat + 1}/{SLOW_REPEATS}: "
                    f"1 worker {rates[1][-1]:.1f}/s, 2 workers {rates[2][-1]:.1f}/s"
                )
        finally:
            sink.close()
    return Row(
        "redis 2 workers",
        "/s",
        rates[1],
        rates[2],
        "ratio >= 1.7",
        lowest_ratio=1.7,
        names=("1 worker", "2 workers"),
    )


def host_rows(root: Path, work_dir: Path, only: str = "") -> tuple[list[Row], list[str]]:
    """The host's rows (or the one named), measured with the code and venv under ``root``."""
    rows, notes = [], []
    if only in ("", "intake"):
        rows.append(intake_row(root, work_dir))
    if only in ("", "drain"):
        rows.append(drain_row(root, work_dir))
    if only in ("", "redis"):
        redis_rows = redis_row(root, work_dir)
        if redis_rows is None:
            notes.append("  redis 2 workers: skipped, no redis-server installed")
        else:
            rows.append(redis_rows)
    return rows, notes


def main() -> None:
    """``python -m bench.host [intake|drain|redis]``: the host's rows, or one of them."""
    only = sys.argv[1] if len(sys.argv) > 1 else ""
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix="aha-bench-host-") as work:
        rows, notes = host_rows(root, Path(work), only)
    print(table(rows, notes))


if __name__ == "__main__":
    main()
