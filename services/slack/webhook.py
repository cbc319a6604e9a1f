"""What both Slack integrations share: Slack's incoming webhook and its error codes."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, ClassVar

from services.core import RemoteError
from services.core.kits.chat import ChatService

if TYPE_CHECKING:
    import requests


def slack_error_code(response: requests.Response) -> str:
    """Slack's error code: the plain-text body, or the ``error`` member of a JSON body."""
    text = (response.text or "").strip()
    try:
        parsed = json.loads(text)
    except ValueError:
        return text
    return str(parsed.get("error") or "") if isinstance(parsed, dict) else ""


class SlackWebhookService(ChatService):
    """A Slack integration that posts to the incoming webhook the Add to Slack button stored."""

    abstract: ClassVar[bool] = True
    webhook_settings = ("url", "webhook_url")
    missing_webhook_hint = "use the Add to Slack button to pick a channel"
    # Slack cuts a message's text after 40,000 characters and documents no other limit for
    # attachments: the whole message is kept within that too.
    field_limits = {"text": 40_000, "message": 40_000}

    def chat_error(self, response: requests.Response) -> RemoteError:
        if response.status_code != 404 and slack_error_code(response) == "invalid_token":
            return RemoteError(
                "An invalid token was provided: Slack no longer accepts this integration's "
                "webhook; use the Add to Slack button again"
            )
        return super().chat_error(response)
