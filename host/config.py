"""The host's integrations file: one TOML document, read with the standard library.

Every problem stops start-up with a ``ConfigError`` naming the integration and the
key, never the value: a value may be a secret.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from services.core.environment import expand_all
from services.core.errors import MissingSetting
from services.core.registry import Registry, default_registry
from services.core.service import Service

CONFIG_VARIABLE = "AHA_SERVICES_CONFIG"
DEFAULT_CONFIG = "integrations.toml"
DEFAULT_MAX_BODY = 1024 * 1024
DEFAULT_RETENTION_DAYS = 14.0
# Six attempts over about two hours: waits of 4, 8, 16, 32 and 64 minutes, give or take.
DEFAULT_ATTEMPTS = 6
DEFAULT_BACKOFF = 240.0
SIGNATURES = ("github", "gitlab")
# ``signature = "none"`` turns off a signature that the service class declares.
NO_SIGNATURE = "none"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
_INTEGRATION_KEYS = {
    "service",
    "integration_id",
    "secret",
    "settings",
    "attempts",
    "backoff",
    "signature",
}


class ConfigError(Exception):
    """The integrations file cannot be used; the message says where, never a value."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often, and how far apart, a failed attempt is tried again."""

    attempts: int = DEFAULT_ATTEMPTS
    backoff: float = DEFAULT_BACKOFF


@dataclass(frozen=True)
class Integration:
    """One configured use of a service: its settings, intake secret and retry policy."""

    name: str
    service_class: type[Service]
    integration_id: str
    secret: str
    settings: Mapping[str, Any]
    retry: RetryPolicy = RetryPolicy()
    signature: str | None = None

    @property
    def service_name(self) -> str:
        return self.service_class.service_name

    def secrets(self) -> list[Any]:
        """Every value of this integration that must never be shown."""
        return [self.secret, *self.service_class.secret_values(self.settings)]


@dataclass(frozen=True)
class AhaAccount:
    """The Aha! account whose API the services write back to."""

    domain: str = ""
    api_url: str = ""
    token: str = ""


@dataclass(frozen=True)
class HostConfig:
    aha: AhaAccount
    integrations: Mapping[str, Integration]
    max_body: int = DEFAULT_MAX_BODY
    retention_days: float = DEFAULT_RETENTION_DAYS
    path: Path = field(default=Path(DEFAULT_CONFIG))

    def user_data(self, integration: Integration) -> dict[str, Any]:
        """What the development proxy would receive from Aha! for this integration."""
        return {
            **integration.settings,
            "aha_account_domain": self.aha.domain,
            "aha_api_url_base": "https://aha.io/",
            "aha_api_token": self.aha.token,
            "integration_id": integration.integration_id,
        }

    def secrets(self) -> list[Any]:
        found: list[Any] = [self.aha.token]
        for integration in self.integrations.values():
            found.extend(integration.secrets())
        return [value for value in found if value]


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    return Path(environ.get(CONFIG_VARIABLE) or DEFAULT_CONFIG)


def load_config(
    path: Path | None = None,
    registry: Registry | None = None,
    environ: Mapping[str, str] | None = None,
) -> HostConfig:
    """Read, expand and check the integrations file."""
    path = path or config_path(environ)
    try:
        document = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file (set {CONFIG_VARIABLE})") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot be read ({type(error).__name__})") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    return parse_config(document, registry or default_registry(), environ, path)


def parse_config(
    document: Mapping[str, Any],
    registry: Registry,
    environ: Mapping[str, str] | None = None,
    path: Path = Path(DEFAULT_CONFIG),
) -> HostConfig:
    aha = _aha_account(_table(document, "aha", "[aha]"), environ)
    host = _table(document, "host", "[host]")
    integrations = _table(document, "integrations", "[integrations]")
    if not integrations:
        raise ConfigError("[integrations]: no integration is configured")
    parsed = {
        name: _integration(
            name, _table(integrations, name, f"[integrations.{name}]"), registry, environ
        )
        for name in integrations
    }
    return HostConfig(
        aha=aha,
        integrations=parsed,
        max_body=int(_number(host, "max_body", "[host]", DEFAULT_MAX_BODY, 1024, 1 << 30)),
        retention_days=_number(host, "retention_days", "[host]", DEFAULT_RETENTION_DAYS, 0, 3650),
        path=path,
    )


