"""Aha! (from Slack): the /aha slash command, which creates Aha! records from Slack.

Slack talks to Aha! directly for the commands; this module only answers the
integration's connection test with a message in the channel chosen at install.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from services.core import ConfigurationError, RemoteError, commands_slack_button
from services.core.chat import INSTALLED_TEXT, ChatService

if TYPE_CHECKING:
    import requests

_URL_SETTINGS = ("url", "webhook_url")


class SlackCommands(ChatService):
    title = "Aha! (from Slack)"
    caption = "Send new ideas and work updates to Aha! from Slack"
    category = "Communication"
    schema = (commands_slack_button(),)

    @classmethod
    def secret_values(cls, data: Any) -> Iterable[Any]:
        """The Aha! token, and the path of the webhook URL, which is Slack's credential."""
        secrets = list(super().secret_values(data))
        for name in _URL_SETTINGS:
            url = str(data.get(name) or "").strip()
            try:
                rest = urlsplit(url)._replace(scheme="", netloc="").geturl()
            except ValueError:
                rest = url
            if rest.strip("/"):
                secrets.append(rest)
        return secrets

    def webhook_url(self) -> str:
        """The incoming-webhook URL that the Add to Slack button stored."""
        url = next((self.data.get(name) for name in _URL_SETTINGS if self.data.get(name)), None)
        if not url:
            raise ConfigurationError(
                "Integration has not been configured: use the Add to Slack button to connect it"
            )
        return str(url)

    def http_post(self, url: str, **kwargs: Any) -> requests.Response:
        # The webhook URL is itself the credential, so it never travels over plain http.
        return super().http_post(url, sends_credentials=True, **kwargs)

    def chat_error(self, response: requests.Response) -> RemoteError:
        text = (response.text or "").strip()
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = {"error": text}
        code = parsed.get("error") if isinstance(parsed, dict) else None
        if response.status_code != 404 and code == "invalid_token":
            return RemoteError(
                "An invalid token was provided: Slack no longer accepts this integration's "
                "webhook; use the Add to Slack button again"
            )
        return super().chat_error(response)

    def receive_installed(self) -> None:
        self.send_message({"text": INSTALLED_TEXT})
