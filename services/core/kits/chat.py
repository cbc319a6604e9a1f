"""The base of chat notifiers: post a JSON message to a chat webhook, map its errors."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from services.core.errors import ConfigurationError, RemoteError
from services.core.service import Service
from services.core.text_limits import TextLimits, cut_text, fit_json

if TYPE_CHECKING:
    import requests

    from services.core.mash import Mash

INSTALLED_TEXT = "Aha! integration installed successfully. Make sure you enable the integration!"
_ERROR_BODY_LIMIT = 500


def webhook_secret(url: object) -> str | None:
    """What follows the host in an incoming-webhook URL: the credential it carries."""
    text = str(url or "").strip()
    if not text:
        return None
    try:
        rest = urlsplit(text)._replace(scheme="", netloc="").geturl()
    except ValueError:
        return text
    return rest if rest.strip("/?") else None


class ChatService(TextLimits, Service):
    """Sends messages to a chat tool's incoming webhook.

    Whoever knows an incoming-webhook URL can post to the channel, so the URL is a
    credential: its path and query are redacted everywhere, and it is only used over
    https (or to a host that AHA_SERVICES_ALLOWED_HOSTS names). A subclass builds its
    messages and, where the chat tool has error bodies of its own, extends ``chat_error``.

    ``field_limits`` may name ``text`` (a message's top-level text) and ``message`` (its
    whole JSON body, as sent): a longer message is cut, its longest texts first, rather
    than refused by the chat tool.
    """

    abstract: ClassVar[bool] = True
    category = "Communication"
    success_statuses: ClassVar[frozenset[int]] = frozenset({200, 201, 202, 204})
    # The settings that may hold the webhook URL, the first one set wins.
    webhook_settings: ClassVar[tuple[str, ...]] = ("webhook_url",)
    missing_webhook_hint: ClassVar[str] = "set the webhook URL of the chat tool"

    @classmethod
    def secret_values(cls, data: Any) -> Iterable[Any]:
        secrets = list(super().secret_values(data))
        for name in cls.webhook_settings:
            secret = webhook_secret(data.get(name))
            if secret:
                secrets.append(secret)
        return secrets

    def webhook_url(self) -> str | None:
        return next(
            (str(self.data[name]) for name in self.webhook_settings if self.data.get(name)), None
        )

    def receive_installed(self) -> None:
        """Test the connection with a message in the channel."""
        self.send_message({"text": INSTALLED_TEXT})

    def interesting_audit(self) -> Mash | None:
        """The event's audit when Aha! marks it worth telling people about, else None."""
        audit = self.payload.get("audit")
        if not audit or not audit.get("interesting"):
            self.logger.debug("Audit is not marked interesting; nothing to send")
            return None
        return audit

    @staticmethod
    def audit_actor(audit: Any) -> str:
        """Who made the change: the user's name, or Aha! itself."""
        user = audit.get("user") or {}
        return str(user.get("name") or "Aha!")

    def send_message(self, message: dict[str, Any]) -> requests.Response:
        url = self.webhook_url()
        if not url:
            raise ConfigurationError(
                f"Integration has not been configured: {self.missing_webhook_hint}"
            )
        response = self.http_post(url, json=self.fit_message(message), sends_credentials=True)
        if response.status_code in self.success_statuses:
            return response
        raise self.chat_error(response)

    def fit_message(self, message: dict[str, Any]) -> dict[str, Any]:
        """The message within the chat tool's limits; cut texts point at the Aha! record."""
        url = (self.payload.get("audit") or {}).get("auditable_url") or None
        text, text_limit = message.get("text"), self.field_limits.get("text")
        if isinstance(text, str) and text_limit is not None:
            message = {**message, "text": cut_text(text, text_limit, url=url)}
        return fit_json(message, self.field_limits.get("message"), url=url)

    def chat_error(self, response: requests.Response) -> RemoteError:
        """A clear error for a refused message; subclasses add their tool's own bodies."""
        if response.status_code == 404:
            return RemoteError("URL is not recognized")
        return RemoteError(
            f"Unhandled error: STATUS={response.status_code} BODY={error_body_text(response)}"
        )


def error_body_text(response: requests.Response) -> str:
    """The message of a JSON error body, or the body itself, quoted and shortened."""
    text = response.text or ""
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        for key in ("message", "error", "error_description"):
            value = parsed.get(key)
            if isinstance(value, dict):
                value = value.get("message")
            if value:
                return str(value)
    if len(text) > _ERROR_BODY_LIMIT:
        text = text[:_ERROR_BODY_LIMIT] + "..."
    return repr(text)
