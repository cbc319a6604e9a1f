"""Starts the two servers as the outside check does, and always stops them.

The proxy: ``make serve`` in a fresh clone (make, gunicorn with the proxy's own worker,
and its reloader, as a developer starts it). The bare app: plain
``gunicorn -w 2 --threads 4`` (gunicorn's threaded worker), from the same clone's venv.
Each runs in its own process group and is stopped as a group.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.wire import Connection
from bench.workload import get_request

PROXY = "proxy"
BARE = "bare"

_START_LIMIT = 300.0  # the first start of a fresh clone creates its venv
_STOP_LIMIT = 15.0
_POLL_INTERVAL = 0.002


def free_port() -> int:
    """A loopback port nobody listens on now; the server binds it a moment later."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def command(kind: str, clone: Path, port: int) -> list[str]:
    if kind == PROXY:
        return ["make", "--no-print-directory", "serve", f"PORT={port}"]
    gunicorn = str(clone / ".venv" / "bin" / "gunicorn")
    return [gunicorn, "-w", "2", "--threads", "4", "-b", f"127.0.0.1:{port}", "bench.bare_app:app"]


def _environment(port: int, runtime_dir: Path, extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ, PORT=str(port), **extra)
    # The settings make serve starts with, whatever this shell has set.
    for name in (
        "WEB_CONCURRENCY",
        "PROXY_THREADS",
        "AHA_SERVICES_RELOAD",
        "AHA_SERVICES_ACCESS_LOG",
    ):
        env.pop(name, None)
    # gunicorn's control socket lives in $XDG_RUNTIME_DIR: one directory each, so that
    # neither the other server nor a developer's own make serve loses its socket.
    env["XDG_RUNTIME_DIR"] = str(runtime_dir)
    return env


@dataclass
class Server:
    """A server's process group, and where its output goes."""

    kind: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def gunicorn_master(self) -> int:
        """make execs gunicorn in place of its shell, so the master is make's child."""
        if self.kind == BARE:
            return self.process.pid
        children = _children(self.process.pid)
        if len(children) != 1:
            raise RuntimeError(f"make serve runs {len(children)} processes, not gunicorn alone")
        return children[0]

    def worker_rss_mb(self) -> list[float]:
        """Each gunicorn worker's resident memory (VmRSS), in MB of 10^6 bytes."""
        return [_rss_mb(pid) for pid in _children(self.gunicorn_master())]

    def arbiter_rss_mb(self) -> float:
        """The gunicorn arbiter's resident memory: the proxy's writes the event log."""
        return _rss_mb(self.gunicorn_master())

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM the group, SIGKILL whatever is left; never leaves a worker behind."""
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(_STOP_LIMIT)
            return
        except subprocess.TimeoutExpired:
            pass
        except ProcessLookupError:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        self.process.wait()


def _children(pid: int) -> list[int]:
    pids: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        pids.extend(int(child) for child in (task / "children").read_text().split())
    return sorted(pids)


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024 / 1e6
    raise RuntimeError(f"no VmRSS for process {pid}")


def _first_configuration(server: Server, limit: float) -> bytes:
    """Wait for the first ``GET /configuration`` answer (200): the app is loaded."""
    deadline = time.monotonic() + limit
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.kind} exited while starting:\n{server.log_tail()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{server.kind} did not answer within {limit:g} s")
        try:
            with Connection(server.port) as connection:
                return connection.exchange(get_request("/configuration", server.port))
        except (ConnectionError, TimeoutError):  # not listening yet, or a worker booting
            time.sleep(_POLL_INTERVAL)


@contextmanager
def running(
    kind: str, clone: Path, work_dir: Path, extra_env: dict[str, str] | None = None
) -> Iterator[tuple[Server, float, bytes]]:
    """Start a server; yield it, its cold start in ms (process start to the first
    ``/configuration`` answer) and that answer; stop it on the way out, error or not."""
    port = free_port()
    runtime_dir = work_dir / f"{kind}-{port}"
    runtime_dir.mkdir()
    log = runtime_dir / "output.log"
    with log.open("wb") as output:
        started = time.perf_counter()
        process = subprocess.Popen(
            command(kind, clone, port),
            cwd=clone,
            env=_environment(port, runtime_dir, extra_env or {}),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(kind, port, process, log)
    try:
        answer = _first_configuration(server, _START_LIMIT)
        yield server, (time.perf_counter() - started) * 1000, answer
    finally:
        server.stop()


def fresh_clone(work_dir: Path) -> Path:
    """``git clone`` of this repository (its committed state), with a first, untimed
    ``make serve`` that creates the clone's venv."""
    root = Path(__file__).resolve().parent.parent
    clone = work_dir / "clone"
    subprocess.run(["git", "clone", "--quiet", str(root), str(clone)], check=True)
    with running(PROXY, clone, work_dir):
        pass
    return clone
