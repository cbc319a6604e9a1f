import contextvars
import os
import threading
import time

import pytest

from services.core import timing
from services.core.errors import TimeLimitExceeded
from services.core.timing import run_watched, run_with_time_limit, thread_resource


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


# --- a watched sequence: events one after another on one helper thread ------------------


def test_a_watched_sequence_runs_its_events_inline_on_one_helper_thread():
    def event():
        return threading.current_thread()

    def sequence():
        return threading.current_thread(), [
            run_with_time_limit(event, 5, f"e{n}") for n in range(3)
        ]

    runner, ran_on = run_watched(sequence)
    assert runner is not threading.current_thread()
    assert ran_on == [runner] * 3
    assert runner.name == "event:e2"


def test_a_watched_sequence_gives_back_its_value_or_its_error():
    assert run_watched(lambda: run_with_time_limit(lambda: 7, 5, "x") * 6) == 42
    with pytest.raises(KeyError, match="lost"):
        run_watched(lambda: run_with_time_limit(lambda: {}["lost"], 5, "x"))


def test_an_event_that_overruns_gives_up_its_sequence_and_its_late_end_is_dropped():
    release, after = threading.Event(), []

    def sequence():
        run_with_time_limit(lambda: None, 5, "Quick :one")
        try:
            run_with_time_limit(lambda: release.wait(5), 0.2, "Slow :two")
        finally:
            after.append("the event returned")
        after.append("the sequence went on")

    started = time.monotonic()
    with pytest.raises(TimeLimitExceeded, match="Slow :two did not finish within .* 0.2 s"):
        run_watched(sequence)
    assert 0.2 <= time.monotonic() - started < 2
    release.set()
    deadline = time.monotonic() + 5
    while not after and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)
    assert after == ["the event returned"]


def test_a_later_event_with_a_shorter_limit_is_watched_to_its_own():
    release = threading.Event()

    def sequence():
        run_with_time_limit(lambda: None, 60, "Patient :one")
        run_with_time_limit(lambda: release.wait(5), 0.2, "Hasty :two")

    started = time.monotonic()
    try:
        with pytest.raises(TimeLimitExceeded, match="Hasty :two"):
            run_watched(sequence)
        assert time.monotonic() - started < 2
    finally:
        release.set()


def test_an_event_inside_a_watched_event_runs_on_a_thread_of_its_own_with_its_own_limit():
    release = threading.Event()

    def outer():
        inner = run_with_time_limit(threading.current_thread, 5, "inner")
        with pytest.raises(TimeLimitExceeded, match="stuck"):
            run_with_time_limit(lambda: release.wait(5), 0.1, "stuck")
        return threading.current_thread(), inner

    try:
        runner, inner = run_watched(lambda: run_with_time_limit(outer, 5, "outer"))
    finally:
        release.set()
    assert inner is not runner


def test_a_watched_helper_thread_given_up_is_not_given_the_next_sequence():
    release = threading.Event()
    with pytest.raises(TimeLimitExceeded):
        run_watched(lambda: run_with_time_limit(lambda: release.wait(5), 0.1, "Stuck :x"))
    hung = next(t for t in threading.enumerate() if t.name == "event:Stuck :x")
    try:
        assert run_watched(threading.current_thread) is not hung
    finally:
        release.set()


def test_each_watched_event_runs_in_a_context_of_its_own_as_a_lone_event_does():
    """What one event sets in a context variable is not what the next event of the
    sequence finds."""
    seen = []

    def narrows():
        _setting.set("set by the first event")

    def looks():
        seen.append(_setting.get())

    def sequence():
        run_with_time_limit(narrows, 5, "first")
        run_with_time_limit(looks, 5, "second")

    run_watched(sequence)
    run_with_time_limit(narrows, 5, "alone")
    run_with_time_limit(looks, 5, "alone")
    assert seen == ["unset"] * 2


_setting: contextvars.ContextVar[str] = contextvars.ContextVar("setting", default="unset")


def test_a_thread_that_carries_a_watched_events_context_keeps_its_own_limits():
    """A thread an event starts with the event's context (``copy_context().run``,
    ``asyncio.to_thread``) is no part of the sequence: its events are limited as
    anywhere, also once the sequence has ended."""
    ended, release, outcome = threading.Event(), threading.Event(), []

    def stray():
        ended.wait(5)
        try:
            run_with_time_limit(lambda: release.wait(5), 0.1, "Stray :x")
        except TimeLimitExceeded as error:
            outcome.append(error)

    def event():
        context = contextvars.copy_context()
        thread = threading.Thread(target=context.run, args=(stray,))
        thread.start()
        return thread

    thread = run_watched(lambda: run_with_time_limit(event, 5, "Starts :a thread"))
    ended.set()
    try:
        thread.join(2)
        assert not thread.is_alive()
    finally:
        release.set()
    assert len(outcome) == 1