def _table(document: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = document.get(key, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: must be a table")
    return value


def _expanded(value: Any, where: str, key: str, environ: Mapping[str, str] | None) -> Any:
    try:
        return expand_all(value, environ)
    except MissingSetting as error:
        raise ConfigError(f"{where} {key}: {error}") from None


def _aha_account(table: Mapping[str, Any], environ: Mapping[str, str] | None) -> AhaAccount:
    values = {
        key: _expanded(table.get(key, ""), "[aha]", key, environ)
        for key in ("domain", "api_url", "token")
    }
    for key, value in values.items():
        if not isinstance(value, str):
            raise ConfigError(f"[aha] {key}: must be a string")
    if not values["domain"] and not values["api_url"]:
        raise ConfigError("[aha] domain: set domain or api_url")
    if values["api_url"] and not urlsplit(values["api_url"]).hostname:
        raise ConfigError("[aha] api_url: not a URL")
    if not values["token"]:
        raise ConfigError("[aha] token: missing")
    if not values["domain"]:
        values["domain"] = (urlsplit(values["api_url"]).hostname or "").split(".")[0]
    return AhaAccount(**values)


def _integration(
    name: str, table: Mapping[str, Any], registry: Registry, environ: Mapping[str, str] | None
) -> Integration:
    where = f"[integrations.{name}]"
    if not _NAME.fullmatch(name):
        raise ConfigError(f"{where}: a name of letters, digits, '.', '_' and '-' (it is in URLs)")
    unknown = sorted(set(table) - _INTEGRATION_KEYS)
    if unknown:
        raise ConfigError(f"{where} {unknown[0]}: unknown key")
    service_name = table.get("service")
    if not isinstance(service_name, str) or not service_name:
        raise ConfigError(f"{where} service: missing")
    service_class = registry.get(service_name)
    if service_class is None:
        raise ConfigError(f"{where} service: unknown service {service_name!r}")
    secret = _expanded(table.get("secret", ""), where, "secret", environ)
    if not isinstance(secret, str) or len(secret) < 16:
        raise ConfigError(f"{where} secret: missing or shorter than 16 characters")
    settings = _expanded(table.get("settings", {}), where, "settings", environ)
    if not isinstance(settings, Mapping):
        raise ConfigError(f"{where} settings: must be a table")
    integration_id = table.get("integration_id", "")
    if not isinstance(integration_id, str | int) or isinstance(integration_id, bool):
        raise ConfigError(f"{where} integration_id: must be a string")
    signature = table.get("signature", service_class.intake_signature)
    if signature is not None and signature not in (*SIGNATURES, NO_SIGNATURE):
        raise ConfigError(f"{where} signature: one of {', '.join(SIGNATURES)}, {NO_SIGNATURE}")
    if signature == NO_SIGNATURE:
        signature = None
    retry = RetryPolicy(
        attempts=int(_number(table, "attempts", where, DEFAULT_ATTEMPTS, 1, 100)),
        backoff=_number(table, "backoff", where, DEFAULT_BACKOFF, 0, 86400),
    )
    return Integration(
        name=name,
        service_class=service_class,
        integration_id=str(integration_id),
        secret=secret,
        settings=dict(settings),
        retry=retry,
        signature=signature,
    )


def _number(
    table: Mapping[str, Any], key: str, where: str, default: float, low: float, high: float
) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ConfigError(f"{where} {key}: a number from {low:g} to {high:g}")
    return float(value)
