"""Aha! (to Slack): workspace activity posted to a Slack channel through an incoming webhook."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from services.core import (
    ConfigurationError,
    RemoteError,
    audit_filter,
    install_button,
    webhooks_slack_button,
)
from services.core.chat import INSTALLED_TEXT, ChatService
from services.core.markup import html_to_slack

if TYPE_CHECKING:
    import requests

ICON_URL = "https://secure.aha.io/assets/logos/aha_square_300.png"
# Fields whose values are long text: Slack shows them across the whole message.
WIDE_FIELDS = frozenset({"Description", "Theme", "Body"})


def slack_escape(text: object) -> str:
    """Plain text made safe inside Slack markup: ``&``, ``<`` and ``>`` are control characters."""
    return str(text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def webhook_secret(url: object) -> str | None:
    """The part of a Slack webhook URL after its host: it is the credential."""
    if not url:
        return None
    try:
        parts = urlsplit(str(url).strip())
    except ValueError:
        return str(url)
    rest = parts._replace(scheme="", netloc="").geturl()
    return rest if rest.strip("/") else None


def slack_error_code(response: requests.Response) -> str:
    """Slack's error code: the plain-text body, or the ``error`` member of a JSON body."""
    text = (response.text or "").strip()
    try:
        parsed = json.loads(text)
    except ValueError:
        return text
    return str(parsed.get("error") or "") if isinstance(parsed, dict) else ""


class Slack(ChatService):
    title = "Aha! (to Slack)"
    caption = "Send workspace notifications from Aha! to Slack"
    category = "Communication"
    schema = (webhooks_slack_button(), install_button(), audit_filter())

    @classmethod
    def secret_values(cls, data: Any) -> Iterable[Any]:
        secrets = list(super().secret_values(data))
        for name in ("url", "webhook_url"):
            secret = webhook_secret(data.get(name))
            if secret:
                secrets.append(secret)
        return secrets

    def webhook_url(self) -> str:
        """The incoming-webhook URL that the Add to Slack button stored."""
        url = self.data.get("url") or self.data.get("webhook_url")
        if not url:
            raise ConfigurationError(
                "Integration has not been configured: use the Add to Slack button to pick a channel"
            )
        return str(url)

    def http_post(self, url: str, **kwargs: Any) -> requests.Response:
        # The webhook URL is itself the credential, so it never travels over plain http.
        return super().http_post(url, sends_credentials=True, **kwargs)

    def chat_error(self, response: requests.Response) -> RemoteError:
        if response.status_code != 404 and slack_error_code(response) == "invalid_token":
            return RemoteError(
                "An invalid token was provided: Slack no longer accepts this integration's "
                "webhook; use the Add to Slack button again"
            )
        return super().chat_error(response)

    def receive_installed(self) -> None:
        self.send_message({"text": INSTALLED_TEXT})

    def receive_audit(self) -> None:
        audit = self.interesting_audit()
        if audit is None:
            return
        user = self.audit_actor(audit)
        description = str(audit.get("description") or "")
        link = slack_escape(description)
        if audit.get("auditable_url"):
            link = f"<{audit.auditable_url}|{link}>"
        self.send_message(
            {
                "username": "Aha!",
                "icon_url": ICON_URL,
                "attachments": [
                    {
                        "fallback": f"{user} {description}",
                        "pretext": f"*{slack_escape(user)}* {link}",
                        "mrkdwn_in": ["pretext", "text", "fields"],
                        "fields": [change_field(change) for change in audit.get("changes") or []],
                    }
                ],
            }
        )


def change_field(change: Any) -> dict[str, Any]:
    """One Slack attachment field for one changed Aha! field."""
    name = str(change.get("field_name") or "")
    value = change.get("value")
    return {
        "title": name,
        "value": "" if value is None else html_to_slack(str(value)),
        "short": name not in WIDE_FIELDS,
    }
