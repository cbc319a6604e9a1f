"""One attempt at one job: run the event through the core, and decide what comes next."""

from __future__ import annotations

import random
import time
from typing import Any

from host.config import HostConfig, Integration, RetryPolicy
from host.jobs import DELIVERED, FAILED, RETRYING, Job
from services.core.errors import (
    ConfigurationError,
    InvalidUrlError,
    RemoteError,
    TimeLimitExceeded,
)
from services.core.events import handle_event, note_failure
from services.core.logger import EventLogger

# A third party that is down, slow or limiting us may be back later; a setting that is
# wrong, or an address that is refused, will not fix itself.
RETRYABLE = (RemoteError, TimeLimitExceeded, OSError)
NEVER_RETRIED = (ConfigurationError, InvalidUrlError)


def retryable(error: BaseException) -> bool:
    if isinstance(error, ConfigurationError) and _unreachable(error):
        return True
    return isinstance(error, RETRYABLE) and not isinstance(error, NEVER_RETRIED)


def _unreachable(error: ConfigurationError) -> bool:
    """A host that refused the connection or did not answer it: the HTTP client names
    that a ConfigurationError (Aha! shows it against the URL the user gave), but the
    third party may be down for a while. A TLS failure is not one of them. (requests
    is imported by then, without its charset guessers: ``services.core.http``.)"""
    from requests.exceptions import ConnectionError, SSLError

    cause = error.original_exception
    return isinstance(cause, ConnectionError) and not isinstance(cause, SSLError)


def backoff_delay(policy: RetryPolicy, tries: int) -> float:
    """Exponential backoff with jitter: ``backoff * 2^(tries-1)``, give or take a quarter."""
    return policy.backoff * 2 ** max(tries - 1, 0) * random.uniform(0.75, 1.25)


def run_event(
    config: HostConfig,
    integration: Integration,
    job: Job,
    meta_data: dict[str, Any],
    logger: EventLogger,
) -> tuple[dict[str, Any], float]:
    """Run the event of a job marked running (``Job.start``, stored) once and fill in its
    outcome; the ``meta_data`` to store with it, and how long the event took. The
    caller stores both (``StateStore.finish_attempt``)."""
    started = time.monotonic()
    answer, raised = handle_event(
        integration.service_class,
        job.event,
        user_data=config.user_data(integration),
        payload=job.payload,
        meta_data=meta_data,
        request_headers=job.headers,
        logger=logger,
    )
    duration = time.monotonic() - started
    conclude(job, integration.retry, answer, raised, duration)
    return answer.get("meta_data") or {}, duration


def conclude_overrun(
    integration: Integration,
    job: Job,
    logger: EventLogger,
    overrun: TimeLimitExceeded,
    duration: float,
) -> None:
    """Fill in the outcome of an event given up past its time limit, from what it had
    logged so far; its meta_data stays as it was before the event."""
    answer: dict[str, Any] = {"messages": list(logger.messages)}
    what = f"{integration.service_class.service_name} :{job.event}"
    note_failure(answer, what, overrun, logger.redactor)
    conclude(job, integration.retry, answer, overrun, duration)


def conclude(
    job: Job,
    policy: RetryPolicy,
    answer: dict[str, Any],
    raised: BaseException | None,
    duration: float,
) -> None:
    """Fill in the attempt and the job's next state from the event's answer."""
    attempt = job.attempts[-1]
    attempt.duration = round(duration, 6)
    attempt.messages = list(answer.get("messages") or [])
    job.tries += 1
    exception = answer.get("exception")
    if exception:
        attempt.error = f"{exception['exception_class']}: {exception['message']}"
    if raised is None:
        # meta_data JSON could not hold is reported, yet the event itself went through.
        attempt.outcome, job.state = DELIVERED, DELIVERED
    elif retryable(raised) and job.tries < policy.attempts:
        attempt.outcome, job.state = RETRYING, RETRYING
        job.next_attempt_at = time.time() + backoff_delay(policy, job.tries)
    else:
        attempt.outcome, job.state = FAILED, FAILED
