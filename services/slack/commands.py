"""Aha! (from Slack): the /aha slash command, which creates Aha! records from Slack.

Slack talks to Aha! directly for the commands; this module only answers the
integration's connection test with a message in the channel chosen at install.
"""

from __future__ import annotations

from services.core import commands_slack_button
from services.slack.webhook import SlackWebhookService


class SlackCommands(SlackWebhookService):
    title = "Aha! (from Slack)"
    caption = "Send new ideas and work updates to Aha! from Slack"
    category = "Communication"
    schema = (commands_slack_button(),)
