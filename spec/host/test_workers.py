"""Real worker processes: killed mid-event, restarted, and two sharing one Redis."""

import json
import os
import signal
import time

from host.engine import build_engine
from host.intake import create_app
from spec.host.conftest import ROOT, SECRET, Sink, WorkerProcess, host_config, wait_for

INTEGRATIONS = ("alpha", "beta", "gamma", "delta")


def environment(tmp_path, sink, queue=None):
    config = tmp_path / "integrations.toml"
    tables = "".join(
        f'[integrations.{name}]\nservice = "webhooks"\nsecret = "{SECRET}"\n'
        f'settings = {{ hook_url = "{sink.url}" }}\nbackoff = 0.1\n'
        for name in INTEGRATIONS
    )
    config.write_text(f'[aha]\ndomain = "acme"\ntoken = "aha-token-value-1"\n{tables}')
    environ = {
        # What the test run itself set, such as coverage's measuring of subprocesses.
        **{name: value for name, value in os.environ.items() if name.startswith("COVERAGE_")},
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "AHA_SERVICES_CONFIG": str(config),
        "AHA_SERVICES_DATA": str(tmp_path / "data"),
        "AHA_SERVICES_ALLOWED_HOSTS": "127.0.0.1",
        "AHA_SERVICES_SWEEP_SECONDS": "0.5",
        "AHA_SERVICES_LEASE_SECONDS": "5",
        "AHA_SERVICES_STOP_SECONDS": "10",
    }
    if queue:
        environ["AHA_SERVICES_QUEUE"] = queue
    return environ


def intake(environ):
    config = host_config({name: {"service": "webhooks"} for name in INTEGRATIONS})
    engine = build_engine(environ)
    return engine, create_app(config, engine).test_client()


def send(client, integration, n):
    answer = client.post(
        f"/aha/{integration}?token={SECRET}", json={"event": "create_feature", "feature": {"n": n}}
    )
    assert answer.status_code == 202
    return answer.json["job"]


def test_a_worker_killed_mid_event_leaves_the_job_to_the_next_worker(tmp_path):
    sink = Sink(delay=30)
    environ = environment(tmp_path, sink)
    engine, client = intake(environ)
    worker = WorkerProcess(environ, tmp_path / "worker.log")
    try:
        job_id = send(client, "alpha", 1)
        wait_for(lambda: engine.store.get(job_id).state == "running", what="the event to start")
        wait_for(lambda: sink.started > 0, what="the post")
        os.kill(worker.process.pid, signal.SIGKILL)
        worker.kill()
        assert engine.store.get(job_id).state == "running"
        sink.delay = 0
        started = time.monotonic()
        worker = WorkerProcess(environ, tmp_path / "worker.log")
        wait_for(lambda: engine.store.get(job_id).state == "delivered", what="the delivery")
        assert time.monotonic() - started < 10  # at once, not on the retry schedule
        job = engine.store.get(job_id)
        assert [a.outcome for a in job.attempts] == ["interrupted", "delivered"]
        assert json.loads(sink.bodies[-1]) == {"event": "create_feature", "feature": {"n": 1}}
    finally:
        worker.stop()
        sink.close()


def test_sigterm_lets_the_running_event_finish_so_it_does_not_run_twice(tmp_path):
    sink = Sink(delay=1.5)
    environ = environment(tmp_path, sink)
    engine, client = intake(environ)
    worker = WorkerProcess(environ, tmp_path / "worker.log")
    try:
        job_id = send(client, "alpha", 1)
        wait_for(lambda: sink.started == 1, what="the post")
        worker.process.send_signal(signal.SIGTERM)
        assert worker.process.wait(timeout=10) == 0
        assert engine.store.get(job_id).state == "delivered"
        assert len(sink.bodies) == 1
        # The next worker finds nothing to run again.
        worker = WorkerProcess(environ, tmp_path / "worker.log")
        worker.wait_ready()
        time.sleep(1)  # two sweeps
        assert sink.started == 1
        assert [a.outcome for a in engine.store.get(job_id).attempts] == ["delivered"]
    finally:
        worker.stop()
        sink.close()


def test_a_stop_waits_no_longer_than_its_bound_or_a_second_signal(tmp_path):
    sink = Sink(delay=30)
    environ = {**environment(tmp_path, sink), "AHA_SERVICES_STOP_SECONDS": "0.5"}
    engine, client = intake(environ)
    workers = []
    try:
        for name, signals in (("alpha", 1), ("beta", 2)):
            if signals == 2:
                environ["AHA_SERVICES_STOP_SECONDS"] = "60"
            worker = WorkerProcess(environ, tmp_path / f"{name}.log")
            workers.append(worker)
            job_id = send(client, name, 1)
            wait_for(lambda j=job_id: engine.store.get(j).state == "running", what="the event")
            started = time.monotonic()
            for _ in range(signals):
                worker.process.send_signal(signal.SIGTERM)
                time.sleep(0.2)
            worker.process.wait(timeout=10)
            assert time.monotonic() - started < 5
            # Cut short: the job stays running, for the next worker to run again.
            assert engine.store.get(job_id).state == "running"
            assert b"run again when a worker starts" in worker.log.read_bytes()
    finally:
        for worker in workers:
            worker.stop()
        sink.close()


def test_two_workers_on_one_redis_share_jobs_and_keep_each_integrations_order(
    tmp_path, redis_engine, redis_url
):
    sink = Sink(delay=0.1)
    environ = environment(tmp_path, sink, queue=redis_url)
    engine, client = intake(environ)
    workers = [WorkerProcess(environ, tmp_path / f"worker{n}.log") for n in (1, 2)]
    try:
        for worker in workers:
            worker.wait_ready()
        ids = [send(client, name, n) for n in range(5) for name in INTEGRATIONS]
        wait_for(lambda: len(sink.bodies) >= len(ids), timeout=20, what="every delivery")
        received = [json.loads(body)["feature"]["n"] for body in sink.bodies]
        assert sorted(received) == sorted(n for n in range(5) for _ in INTEGRATIONS)
        # The sink notes a body before it answers: the last outcomes are stored just after.
        wait_for(
            lambda: {engine.store.get(i).state for i in ids} == {"delivered"},
            what="every outcome",
        )
        jobs = [engine.store.get(i) for i in ids]
        for name in INTEGRATIONS:
            mine = sorted((j for j in jobs if j.integration == name), key=lambda j: j.seq)
            started = [j.attempts[0].started_at for j in mine]
            assert started == sorted(started)
            finished = [j.attempts[0].started_at + j.attempts[0].duration for j in mine]
            assert all(a <= b for a, b in zip(finished, started[1:], strict=False))
        pids = {job.attempts[0].worker.split("/")[1] for job in jobs}
        assert pids == {str(w.process.pid) for w in workers}
    finally:
        for worker in workers:
            worker.stop()
        sink.close()


def test_a_worker_prints_a_service_failure_once(tmp_path):
    sink = Sink()
    environ = environment(tmp_path, sink)
    sink.close()  # nothing listens there any more: each event fails
    engine, client = intake(environ)
    worker = WorkerProcess(environ, tmp_path / "worker.log")
    try:
        job_id = send(client, "alpha", 1)
        wait_for(lambda: engine.store.get(job_id).state != "queued", what="the attempt")
        wait_for(lambda: b"webhooks :create_feature failed" in worker.log.read_bytes())
    finally:
        worker.stop()
    lines = worker.log.read_text().splitlines()
    assert len([line for line in lines if "webhooks :create_feature failed" in line]) == 1
