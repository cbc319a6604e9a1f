"""Delivery on both engines: order, meta_data, retries, failures, leases, recovery."""

import json
import os
import socket
import subprocess
import sys
import time

import pytest
import responses

from host import dispatch
from host.delivery import run_event
from host.dispatch import Dispatcher
from host.jobs import DELIVERED, FAILED, RETRYING, RUNNING, Attempt, Job
from spec.host import sample_services
from spec.host.conftest import host_config

URL = "https://sink.example.com/n"


@pytest.fixture(autouse=True)
def no_calls():
    sample_services.calls.clear()


def config(**table):
    return host_config(
        {
            "count": {"service": "counter", "settings": {"url": URL}, "backoff": 0, **table},
            "bad": {"service": "misconfigured"},
            "slow": {"service": "hangs", "settings": {"timeout": 1}, "backoff": 0, "attempts": 2},
        }
    )


class Recorder:
    def __init__(self):
        self.queued = []

    def __call__(self, integration, eta=None):
        self.queued.append((integration, eta))


def dispatcher(engine, recorder=None, **table):
    return Dispatcher(config(**table), engine.store, recorder or Recorder(), lease_ttl=5)


def add(engine, n, integration="count", event="create_feature"):
    job = Job(integration=integration, event=event, payload={"n": n})
    engine.store.add_job(job)
    return job


def test_jobs_run_in_arrival_order_and_meta_data_carries_over(engine, mocked_http):
    mocked_http.add(responses.POST, URL, status=200)
    jobs = [add(engine, n) for n in range(5)]
    assert dispatcher(engine).drain("count") == 5
    assert [json.loads(c.request.body)["n"] for c in mocked_http.calls] == [0, 1, 2, 3, 4]
    assert engine.store.meta_data("count") == {"count": 5}
    for job in jobs:
        stored = engine.store.get(job.id)
        assert stored.state == DELIVERED
        assert stored.attempts[0].outcome == DELIVERED
    assert engine.store.state_counts() == {DELIVERED: 5}


def test_a_third_party_down_then_back_is_delivered_after_retries(engine, mocked_http):
    mocked_http.add(responses.POST, URL, status=503)
    mocked_http.add(responses.POST, URL, status=503)
    mocked_http.add(responses.POST, URL, status=200)
    job = add(engine, 7)
    dispatcher(engine).drain("count")
    stored = engine.store.get(job.id)
    assert stored.state == DELIVERED
    assert [a.outcome for a in stored.attempts] == [RETRYING, RETRYING, DELIVERED]
    assert "RemoteError: answered 503" in stored.attempts[0].error
    assert len(mocked_http.calls) == 3
    # The whole meta_data the service returned replaces the kept one, also when it raised.
    assert engine.store.meta_data("count") == {"count": 3}


def test_a_third_party_that_refuses_connections_is_retried_not_failed(engine, mocked_http):
    """The HTTP client names an unreachable host a ConfigurationError (so Aha! shows it
    as the user's URL); under it lies the socket's error, which may pass."""
    import requests

    refused = requests.exceptions.ConnectionError(ConnectionRefusedError(111, "refused"))
    mocked_http.add(responses.POST, URL, body=refused)
    mocked_http.add(responses.POST, URL, status=200)
    job = add(engine, 8)
    dispatcher(engine).drain("count")
    stored = engine.store.get(job.id)
    assert [a.outcome for a in stored.attempts] == [RETRYING, DELIVERED]
    assert "Could not connect to sink.example.com" in stored.attempts[0].error
    assert [c.request.url for c in mocked_http.calls] == [URL, URL]


def test_a_retry_waits_for_its_time_and_holds_back_later_jobs(engine, mocked_http):
    mocked_http.add(responses.POST, URL, status=500)
    first, second = add(engine, 1), add(engine, 2)
    recorder = Recorder()
    before = time.time()
    dispatcher(engine, recorder, backoff=100).drain("count")
    stored = engine.store.get(first.id)
    assert stored.state == RETRYING
    assert before + 75 <= stored.next_attempt_at <= time.time() + 125
    assert engine.store.get(second.id).state == "queued"
    assert recorder.queued == [("count", stored.next_attempt_at)]
    assert len(mocked_http.calls) == 1


def test_out_of_attempts_a_job_is_failed_and_kept(engine, mocked_http):
    mocked_http.add(responses.POST, URL, status=502)
    job = add(engine, 1)
    dispatcher(engine, attempts=3).drain("count")
    stored = engine.store.get(job.id)
    assert stored.state == FAILED
    assert [a.outcome for a in stored.attempts] == [RETRYING, RETRYING, FAILED]
    assert engine.store.jobs(state=FAILED)[0].id == job.id


