"""Runs an app under gunicorn exactly as ``make serve`` does, and always stops it.

Both get the proxy's own gunicorn settings (``--config python:proxy.gunicorn_conf``:
2 workers x 4 threads), but the bare app runs under gunicorn's plain threaded worker,
as ``gunicorn -w 2 --threads 4`` would: the proxy's worker (which reads each request
whole before a thread takes it) is part of what is measured.

The reloader is on for cold starts, as in development. Under load it is off for
both apps: it restarts the workers whenever a file they imported is saved, and in
a tree people are editing that hits the proxy alone (it imports ``services/`` and
``proxy/``; the bare app nothing of ours), dropping connections mid-run. Its
steady cost is one pass over ~330 module files a second per worker, about 1 ms,
so switching it off flatters neither app.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.wire import Connection
from bench.workload import get_request

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")
PROXY_APP = "proxy.wsgi:app"
BARE_APP = "bench.bare_app:app"

_START_LIMIT = 60.0
_STOP_LIMIT = 10.0
_POLL_INTERVAL = 0.002


def free_port() -> int:
    """A loopback port nobody listens on now; gunicorn binds it a moment later."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _environment(port: int, runtime_dir: Path, work_dir: Path, reload: bool) -> dict[str, str]:
    # gunicorn puts its control socket in $XDG_RUNTIME_DIR (else ~/.gunicorn) and
    # replaces whatever socket is there: one directory each, so neither the other
    # server in this run nor a developer's own make serve loses its socket.
    env = dict(os.environ, HOST="127.0.0.1", PORT=str(port), XDG_RUNTIME_DIR=str(runtime_dir))
    # Bytecode as in a developer's tree after a first start, for both apps alike, cached
    # in this run's directory rather than beside anyone's sources. Where
    # PYTHONDONTWRITEBYTECODE is set, the proxy would compile its own modules at every
    # start (~15 ms), while Flask's came compiled with the install.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(work_dir / "pycache")
    # The settings make serve runs with, whatever this shell has set.
    env.update(WEB_CONCURRENCY="2", PROXY_THREADS="4", AHA_SERVICES_RELOAD=str(int(reload)))
    env.pop("AHA_SERVICES_ACCESS_LOG", None)
    return env


@dataclass
class Server:
    """A gunicorn master in its own process group, and where its output goes."""

    app: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def worker_pids(self) -> list[int]:
        """The master's children: gunicorn's workers."""
        pids: list[int] = []
        for task in Path(f"/proc/{self.process.pid}/task").iterdir():
            pids.extend(int(pid) for pid in (task / "children").read_text().split())
        return sorted(pids)

    def worker_rss_mb(self) -> list[float]:
        """Each worker's resident memory (VmRSS), in MB of 10^6 bytes."""
        return [_rss_mb(pid) for pid in self.worker_pids()]

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM the whole group, SIGKILL whatever is left; never leaves a worker behind."""
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(_STOP_LIMIT)
        except subprocess.TimeoutExpired:
            pass
        except ProcessLookupError:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        self.process.wait()


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024 / 1e6
    raise RuntimeError(f"no VmRSS for process {pid}")


def _first_configuration(server: Server) -> None:
    """Wait until ``GET /configuration`` answers 200: the app is loaded in a worker."""
    deadline = time.monotonic() + _START_LIMIT
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.app} exited while starting:\n{server.log_tail()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{server.app} did not answer within {_START_LIMIT:g} s")
        try:
            with Connection(server.port) as connection:
                connection.exchange(get_request("/configuration", server.port))
            return
        except ConnectionError:  # not listening yet, or a worker failed to boot
            time.sleep(_POLL_INTERVAL)


@contextmanager
def running(app: str, work_dir: Path, *, reload: bool) -> Iterator[tuple[Server, float]]:
    """Start gunicorn serving ``app``; yield it and its cold start in ms (process start to
    the first ``/configuration`` answer); stop it on the way out, error or not."""
    port = free_port()
    runtime_dir = work_dir / f"{app.split(':')[0]}-{port}"
    runtime_dir.mkdir()
    log = runtime_dir / "gunicorn.log"
    command = [str(GUNICORN), "--config", "python:proxy.gunicorn_conf", app]
    if app == BARE_APP:
        command[1:1] = ["--worker-class", "gthread"]
    with log.open("wb") as output:
        started = time.perf_counter()
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=_environment(port, runtime_dir, work_dir, reload),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(app, port, process, log)
    try:
        _first_configuration(server)
        yield server, (time.perf_counter() - started) * 1000
    finally:
        server.stop()
