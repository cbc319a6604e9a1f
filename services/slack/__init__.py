"""The two Slack integrations: Aha! (to Slack) and Aha! (from Slack)."""

from services.slack.commands import SlackCommands
from services.slack.to_slack import ICON_URL, Slack

__all__ = ["ICON_URL", "Slack", "SlackCommands"]
