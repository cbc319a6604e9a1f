"""The proxy started the way ``make serve`` starts it, for the specs that test the server layer.

A copy of ``services/`` and ``proxy/`` in a temporary directory is served by
``honcho start web`` (the project's Procfile and gunicorn settings) on a free
loopback port, so a spec can change files under it without touching the tree.
The whole process group is stopped on the way out.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from spec.conftest import project_variable

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
_START_LIMIT = 30.0
_STOP_LIMIT = 10.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Answer:
    status: int
    head: str
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)


@dataclass
class LiveServer:
    root: Path
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def connect(self, timeout: float = 5.0) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=timeout)

    def exchange(self, raw: bytes, timeout: float = 5.0) -> Answer:
        """Send ``raw`` on a new connection and read one answer."""
        with self.connect(timeout) as connection:
            connection.sendall(raw)
            return read_answer(connection)

    def post(self, path: str, body: object, timeout: float = 5.0) -> Answer:
        data = json.dumps(body).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n"
        )
        return self.exchange(head.encode() + data, timeout)

    def get(self, path: str, timeout: float = 5.0) -> Answer:
        raw = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        return self.exchange(raw.encode(), timeout)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        """TERM the whole group, KILL what is left: no worker outlives the spec."""
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


def read_answer(connection: socket.socket) -> Answer:
    """One HTTP answer (a ``100 Continue`` skipped), read up to its Content-Length."""
    data = b""
    while True:
        while b"\r\n\r\n" not in data:
            chunk = connection.recv(65536)
            if not chunk:
                raise ConnectionError(f"closed after {data!r}")
            data += chunk
        head, _, data = data.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        if status != 100:
            break
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(data) < length:
        chunk = connection.recv(65536)
        if not chunk:
            break
        data += chunk
    return Answer(status, head.decode("latin-1"), data[:length])


def _copy_project(root: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__")
    for package in ("services", "proxy", "console"):
        shutil.copytree(ROOT / package, root / package, ignore=ignore, dirs_exist_ok=True)
    shutil.copy(ROOT / "Procfile", root / "Procfile")


def start(argv: list[str], root: Path, port: int, cwd: Path, **settings: str) -> LiveServer:
    """``argv`` in a session of its own, on ``port``, with the project's variables of the
    developer's shell left out and ``settings`` set; its output in ``root/server.log``."""
    env = {name: value for name, value in os.environ.items() if not project_variable(name)}
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        PORT=str(port),
        PYTHONDONTWRITEBYTECODE="1",
        XDG_RUNTIME_DIR=str(root),
        **settings,
    )
    log = root / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return LiveServer(root, port, process, log)


@contextmanager
def live_server(root: Path, **settings: str) -> Iterator[LiveServer]:
    """Serve a copy of the project from ``root`` with ``settings`` in its environment;
    files already under ``root`` (a service of the spec's own) are kept."""
    _copy_project(root)
    # The console beside the proxy only where a spec asks for it.
    server = start(
        [str(BIN / "honcho"), "start", "web"],
        root,
        free_port(),
        root,
        **{"CONSOLE_PORT": "0", **settings},
    )
    try:
        wait_until(lambda: _answers(server), _START_LIMIT, f"the proxy to start:\n{server.log}")
        yield server
    finally:
        server.stop()


def _answers(server: LiveServer) -> bool:
    if server.process.poll() is not None:
        raise RuntimeError(f"the proxy exited:\n{server.output()}")
    try:
        return server.get("/configuration", timeout=2.0).status == 200
    except OSError:
        return False


def _holds(condition: Callable[[], bool]) -> bool:
    """The condition's answer; a connection reset while workers restart means not yet."""
    try:
        return condition()
    except ConnectionError:
        return False


def wait_until(condition: Callable[[], bool], seconds: float, what: str) -> float:
    """Poll ``condition`` until it holds; the seconds it took. Raises after ``seconds``."""
    started = time.monotonic()
    while not _holds(condition):
        if time.monotonic() - started > seconds:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
    return time.monotonic() - started
