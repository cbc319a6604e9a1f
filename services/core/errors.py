"""Errors a service raises; Aha! tells configuration problems apart from remote ones."""

from __future__ import annotations


class AhaServiceError(Exception):
    """Base of every error a service raises on purpose."""

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


class MissingSetting(ConfigurationError):
    """A setting the call needs is not set; the message names it."""


class RemoteError(AhaServiceError):
    """The third-party system failed or answered in a way the service cannot use."""


class InvalidUrlError(AhaServiceError):
    """A URL is malformed, points at a refused address, or would send credentials in clear."""


class TimeLimitExceeded(AhaServiceError):
    """An event ran past its time limit.

    Not a RemoteError, so that code which turns a third party's failure into a
    warning cannot swallow the end of the event by accident.
    """
