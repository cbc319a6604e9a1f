"""The framework that service modules build on; it never imports a service module."""

from services.core.errors import (
    AhaServiceError,
    ConfigurationError,
    InvalidUrlError,
    MissingSetting,
    RemoteError,
    TimeLimitExceeded,
)
from services.core.logger import EventLogger, Severity
from services.core.mash import frozen_mash, mash
from services.core.schema import (
    Field,
    audit_filter,
    boolean,
    callback_url,
    commands_slack_button,
    confluence_button,
    install_button,
    internal,
    number,
    oauth2_button,
    oauth_button,
    password,
    select,
    string,
    switched_on,
    webhooks_slack_button,
)
from services.core.service import Service
from services.core.timing import time_limit

__all__ = [
    "AhaServiceError",
    "ConfigurationError",
    "EventLogger",
    "Field",
    "InvalidUrlError",
    "MissingSetting",
    "RemoteError",
    "Service",
    "Severity",
    "TimeLimitExceeded",
    "audit_filter",
    "boolean",
    "callback_url",
    "commands_slack_button",
    "confluence_button",
    "frozen_mash",
    "install_button",
    "internal",
    "mash",
    "number",
    "oauth2_button",
    "oauth_button",
    "password",
    "select",
    "string",
    "switched_on",
    "time_limit",
    "webhooks_slack_button",
]
