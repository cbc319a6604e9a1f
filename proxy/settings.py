"""The proxy's own settings from the environment, read where the server starts.

This module imports nothing of ``services``: gunicorn's arbiter reads it, and the
arbiter must not hold service code that a reload is meant to replace.
"""

from __future__ import annotations

import math
import os

MAX_BODY_SETTING = "AHA_SERVICES_MAX_BODY"
REQUEST_TIMEOUT_SETTING = "AHA_SERVICES_REQUEST_TIMEOUT"
RELOAD_SETTING = "AHA_SERVICES_RELOAD"
LOG_LEVEL_SETTING = "AHA_SERVICES_LOG_LEVEL"

DEFAULT_MAX_BODY = 10 * 1024 * 1024
DEFAULT_REQUEST_TIMEOUT = 10.0


class SettingError(ValueError):
    """A proxy setting holds a value the proxy cannot use; the message names it."""


def _number(name: str, default: float, low: float, high: float) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not low <= value <= high:
        raise SettingError(f"{name} must be a number from {low:g} to {high:g}, not {text!r}")
    return value


def max_body() -> int:
    """The largest request body accepted, in bytes (``AHA_SERVICES_MAX_BODY``, 10 MiB)."""
    return int(_number(MAX_BODY_SETTING, DEFAULT_MAX_BODY, 1024, 1024**3))


def request_timeout() -> float:
    """Seconds a client has to send a whole request (``AHA_SERVICES_REQUEST_TIMEOUT``, 10)."""
    return _number(REQUEST_TIMEOUT_SETTING, DEFAULT_REQUEST_TIMEOUT, 0.5, 300)


def reload_enabled() -> bool:
    """Whether ``make serve`` reloads on save (``AHA_SERVICES_RELOAD=0`` turns it off)."""
    return os.environ.get(RELOAD_SETTING, "1").strip() != "0"
