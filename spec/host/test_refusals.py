"""Refused requests are counted without a write each: answered at once, stored about
once a second, and by ``/metrics`` before it answers."""

from __future__ import annotations

import time

import pytest

from host.intake import create_app
from host.refusals import RefusalCounter
from host.state import StoreUnavailable
from spec.host.conftest import host_config
from spec.host.test_intake import post


@pytest.fixture
def client(engine):
    config = host_config(
        {"hooks": {"service": "webhooks", "settings": {"hook_url": "https://h.example.com/x"}}}
    )
    return create_app(config, engine).test_client()


def test_refusals_write_nothing_until_the_metrics_or_the_next_flush(client, engine, monkeypatch):
    written: list[dict] = []
    real = engine.store.count_received
    monkeypatch.setattr(
        engine.store, "count_received", lambda counts: written.append(dict(counts)) or real(counts)
    )
    for _ in range(5):
        answer = post(client, "/aha/hooks", {"event": "audit"}, token="wrong-secret-000000000")
        assert answer.status_code == 401
    post(client, "/aha/nope", {"event": "audit"})
    assert written == []
    text = client.get("/metrics").get_data(as_text=True)
    assert written == [{("hooks", "unauthorized"): 5, ("(unknown)", "unknown_integration"): 1}]
    assert 'aha_services_events_received_total{integration="hooks",outcome="unauthorized"} 5.0' in (
        text
    )


def _failing_once(store, monkeypatch, failure: Exception) -> None:
    """The store's ``count_received`` raises ``failure`` once, then counts."""
    real, failures = store.count_received, iter([failure])

    def count_received(counts: dict) -> None:
        first = next(failures, None)
        if first is not None:
            raise first
        real(counts)

    monkeypatch.setattr(store, "count_received", count_received)


def _stored_within_seconds(store, name: str) -> float:
    deadline = time.monotonic() + 5
    while name not in store.counters():
        assert time.monotonic() < deadline, "never stored"
        time.sleep(0.01)
    return store.counters()[name]


def test_counts_the_store_did_not_take_are_kept_for_the_next_flush(engine, monkeypatch):
    counter = RefusalCounter(engine.store)
    _failing_once(engine.store, monkeypatch, StoreUnavailable("the state store is unavailable"))
    counter.add("hooks", "unauthorized")
    counter.flush()
    counter.add("hooks", "unauthorized")
    counter.flush()
    assert engine.store.counters()["received|hooks|unauthorized"] == 2


def test_what_was_counted_is_stored_within_the_flush_interval(engine):
    counter = RefusalCounter(engine.store, every=0.01)
    counter.add("hooks", "bad_request")
    assert _stored_within_seconds(engine.store, "received|hooks|bad_request") == 1


def test_the_flushing_thread_ends_once_nothing_is_left_to_store(engine):
    counter = RefusalCounter(engine.store, every=0.01)
    counter.add("hooks", "bad_request")
    deadline = time.monotonic() + 5
    while counter._thread is not None:
        assert time.monotonic() < deadline, "still running"
        time.sleep(0.01)
    counter.add("hooks", "bad_request")
    assert counter._thread is not None
    counter.flush()
    assert engine.store.counters()["received|hooks|bad_request"] == 2


def test_a_flush_that_fails_otherwise_keeps_the_counts_and_the_thread(engine, monkeypatch, caplog):
    counter = RefusalCounter(engine.store, every=0.01)
    _failing_once(engine.store, monkeypatch, RuntimeError("a fault of the store's own"))
    counter.add("hooks", "unauthorized")
    assert _stored_within_seconds(engine.store, "received|hooks|unauthorized") == 1
    assert "Storing the counts of refused requests failed" in caplog.text
