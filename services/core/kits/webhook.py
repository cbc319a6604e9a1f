"""The base of services that POST an event's payload as JSON to a user's URL."""

from __future__ import annotations

from typing import ClassVar

from services.core.errors import ConfigurationError, RemoteError
from services.core.mash import to_plain
from services.core.schema import Field, boolean, string, switched_on
from services.core.service import Service


def hook_url_field() -> Field:
    return string(
        "hook_url", description="The URL that receives each event as an HTTP POST of JSON."
    )


def validate_cert_field() -> Field:
    return boolean(
        "validate_cert",
        description="Validate your server's HTTPS/TLS certificate",
        label_name="Validate certificate",
    )


class HookService(Service):
    """POSTs the payload to ``hook_url``; verifies TLS unless ``validate_cert`` is switched off."""

    abstract: ClassVar[bool] = True
    category = "API"

    def verify_tls(self) -> bool:
        return switched_on(self.data.get("validate_cert"), default=True)

    def deliver_payload(self) -> None:
        url = self.data.get("hook_url")
        if not url:
            raise ConfigurationError("Set the Hook URL to the address that should receive events")
        if not self.verify_tls():
            self.logger.warn("TLS certificate validation is switched off for this webhook")
        response = self.http_post(str(url), json=to_plain(self.payload))
        if not 200 <= response.status_code < 300:
            raise RemoteError(
                f"The webhook answered HTTP {response.status_code} {response.reason or ''}".rstrip()
            )