def test_a_configuration_error_fails_at_once(engine, mocked_http):
    job = add(engine, 1, integration="bad")
    dispatcher(engine).drain("bad")
    stored = engine.store.get(job.id)
    assert stored.state == FAILED
    assert len(stored.attempts) == 1
    assert stored.attempts[0].error == "ConfigurationError: Set the project"
    assert engine.store.meta_data("bad") == {"seen": True}


def test_a_rate_limit_is_waited_out_within_the_attempt(engine, mocked_http, slept):
    mocked_http.add(responses.POST, URL, status=429, headers={"Retry-After": "3"})
    mocked_http.add(responses.POST, URL, status=200)
    job = add(engine, 1)
    dispatcher(engine).drain("count")
    stored = engine.store.get(job.id)
    assert stored.state == DELIVERED
    assert len(stored.attempts) == 1
    assert slept == [3.0]


def test_a_service_that_hangs_past_its_time_limit_is_retried(engine):
    sample_services.released.clear()
    job = add(engine, 1, integration="slow")
    started = time.monotonic()
    dispatcher(engine).drain("slow")
    stored = engine.store.get(job.id)
    assert time.monotonic() - started < 2.9
    assert [a.outcome for a in stored.attempts] == [RETRYING, FAILED]
    assert "time limit of 1 s" in stored.attempts[0].error


def test_after_an_overrun_the_next_jobs_run_and_the_late_end_changes_nothing(engine):
    sample_services.released.clear()
    hung = add(engine, 1, integration="slow")
    quick = Job(integration="slow", event="create_feature", payload={"n": 2, "quick": True})
    engine.store.add_job(quick)
    try:
        assert dispatcher(engine).drain("slow") == 3
    finally:
        sample_services.released.set()
    stored = engine.store.get(hung.id)
    assert [a.outcome for a in stored.attempts] == [RETRYING, FAILED]
    for attempt in stored.attempts:
        assert attempt.error.endswith(
            ": Hangs :create_feature did not finish within its time limit of 1 s"
        )
        assert "Waiting on the tracker for 1" in [m["message"] for m in attempt.messages]
        assert 1 <= attempt.duration < 2
    assert engine.store.get(quick.id).state == DELIVERED
    # The overrun events' meta_data was not kept: each attempt, and the next job, saw none.
    seen = [seen for name, (n, seen) in _calls("hangs")]
    assert seen == [{}, {}, {}]
    deadline = time.monotonic() + 5
    while len(_calls("hangs returned")) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)  # the abandoned events end: nothing of theirs is stored
    assert [a.outcome for a in engine.store.get(hung.id).attempts] == [RETRYING, FAILED]
    assert engine.store.meta_data("slow") == {"seen": 2}


def _calls(name):
    return [call for call in sample_services.calls if call[0] == name]


def test_an_integration_leased_by_another_worker_is_left_alone(engine, mocked_http):
    add(engine, 1)
    assert engine.store.acquire("count", "elsewhere/1/x", 30)
    assert dispatcher(engine).drain("count") == 0
    assert len(mocked_http.calls) == 0


