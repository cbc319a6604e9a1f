"""Delivery on both engines: order, meta_data, retries, failures, leases, recovery."""

import json
import time

import pytest
import responses

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
    job = add(engine, 1, integration="slow")
    started = time.monotonic()
    dispatcher(engine).drain("slow")
    stored = engine.store.get(job.id)
    assert time.monotonic() - started < 2.9
    assert [a.outcome for a in stored.attempts] == [RETRYING, FAILED]
    assert "time limit of 1 s" in stored.attempts[0].error


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
