"""Errors a service raises; Aha! tells configuration problems apart from remote ones.

Aha! knows three classes by name: ``ConfigurationError``, ``RemoteError`` and
``InvalidUrlError``. Every subclass is reported on the wire under the base it
extends (its message says the rest); see ``wire_class_name``.
"""

from __future__ import annotations

from typing import ClassVar


class AhaServiceError(Exception):
    """Base of every error a service raises on purpose."""

    # The class name the wire reports; None reports the class's own name.
    wire_name: ClassVar[str | None] = None

    def __init__(self, message: object = "", original_exception: BaseException | None = None):
        if isinstance(message, BaseException) and original_exception is None:
            original_exception = message
        super().__init__(str(message))
        self.original_exception = original_exception

    @property
    def message(self) -> str:
        return str(self)


class ConfigurationError(AhaServiceError):
    """The integration's settings are wrong; Aha! may disable such an integration."""

    wire_name = "ConfigurationError"


class MissingSetting(ConfigurationError):
    """A setting the call needs is not set; the message names it."""


class RemoteError(AhaServiceError):
    """The third-party system failed or answered in a way the service cannot use."""

    wire_name = "RemoteError"


class InvalidUrlError(AhaServiceError):
    """A URL is malformed, points at a refused address, or would send credentials in clear."""

    wire_name = "InvalidUrlError"


class TimeLimitExceeded(AhaServiceError):
    """An event ran past its time limit.

    Not a RemoteError, so that code which turns a third party's failure into a
    warning cannot swallow the end of the event by accident. To Aha! it is a remote
    failure (the third party did not answer in time), so the wire says RemoteError.
    """

    wire_name = "RemoteError"


def wire_class_name(error: BaseException) -> str:
    """The ``exception_class`` an answer reports: a name Aha! knows for a service error,
    the class's own name for anything else (a bug shows as what it is)."""
    if isinstance(error, AhaServiceError) and error.wire_name:
        return error.wire_name
    return type(error).__name__
