"""The per-event logger: Ruby Logger severities, captured for the proxy's answer."""

from __future__ import annotations

import logging
from enum import IntEnum

from services.core.redaction import Redactor


class Severity(IntEnum):
    """Ruby Logger levels, as Aha! reads them in the proxy's ``messages``."""

    DEBUG = 0
    INFO = 1
    WARN = 2
    ERROR = 3
    FATAL = 4


_PYTHON_LEVEL = {
    Severity.DEBUG: logging.DEBUG,
    Severity.INFO: logging.INFO,
    Severity.WARN: logging.WARNING,
    Severity.ERROR: logging.ERROR,
    Severity.FATAL: logging.CRITICAL,
}

LOG_FORMAT = "[%(asctime)s.%(msecs)03d] %(levelname)-7s %(name)s: %(message)s"
LOG_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


def configure_logging(level: int = logging.DEBUG) -> None:
    """Print timestamped lines on stderr for every service logger (idempotent)."""
    root = logging.getLogger("services")
    if not any(getattr(h, "_aha_services", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(LOG_FORMAT, LOG_DATE_FORMAT))
        handler._aha_services = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)


class EventLogger:
    """Collects ``(severity, message)`` pairs and forwards each line, redacted, to logging."""

    def __init__(self, name: str = "services", redactor: Redactor | None = None):
        self.messages: list[dict[str, object]] = []
        self.redactor = redactor or Redactor()
        self._logger = logging.getLogger(name)

    def log(self, severity: Severity, message: object) -> None:
        text = self.redactor(message)
        self.messages.append({"severity": int(severity), "message": text})
        level = _PYTHON_LEVEL[severity]
        if self._logger.isEnabledFor(level):
            # A record made directly: logging's search for the caller's frame costs more
            # than the rest of an ignored event, and the line names its service anyway.
            self._logger.handle(
                self._logger.makeRecord(self._logger.name, level, "", 0, "%s", (text,), None)
            )

    def debug(self, message: object) -> None:
        self.log(Severity.DEBUG, message)

    def info(self, message: object) -> None:
        self.log(Severity.INFO, message)

    def warn(self, message: object) -> None:
        self.log(Severity.WARN, message)

    warning = warn

    def error(self, message: object) -> None:
        self.log(Severity.ERROR, message)

    def fatal(self, message: object) -> None:
        self.log(Severity.FATAL, message)
