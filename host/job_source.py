"""The host's side of ``services.core.jobs``: its jobs, redacted, for the console; and
the one way a failed job is queued again (the console's button, ``jobs retry``)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

from host.config import ConfigError, HostConfig, load_config
from host.engine import Engine, build_engine
from host.jobs import FAILED, QUEUED, Job
from host.state import StoreUnavailable
from services.core.jobs import JobAttempt, JobDetail, JobRow, JobsOverview, JobsUnavailable
from services.core.redaction import Redactor

_log = logging.getLogger("host.jobs")


def requeue(engine: Engine, jobs: Iterable[Job]) -> int:
    """Queue ``jobs`` again with a fresh count of attempts, then wake their
    integrations; how many jobs. A queue that fails to take the wake-up leaves the jobs
    queued in the store, where a worker's sweep finds them (as the intake's new jobs)."""
    integrations: set[str] = set()
    count = 0
    for job in jobs:
        job.state, job.tries, job.next_attempt_at = QUEUED, 0, 0.0
        engine.store.save(job)
        integrations.add(job.integration)
        count += 1
    for integration in sorted(integrations):
        try:
            engine.enqueue(integration, None)
        except Exception as error:  # stored: a worker's sweep finds it
            _log.warning("%s queued again, not woken yet: %s", integration, type(error).__name__)
    return count


def _redacted(record: dict[str, Any], redact: Redactor) -> dict[str, Any]:
    """The record with every secret filtered: as one JSON text, or value by value when
    a secret is itself a piece of JSON that filtering the text would break."""
    try:
        result: dict[str, Any] = json.loads(redact(json.dumps(record)))
    except ValueError:
        result = _each_value(record, redact)
    return result


def _each_value(value: Any, redact: Redactor) -> Any:
    if isinstance(value, dict):
        return {redact(key): _each_value(item, redact) for key, item in value.items()}
    if isinstance(value, list):
        return [_each_value(item, redact) for item in value]
    return redact(value) if isinstance(value, str) else value


def _row(job: Job) -> JobRow:
    return JobRow(job.id, job.integration, job.event, job.state, job.received_at, len(job.attempts))


class HostJobSource:
    """The jobs of the host that ``AHA_SERVICES_CONFIG`` and ``AHA_SERVICES_DATA`` (or
    ``AHA_SERVICES_QUEUE``) name; every text shown passes the integrations' secrets."""

    def __init__(self, config: HostConfig, engine: Engine):
        self.config, self.engine = config, engine
        self._redact = Redactor(config.secrets())

    def overview(self) -> JobsOverview:
        store = self.engine.store
        try:
            return JobsOverview(self.engine.where, store.state_counts(), store.integration_counts())
        except StoreUnavailable as error:
            raise JobsUnavailable(str(error)) from None

    def jobs(self, state: str | None, integration: str | None, limit: int) -> list[JobRow]:
        try:
            found = self.engine.store.jobs(state=state, integration=integration, limit=limit)
        except StoreUnavailable as error:
            raise JobsUnavailable(str(error)) from None
        return [_row(job) for job in found]

    def job(self, job_id: str) -> JobDetail | None:
        try:
            job = self.engine.store.get(job_id)
        except StoreUnavailable as error:
            raise JobsUnavailable(str(error)) from None
        if job is None:
            return None
        record = _redacted(job.to_view(), self._redact)
        attempts = [
            JobAttempt(
                attempt["started_at"],
                attempt["duration"],
                attempt["outcome"],
                attempt["error"],
                attempt["messages"],
            )
            for attempt in record["attempts"]
        ]
        return JobDetail(_row(job), attempts, record["payload"], record["headers"])

    def retry(self, job_id: str) -> bool:
        try:
            job = self.engine.store.get(job_id)
            if job is None or job.state != FAILED:
                return False
            requeue(self.engine, [job])
        except StoreUnavailable as error:
            raise JobsUnavailable(str(error)) from None
        return True


def open_job_source() -> HostJobSource:
    """The ``aha_services.jobs`` entry point: the host set up from the environment."""
    try:
        return HostJobSource(load_config(), build_engine())
    except (ConfigError, StoreUnavailable) as error:
        raise JobsUnavailable(str(error)) from None
