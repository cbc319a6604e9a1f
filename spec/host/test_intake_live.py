"""The intake under gunicorn, as ``aha-services host`` runs it: its workers' new jobs are
added by the arbiter, also for a worker that gunicorn starts again after one died."""

from __future__ import annotations

import os
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from host.sqlite_state import SqliteStateStore
from spec.host.conftest import SECRET
from spec.proxy.live_server import BIN, ROOT, LiveServer, free_port, start, wait_until


def _intake(root: Path) -> LiveServer:
    (root / "integrations.toml").write_text(
        '[aha]\ndomain = "acme"\ntoken = "live-aha-token-2718"\n'
        f'[integrations.hooks]\nservice = "webhooks"\nsecret = "{SECRET}"\n'
        'settings = { hook_url = "https://h.example.com/x" }\n'
    )
    return start(
        [str(BIN / "gunicorn"), "--config", "python:host.gunicorn_conf", "host.wsgi:app"],
        root,
        free_port(),
        ROOT,
        WEB_CONCURRENCY="2",
        HOST_THREADS="4",
        AHA_SERVICES_CONFIG=str(root / "integrations.toml"),
        AHA_SERVICES_DATA=str(root / "data"),
    )


def _workers(server: LiveServer) -> set[int]:
    pid = server.process.pid
    return {int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}


def _holds_open(pid: int, path: str) -> bool:
    folder = Path(f"/proc/{pid}/fd")
    return any(os.readlink(folder / fd) == path for fd in os.listdir(folder))


def _post_all(server: LiveServer, count: int) -> list[str]:
    def post(n: int) -> str:
        answer = server.post(f"/aha/hooks?token={SECRET}", {"event": "audit", "n": n})
        assert answer.status == 202, answer.body
        return answer.json()["job"]  # type: ignore[index]

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(post, range(count)))


def _up(server: LiveServer) -> bool:
    if server.process.poll() is not None:
        raise AssertionError(f"the intake exited:\n{server.output()}")
    try:
        return server.get("/healthz", timeout=2.0).status == 200 and len(_workers(server)) == 2
    except OSError:
        return False


def test_the_arbiter_adds_every_workers_jobs_also_after_a_worker_is_replaced(tmp_path):
    server = _intake(tmp_path)
    try:
        wait_until(lambda: _up(server), 30, "the intake")
        ids = _post_all(server, 40)
        wal = str(tmp_path / "data" / "state.sqlite3-wal")
        assert _holds_open(server.process.pid, wal)  # the relay flushed the log

        killed = min(_workers(server))
        os.kill(killed, signal.SIGKILL)
        wait_until(lambda: killed not in _workers(server) and _up(server), 30, "a new worker")
        ids += _post_all(server, 40)
    finally:
        server.stop()
    assert "Traceback" not in server.output()
    store = SqliteStateStore(tmp_path / "data" / "state.sqlite3")
    stored = store.jobs(limit=1000)
    assert sorted(job.id for job in stored) == sorted(ids)
    assert len({job.seq for job in stored}) == 80