def test_a_job_left_running_by_a_dead_worker_here_runs_again_at_start(engine, mocked_http):
    mocked_http.add(responses.POST, URL, status=200)
    job = add(engine, 1)
    job.state = RUNNING
    job.attempts.append(Attempt(started_at=time.time(), outcome=RUNNING))
    engine.store.save(job)
    import socket

    dead = f"{socket.gethostname()}/999999/deadbeef"
    assert engine.store.acquire("count", dead, 60)
    recorder = Recorder()
    worker = dispatcher(engine, recorder)
    assert worker.recover() == ["count"]
    assert recorder.queued == [("count", None)]
    assert worker.drain("count") == 1
    stored = engine.store.get(job.id)
    assert [a.outcome for a in stored.attempts] == ["interrupted", DELIVERED]
    assert stored.tries == 1


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc")
def test_a_worker_killed_but_not_yet_reaped_is_gone():
    """A killed worker stays a zombie until its parent (a container's first process, a
    supervisor) reaps it: its number still answers ``kill 0``, yet it runs no more."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        owner = f"{socket.gethostname()}/{child.pid}/deadbeef/abc123"
        assert not dispatch.owner_is_gone(owner, "me")
        child.kill()
        deadline = time.monotonic() + 5
        while not _zombie(child.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert dispatch.owner_is_gone(owner, "me")
    finally:
        child.kill()
        child.wait()


def _zombie(pid):
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rpartition(")")[2].split()[0] == "Z"


def test_a_job_that_keeps_killing_its_worker_is_failed(engine):
    job = add(engine, 1)
    job.state = RUNNING
    job.attempts = [
        Attempt(started_at=time.time(), outcome=o) for o in ("interrupted", "interrupted", RUNNING)
    ]
    engine.store.save(job)
    dispatcher(engine).drain("count")
    assert engine.store.get(job.id).state == FAILED


def test_the_sweep_queues_only_due_integrations_nobody_holds(engine):
    add(engine, 1)
    waiting = add(engine, 2, integration="slow")
    waiting.state, waiting.next_attempt_at = RETRYING, time.time() + 600
    engine.store.save(waiting)
    recorder = Recorder()
    assert dispatcher(engine, recorder).sweep() == ["count"]
    engine.store.acquire("count", "elsewhere/1/x", 30)
    assert dispatcher(engine, recorder).sweep() == []


def test_an_integration_no_longer_configured_fails_its_jobs(engine):
    job = add(engine, 1, integration="gone")
    dispatcher(engine).drain("gone")
    stored = engine.store.get(job.id)
    assert stored.state == FAILED
    assert "no longer configured" in stored.attempts[-1].error


def test_purge_keeps_open_jobs(engine, mocked_http):
    mocked_http.add(responses.POST, URL, status=200)
    done = add(engine, 1)
    dispatcher(engine).drain("count")
    waiting = add(engine, 2)
    assert engine.store.purge(time.time() + 1) == 1
    assert engine.store.get(done.id) is None
    assert engine.store.get(waiting.id) is not None


# --- one write per job: each outcome stored with the next job's start ------------------


def test_a_drain_writes_once_per_job_and_reads_meta_data_once(
    sqlite_engine, mocked_http, monkeypatch
):
    mocked_http.add(responses.POST, URL, status=200)
    store = sqlite_engine.store
    jobs = [add(sqlite_engine, n) for n in range(5)]
    reads = []
    read_meta_data = store.meta_data
    monkeypatch.setattr(store, "meta_data", lambda name: reads.append(name) or read_meta_data(name))
    statements: list[str] = []
    store._writing_connection().set_trace_callback(statements.append)
    assert Dispatcher(config(), store, Recorder(), lease_ttl=60).drain("count") == 5
    # The lease taken, the first job started, five outcomes (four with the next start),
    # the lease given back.
    assert statements.count("BEGIN IMMEDIATE") == 8
    assert reads == ["count"]
    assert [store.get(job.id).state for job in jobs] == [DELIVERED] * 5
    assert store.leases() == {}


def test_each_job_is_running_in_the_store_before_its_event_starts(engine, mocked_http):
    jobs = [add(engine, n) for n in range(3)]
    seen = []

    def look(request):
        job = jobs[json.loads(request.body)["n"]]
        seen.append(engine.store.get(job.id).state)
        return 200, {}, ""

    mocked_http.add_callback(responses.POST, URL, callback=look)
    dispatcher(engine).drain("count")
    assert seen == [RUNNING] * 3


def test_a_job_started_with_the_last_outcome_runs_again_if_its_worker_dies(
    engine, mocked_http, monkeypatch
):
    mocked_http.add(responses.POST, URL, status=200)
    jobs = [add(engine, n) for n in range(3)]

    class Killed(BaseException):
        """The worker's death, in the middle of the second event."""

    def dies_at_the_second(config, integration, job, meta_data, logger):
        if job.payload["n"] == 1:
            raise Killed
        return run_event(config, integration, job, meta_data, logger)

    monkeypatch.setattr(dispatch, "run_event", dies_at_the_second)
    with pytest.raises(Killed):
        dispatcher(engine).drain("count")
    assert engine.store.get(jobs[1].id).state == RUNNING
    monkeypatch.setattr(dispatch, "run_event", run_event)
    assert dispatcher(engine).drain("count") == 2
    outcomes = [[a.outcome for a in engine.store.get(job.id).attempts] for job in jobs]
    assert outcomes == [[DELIVERED], ["interrupted", DELIVERED], [DELIVERED]]
    assert [json.loads(c.request.body)["n"] for c in mocked_http.calls] == [0, 1, 2]


def test_a_worker_told_to_stop_during_an_event_starts_no_next_job(engine, mocked_http):
    first, second = add(engine, 1), add(engine, 2)
    recorder = Recorder()
    worker = dispatcher(engine, recorder)

    def stop_meanwhile(request):
        worker.stopping.set()
        return 200, {}, ""

    mocked_http.add_callback(responses.POST, URL, callback=stop_meanwhile)
    assert worker.drain("count") == 1
    assert engine.store.get(first.id).state == DELIVERED
    left = engine.store.get(second.id)
    assert (left.state, left.attempts) == ("queued", [])
    assert engine.store.leases() == {}
    assert recorder.queued == [("count", None)]  # looked at again, by the next worker
    assert dispatcher(engine).drain("count") == 1
    assert [a.outcome for a in engine.store.get(second.id).attempts] == [DELIVERED]


