"""``/metrics``: read from the state store when scraped, so that every intake process,
and every worker on every machine, is counted once."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from host.jobs import STATES
from host.state import LATENCY_BUCKETS, StateStore


class StoreCollector(Collector):
    def __init__(self, store: StateStore):
        self.store = store

    def collect(self) -> Iterator[Metric]:
        counters = self.store.counters()
        received = CounterMetricFamily(
            "aha_services_events_received",
            "Requests to the intake, by integration and outcome",
            labels=["integration", "outcome"],
        )
        for name, value in sorted(counters.items()):
            kind, _, rest = name.partition("|")
            if kind == "received":
                integration, _, outcome = rest.rpartition("|")
                received.add_metric([integration, outcome], value)
        yield received
        jobs = GaugeMetricFamily("aha_services_jobs", "Jobs kept, by state", labels=["state"])
        counts = self.store.state_counts()
        for state in STATES:
            jobs.add_metric([state], counts.get(state, 0))
        yield jobs
        yield _latency(counters)


def _latency(counters: dict[str, float]) -> HistogramMetricFamily:
    buckets, total = [], 0.0
    for bound in (*(repr(b) for b in LATENCY_BUCKETS), "+Inf"):
        total += counters.get(f"latency|{bound}", 0.0)
        buckets.append((bound, total))
    return HistogramMetricFamily(
        "aha_services_attempt_duration_seconds",
        "How long each attempt at a job took",
        buckets=buckets,
        sum_value=counters.get("latency_sum", 0.0),
    )


def render(store: StateStore) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(store))
    return generate_latest(registry)
