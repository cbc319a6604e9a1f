import os
import threading
import time

import pytest

from services.core import timing
from services.core.errors import TimeLimitExceeded
from services.core.timing import run_with_time_limit, thread_resource


class _Closable:
    def __init__(self):
        self.closed = threading.Event()

    def close(self):
        self.closed.set()


def test_events_one_after_another_run_on_one_kept_thread():
    first = run_with_time_limit(threading.current_thread, 5, "Slack :one")
    second = run_with_time_limit(threading.current_thread, 5, "Slack :two")
    assert first is second is not threading.current_thread()


def test_the_thread_is_named_after_the_event_it_runs():
    assert run_with_time_limit(lambda: threading.current_thread().name, 5, "Jira :x") == (
        "event:Jira :x"
    )


def test_an_error_and_a_value_come_back_to_the_caller():
    assert run_with_time_limit(lambda: 42, 5, "x") == 42
    with pytest.raises(KeyError, match="lost"):
        run_with_time_limit(lambda: {}["lost"], 5, "x")


def test_a_thread_past_its_time_limit_is_not_given_the_next_event():
    release = threading.Event()

    def hang():
        release.wait(5)

    with pytest.raises(TimeLimitExceeded, match="Slow :x did not finish within .* 0.05 s"):
        run_with_time_limit(hang, 0.05, "Slow :x")
    hung = next(t for t in threading.enumerate() if t.name == "event:Slow :x")
    try:
        assert run_with_time_limit(threading.current_thread, 5, "next") is not hung
    finally:
        release.set()


def test_a_kept_resource_is_reused_on_the_thread_and_closed_when_it_ends(monkeypatch):
    monkeypatch.setattr(timing, "IDLE_SECONDS", 0.2)
    built = []

    def build():
        built.append(_Closable())
        return built[-1]

    def probe():
        return threading.current_thread(), thread_resource("pool", build)

    # Threads that other specs left running may rest in the pool in between: a resource
    # is kept per thread, built once on each.
    (thread_a, first), (thread_b, second) = (run_with_time_limit(probe, 5, n) for n in "ab")
    assert (first is second) == (thread_a is thread_b)
    assert len(built) == len({thread_a, thread_b})
    assert first.closed.wait(5), "an idle thread ends and closes what it kept"
    _, third = run_with_time_limit(probe, 5, "c")
    assert third is not first and third in built


def test_no_resource_is_kept_outside_a_helper_thread():
    assert thread_resource("pool", _Closable) is None


def test_a_thread_beyond_the_idle_limit_ends_with_its_resources(monkeypatch):
    monkeypatch.setattr(timing, "MAX_IDLE", 0)
    kept = run_with_time_limit(lambda: thread_resource("pool", _Closable), 5, "a")
    assert kept.closed.wait(5)


def test_a_forked_child_starts_its_own_threads():
    run_with_time_limit(lambda: None, 5, "warm")
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        try:
            value = run_with_time_limit(lambda: b"ran", 2, "child")
        except BaseException:
            value = b"failed"
        os.write(writer, value)
        os._exit(0)
    os.close(writer)
    started = time.monotonic()
    assert os.read(reader, 16) == b"ran"
    os.waitpid(pid, 0)
    assert time.monotonic() - started < 2
