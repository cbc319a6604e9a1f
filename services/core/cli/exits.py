"""The command line's exit codes, and the one place that turns an error into one.

0  the command did what was asked
1  the service raised: the event failed (or an unexpected error)
2  a usage error: a bad argument, or a setting the call needs is missing or wrong
3  the network or the remote side failed: DNS, connection, TLS, an error status
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import NoReturn

import click

from services.core.errors import (
    AhaServiceError,
    ConfigurationError,
    InvalidUrlError,
    RemoteError,
    TimeLimitExceeded,
)

OK = 0
FAILED = 1
USAGE = 2
REMOTE = 3


def caused_by_network(error: BaseException) -> bool:
    """True when a socket, DNS or TLS failure lies somewhere under ``error``.

    The HTTP client reports an unreachable host as a ConfigurationError (the user's URL
    is wrong, as far as Aha! can tell); on the command line it is a network failure.
    """
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError):
            return _network(current)
        pending.extend(
            (getattr(current, "original_exception", None), current.__cause__, current.__context__)
        )
    return False


def _network(error: OSError) -> bool:
    """Every OSError is a failure of the network or the system, except requests' errors
    that derive from it without being one: a header or a URL it refused to send."""
    requests = sys.modules.get("requests")
    if requests is None or not isinstance(error, requests.RequestException):
        return True
    return isinstance(error, requests.ConnectionError | requests.Timeout)


def exit_code_for(error: BaseException) -> int:
    """The documented exit code for an error a command met."""
    if isinstance(error, RemoteError | TimeLimitExceeded) or caused_by_network(error):
        return REMOTE
    if isinstance(error, ConfigurationError | InvalidUrlError):
        return USAGE
    return FAILED


def fail(error: BaseException, redact: Callable[[object], str] = str) -> NoReturn:
    """Print ``Error: ...`` (redacted) on standard error and exit with the error's code."""
    click.echo(f"Error: {redact(error)}", err=True)
    raise SystemExit(exit_code_for(error))


def run_reporting(call: Callable[[], object], redact: Callable[[object], str] = str) -> object:
    """``call()``; a service error ends the command with its exit code instead of a traceback."""
    try:
        return call()
    except AhaServiceError as error:
        fail(error, redact)