def test_a_job_started_just_as_the_worker_is_told_to_stop_is_put_back(
    engine, mocked_http, monkeypatch
):
    """The stop comes between the write that starts the next job and its event: the
    job is as it was, not a job whose worker died."""
    mocked_http.add(responses.POST, URL, status=503)
    mocked_http.add(responses.POST, URL, status=200)
    retried, queued = add(engine, 1), add(engine, 2)
    worker = dispatcher(engine)
    finish_and_start_next = engine.store.finish_and_start_next

    def then_stop(*args):
        started = finish_and_start_next(*args)
        worker.stopping.set()
        return started

    monkeypatch.setattr(engine.store, "finish_and_start_next", then_stop)
    assert worker.drain("count") == 1
    left = engine.store.get(retried.id)  # its retry (no backoff) was due at once
    assert left.state == RETRYING
    assert [a.outcome for a in left.attempts] == [RETRYING]
    assert engine.store.leases() == {}
    monkeypatch.setattr(engine.store, "finish_and_start_next", finish_and_start_next)
    assert dispatcher(engine).drain("count") == 2
    assert [a.outcome for a in engine.store.get(retried.id).attempts] == [RETRYING, DELIVERED]
    assert [a.outcome for a in engine.store.get(queued.id).attempts] == [DELIVERED]


def test_an_outcome_is_stored_with_the_start_of_the_next_ready_job(engine):
    store = engine.store
    first, second = add(engine, 1), add(engine, 2)
    first.start("w/1", time.time())
    store.save(first)
    first.state = DELIVERED
    before = time.time()
    started = store.finish_and_start_next(first, {"count": 1}, 0.1, "w/1")
    assert started is not None and (started.job.id, started.was) == (second.id, "queued")
    stored = store.get(second.id)
    assert stored.state == RUNNING and stored.attempts == started.job.attempts
    [attempt] = stored.attempts
    assert (attempt.outcome, attempt.worker) == (RUNNING, "w/1")
    assert before <= attempt.started_at <= time.time()
    assert store.get(first.id).state == DELIVERED
    assert store.meta_data("count") == {"count": 1}
    assert store.counters()["latency_count"] == 1


def test_the_next_job_is_started_only_when_it_is_due_and_not_running(engine):
    store = engine.store
    done, later = add(engine, 1), add(engine, 2)
    for job in (done, later):
        job.start("w", time.time())
        store.save(job)
    done.state = DELIVERED
    assert store.finish_and_start_next(done, {}, 0.1, "w") is None  # left running
    later.state, later.next_attempt_at = RETRYING, time.time() + 600
    store.save(later)
    assert store.finish_and_start_next(later, {}, 0.1, "w") is None  # its retry waits
    assert store.get(later.id).state == RETRYING
    later.state = DELIVERED
    assert store.finish_and_start_next(later, {}, 0.1, "w") is None  # nothing open
    assert store.counters()["latency_count"] == 3


def test_each_attempt_keeps_its_start_duration_outcome_messages_and_worker(engine, mocked_http):
    mocked_http.add(responses.POST, URL, status=500)
    mocked_http.add(responses.POST, URL, status=200)
    jobs = [add(engine, n) for n in range(3)]
    worker = dispatcher(engine)
    before = time.time()
    worker.drain("count")
    attempts = [a for job in jobs for a in engine.store.get(job.id).attempts]
    assert [a.outcome for a in attempts] == [RETRYING, DELIVERED, DELIVERED, DELIVERED]
    starts = [a.started_at for a in attempts]
    assert before <= starts[0] and starts == sorted(starts) and starts[-1] <= time.time()
    assert all(a.duration > 0 for a in attempts)
    assert all(a.worker.startswith(worker.owner + "/") for a in attempts)
    assert len({a.worker for a in attempts}) == 1  # one drain, one lease holder
    assert "answered 500" in attempts[0].error and not attempts[1].error
    assert all(a.messages for a in attempts)
    assert engine.store.counters()["latency_count"] == 4


def test_a_service_sees_its_own_meta_data_on_the_next_job_of_the_drain(engine, mocked_http):
    first = add(engine, 0)
    engine.store.finish_attempt(first, {"count": 10}, 0.1)  # kept from earlier events
    jobs = [add(engine, n) for n in range(1, 4)]
    stored = []

    def look(request):
        stored.append(engine.store.meta_data("count"))
        return 200, {}, ""

    mocked_http.add_callback(responses.POST, URL, callback=look)
    assert dispatcher(engine).drain("count") == 4
    counts = [json.loads(c.request.body)["count"] for c in mocked_http.calls]
    assert counts == [11, 12, 13, 14]
    # When each event ran, the store held what the one before it returned.
    assert stored == [{"count": 10}, {"count": 11}, {"count": 12}, {"count": 13}]
    assert engine.store.meta_data("count") == {"count": 14}
    assert all(engine.store.get(job.id).state == DELIVERED for job in jobs)
