"""Aha! (to Slack): workspace activity posted to a Slack channel through an incoming webhook."""

from __future__ import annotations

from typing import Any

from services.core import audit_filter, install_button, webhooks_slack_button
from services.core.markup import html_to_slack
from services.slack.webhook import SlackWebhookService

ICON_URL = "https://secure.aha.io/assets/logos/aha_square_300.png"
# Fields whose values are long text: Slack shows them across the whole message.
WIDE_FIELDS = frozenset({"Description", "Theme", "Body"})


def slack_escape(text: object) -> str:
    """Plain text made safe inside Slack markup: ``&``, ``<`` and ``>`` are control characters."""
    return str(text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class Slack(SlackWebhookService):
    title = "Aha! (to Slack)"
    caption = "Send workspace notifications from Aha! to Slack"
    category = "Communication"
    schema = (webhooks_slack_button(), install_button(), audit_filter())

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
