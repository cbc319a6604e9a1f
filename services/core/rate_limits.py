"""Rate limits are waited out: one retry policy for every HTTP client a service builds.

The policy is urllib3's ``Retry`` (it counts attempts, keeps the history and reads
``Retry-After`` in seconds or as an HTTP date), extended with the rules it lacks:
GitHub's 403 limits (``Retry-After``, or ``X-RateLimit-Remaining: 0``), a reset time
in ``X-RateLimit-Reset`` as epoch seconds or an ISO 8601 time, a 403 that refuses
the login (a CAPTCHA) never being taken for a limit, and a short backoff for a bare
429. The HTTP client asks it after each response, and bounds each wait by the
event's remaining time: waiting past it would only end the event with nothing done.
"""

from __future__ import annotations

import email.utils
import math
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime

from urllib3.exceptions import InvalidHeader
from urllib3.util.retry import Retry

from services.core.errors import RemoteError

ATTEMPTS = 5
BACKOFF = 1.0
# The longest wait outside an event (the command line), which has no time limit.
LONGEST_WAIT_WITHOUT_EVENT = 300.0
_EPOCH_SECONDS_FROM = 1_000_000_000  # a reset below this is a number of seconds from now
# Retry-After in seconds: whole ones as HTTP has it, or with a fraction as some servers send.
_SECONDS = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def sleep(seconds: float) -> None:
    """Every wait for a rate limit goes through here, so that specs never sleep."""
    time.sleep(seconds)


def now() -> float:
    """The wall clock that reset times are read against (replaced in specs)."""
    return time.time()


def _header(headers: Mapping[str, str], name: str) -> str:
    return str(headers.get(name) or "").strip()


def login_refused(headers: Mapping[str, str]) -> bool:
    """A 403 that refuses the login itself (Atlassian's CAPTCHA): waiting never helps."""
    reason = _header(headers, "X-Seraph-LoginReason")
    return bool(_header(headers, "X-Authentication-Denied-Reason")) or (
        bool(reason) and reason.upper() != "OK"
    )


def is_rate_limit(status: int, headers: Mapping[str, str]) -> bool:
    """429; 403 with ``Retry-After`` or an exhausted limit, unless the login is refused;
    503 with ``Retry-After``."""
    if status == 429:
        return True
    if status == 403:
        exhausted = _header(headers, "X-RateLimit-Remaining") == "0"
        return (exhausted or bool(_header(headers, "Retry-After"))) and not login_refused(headers)
    return status == 503 and bool(_header(headers, "Retry-After"))


def parse_reset(value: str) -> float | None:
    """Seconds until a reset given as epoch seconds, seconds from now, or an ISO 8601 time;
    None for anything else (``nan``, ``inf`` and numbers no clock reaches included)."""
    text = value.strip()
    try:
        number = float(text)
        if not math.isfinite(number):
            return None
    except ValueError:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return max(moment.timestamp() - now(), 0.0)
    if number >= _EPOCH_SECONDS_FROM:
        return max(number - now(), 0.0)
    return max(number, 0.0)


class RateLimitRetry(Retry):
    """urllib3's Retry, knowing the rate limits of the APIs services talk to."""

    def parse_retry_after(self, retry_after: str) -> float:
        """Seconds, or an HTTP date read against ``now()``."""
        text = retry_after.strip()
        if _SECONDS.fullmatch(text) and math.isfinite(float(text)):
            return float(text)
        moment = email.utils.parsedate_tz(text)
        if moment is None:
            raise InvalidHeader(f"Invalid Retry-After header: {retry_after}")
        return max(email.utils.mktime_tz(moment) - now(), 0.0)

    def get_backoff_time(self) -> float:
        """A short backoff from the first retry on: 1 s, 2 s, 4 s, ..."""
        return min(self.backoff_max, self.backoff_factor * 2 ** len(self.history))

    def wait_for(self, status: int, headers: Mapping[str, str]) -> float | None:
        """Seconds to wait before trying again, or None when this is not a rate limit."""
        if not is_rate_limit(status, headers):
            return None
        retry_after = _header(headers, "Retry-After")
        if retry_after:
            try:
                return self.parse_retry_after(retry_after)
            except InvalidHeader:
                pass
        for name in ("X-RateLimit-Reset", "RateLimit-Reset"):
            reset = _header(headers, name)
            seconds = parse_reset(reset) if reset else None
            if seconds is not None:
                return seconds
        return self.get_backoff_time()


def retry_policy() -> RateLimitRetry:
    """The policy of one request: at most ``ATTEMPTS`` attempts, for any method."""
    return RateLimitRetry(
        total=ATTEMPTS - 1,
        connect=0,
        read=0,
        redirect=0,
        status=ATTEMPTS - 1,
        allowed_methods=None,
        backoff_factor=BACKOFF,
        raise_on_status=False,
        respect_retry_after_header=True,
    )


def seconds_text(seconds: float) -> str:
    """``1``, ``0.5``, ``120``: a wait as a log line says it."""
    return f"{round(seconds, 1):g}"


def check_wait(
    wait: float, time_left: float | None, *, remote: str, status: int, what: str
) -> None:
    """A wait that would outlast the event (or the command line's longest wait) is an error
    that says when the limit resets."""
    bound = LONGEST_WAIT_WITHOUT_EVENT if time_left is None else time_left
    if wait < bound:
        return
    try:
        resets = datetime.fromtimestamp(now() + wait, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):  # beyond what a date can say
        resets = "a time no calendar reaches"
    within = (
        f"the {seconds_text(bound)} s this command waits at most"
        if time_left is None
        else "the time this event has left"
    )
    raise RemoteError(
        f"Rate limited by {remote} (HTTP {status}) on {what}: the limit resets at {resets}, "
        f"in {math.ceil(wait)} s, beyond {within}; try again after the reset"
    )
