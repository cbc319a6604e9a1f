"""Host spec helpers: a config from TOML text, engines on SQLite and on a real Redis
server started on a free loopback port, a sink that records what it is sent."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from host.config import HostConfig, parse_config
from host.engine import Engine, build_engine
from services.core.registry import Registry
from services.webhooks import Webhooks
from spec.host import sample_services

REQUIRE_VARIABLE = "AHA_SERVICES_REQUIRE_SYSTEM_SPECS"
ROOT = Path(__file__).resolve().parents[2]
SECRET = "intake-secret-0123456789"
AHA_TOKEN = "aha-host-token-7f3a9c"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def registry() -> Registry:
    found = Registry()
    for service in (Webhooks, *sample_services.SERVICES):
        found.add(service, "spec")
    return found


def host_config(integrations: dict[str, dict[str, Any]], **aha: str) -> HostConfig:
    tables = {
        name: {"secret": SECRET, "integration_id": "4242", **table}
        for name, table in integrations.items()
    }
    document = {"aha": {"domain": "acme", "token": AHA_TOKEN, **aha}, "integrations": tables}
    return parse_config(document, registry(), environ={})


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server on a free loopback port, for the whole session."""
    binary = shutil.which("redis-server")
    if binary is None:
        reason = "redis-server not installed; .ci/run installs it"
        if os.environ.get(REQUIRE_VARIABLE):
            pytest.fail(reason)
        pytest.skip(reason)
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("redis-server did not start")
                time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def redis_engine(redis_url: str) -> Engine:
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    return build_engine({"AHA_SERVICES_QUEUE": redis_url})


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Engine:
    return build_engine({"AHA_SERVICES_DATA": str(tmp_path / "data")})


@pytest.fixture(params=["sqlite", "redis"])
def engine(request: pytest.FixtureRequest) -> Engine:
    return request.getfixturevalue(f"{request.param}_engine")


class Sink:
    """A loopback HTTP server that records each POST's JSON body; ``delay`` slows it."""

    def __init__(self, delay: float = 0.0):
        self.bodies: list[bytes] = []
        self.delay = delay
        self.started = 0
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                sink.started += 1
                if sink.delay:
                    time.sleep(sink.delay)
                sink.bodies.append(body)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sink() -> Iterator[Sink]:
    server = Sink()
    yield server
    server.close()


def wait_for(condition: Any, timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


class WorkerProcess:
    """``aha-services worker`` in its own process, as an operator runs it."""

    def __init__(self, environ: dict[str, str], log: Path, threads: int = 2):
        self.log = log
        with log.open("ab") as output:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "from services.core.cli import run; run()",
                    "worker",
                    "--threads",
                    str(threads),
                ],
                env=environ,
                cwd=ROOT,
                stdout=output,
                stderr=output,
            )

    def wait_ready(self) -> None:
        """Until the worker has recovered what it must and listens to the queue."""
        marker = f"/{self.process.pid}/".encode()
        wait_for(lambda: marker in self.log.read_bytes(), what="the worker to start")

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
