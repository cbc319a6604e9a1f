"""The per-event logger: Ruby Logger severities, captured for the proxy's answer."""

from __future__ import annotations

import logging
import os
import re
import threading
import time
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
LOG_LEVEL_SETTING = "AHA_SERVICES_LOG_LEVEL"

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators: any of them
# could start a forged line or drive the terminal (ANSI escapes).
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Each line of a traceback or other block under a log line starts with this, so that
# no line of it can pass for a log line of its own.
BLOCK_PREFIX = "  | "


def escape_controls(text: str) -> str:
    """``text`` on one line, with every control character written as an escape."""
    if not _CONTROLS.search(text):
        return text
    return _CONTROLS.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match[0]
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


class SafeFormatter(logging.Formatter):
    """One line per record whatever the values hold; blocks below it are fenced.

    The message (format string and values alike) has its control characters
    escaped. A traceback, a stack, or a ``details`` text given through ``extra``
    follows on lines that each start with ``BLOCK_PREFIX``.
    """

    _time_text: tuple[int, str] = (-1, "")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """The time to the second, formatted once a second: every event logs a line."""
        if datefmt is None or "%f" in datefmt:  # logging's default adds milliseconds
            return super().formatTime(record, datefmt)
        second = int(record.created)
        cached_second, text = self._time_text
        if second != cached_second:
            text = super().formatTime(record, datefmt)
            self._time_text = (second, text)
        return text

    def format(self, record: logging.LogRecord) -> str:
        record.message = escape_controls(record.getMessage())
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        line = self.formatMessage(record)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        blocks = [record.exc_text, getattr(record, "details", None)]
        if record.stack_info:
            blocks.append(self.formatStack(record.stack_info))
        for block in blocks:
            if block:
                line += "".join(
                    f"\n{BLOCK_PREFIX}{escape_controls(part)}" for part in str(block).splitlines()
                )
        return line


def escaping(formatter: logging.Formatter | None) -> SafeFormatter:
    """A ``SafeFormatter`` with the format of ``formatter`` (another library's handler)."""
    if formatter is None:
        return SafeFormatter()
    return SafeFormatter(formatter._fmt, formatter.datefmt)


def level_from_environment(default: int = logging.DEBUG) -> int:
    """The level ``AHA_SERVICES_LOG_LEVEL`` names (``info``, ``WARNING``, ``20``...)."""
    text = os.environ.get(LOG_LEVEL_SETTING, "").strip()
    if not text:
        return default
    if text.isdigit():
        return int(text)
    level = logging.getLevelName(
        {"WARN": "WARNING", "FATAL": "CRITICAL"}.get(text.upper(), text.upper())
    )
    if isinstance(level, int):
        return level
    logging.getLogger("services").warning(
        "%s=%r is not a log level (debug, info, warning, error, critical); using %s",
        LOG_LEVEL_SETTING,
        text,
        logging.getLevelName(default),
    )
    return default


def configure_logging(level: int | None = None) -> None:
    """Print timestamped lines on stderr for every service logger (idempotent).

    ``level`` defaults to ``AHA_SERVICES_LOG_LEVEL``, else debug.
    """
    root = logging.getLogger("services")
    if not any(getattr(h, "_aha_services", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(SafeFormatter(LOG_FORMAT, LOG_DATE_FORMAT))
        handler._aha_services = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level_from_environment() if level is None else level)


# Fields of a LogRecord that stay the same for one thread (its name, the process's, the
# empty source location); a record copies them instead of working them out again.
_thread_fields: dict[int, dict[str, object]] = {}
_MAX_THREADS = 64


def quick_record(logger: logging.Logger, level: int, text: str) -> logging.LogRecord:
    """The record ``logger.makeRecord`` would make for ``text``, at a fraction of the cost:
    every event logs a line. Another record factory, when one is set, is used instead."""
    if logging.getLogRecordFactory() is not logging.LogRecord:
        return logger.makeRecord(logger.name, level, "", 0, text, (), None)
    fields = _thread_fields.get(threading.get_ident())
    if fields is None:
        if len(_thread_fields) >= _MAX_THREADS:  # threads come and go
            _thread_fields.clear()
        fields = vars(logging.LogRecord("", logging.NOTSET, "", 0, "", (), None)).copy()
        _thread_fields[threading.get_ident()] = fields
    record = _new_record(logging.LogRecord)
    record.__dict__.update(fields)
    now = time.time()
    record.name = logger.name
    record.levelno = level
    record.levelname = logging.getLevelName(level)
    record.created = now
    record.msecs = int((now - int(now)) * 1000) + 0.0
    record.relativeCreated = fields["relativeCreated"] + (now - fields["created"]) * 1000  # type: ignore[operator]
    record.msg = text
    return record


_new_record = object.__new__


# Event loggers by name (one per service): ``logging.getLogger`` takes a lock each time.
_loggers: dict[str, logging.Logger] = {}


class EventLogger:
    """Collects ``(severity, message)`` pairs and forwards each line, redacted, to logging."""

    def __init__(self, name: str = "services", redactor: Redactor | None = None):
        self.messages: list[dict[str, object]] = []
        self.redactor = redactor or Redactor()
        self._logger = _loggers.get(name) or _loggers.setdefault(name, logging.getLogger(name))

    def log(self, severity: Severity, message: object) -> None:
        text = self.redactor(message)
        self.messages.append({"severity": int(severity), "message": text})
        level = _PYTHON_LEVEL[severity]
        if self._logger.isEnabledFor(level):
            # A record made directly: logging's search for the caller's frame costs more
            # than the rest of an ignored event, and the line names its service anyway.
            self._logger.handle(quick_record(self._logger, level, text))

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
