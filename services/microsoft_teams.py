"""Microsoft Teams: workspace activity posted to a channel as a card.

Teams offers two kinds of incoming webhook: the older Office 365 connector, which
takes a MessageCard, and a Power Automate workflow, which takes an Adaptive Card.
The user picks one with ``integration_method``.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from services.core import RemoteError, audit_filter, install_button, select, string
from services.core.kits.chat import INSTALLED_TEXT, ChatService
from services.core.markup import code_safe_markdown

if TYPE_CHECKING:
    import requests

    from services.core.mash import Mash

ADAPTIVE_CARD_TYPE = "application/vnd.microsoft.card.adaptive"
ADAPTIVE_CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VIEW_IN_AHA = "View in Aha!"

# Bodies Teams answers with, and what they mean for the user.
TEAMS_ERRORS = {
    "Webhook Bad Request - Null or empty event": (
        "Please use the Microsoft Teams Webhook connector (not the Aha! connector) "
        "for this integration."
    ),
    "Connector configuration not found": "The connector configuration was not found",
}

_HTML_TAG = re.compile(r"<[^>]*>")


class MicrosoftTeams(ChatService):
    caption = "Send workspace notifications from Aha! to Microsoft Teams"
    # Teams refuses a webhook message over about 28 KB (HTTP 413), card and all.
    field_limits = {"message": 28_000}
    schema = (
        string(
            "webhook_url",
            description="The webhook URL you copied when you created the webhook in "
            "Microsoft Teams",
        ),
        select(
            "integration_method",
            collection=[["Use connector", "connector"], ["Use workflow", "workflow"]],
            description="How Microsoft Teams receives the messages. Microsoft is retiring "
            "Office 365 connectors in Microsoft Teams: no new connector can be created after "
            "August 15, 2024, and existing ones keep working until December 2025 once they "
            "have been updated. Workflows are the recommended choice for long-term support.",
        ),
        install_button(),
        audit_filter(),
    )

    def receive_installed(self) -> None:
        if self.uses_workflow():
            body = [
                heading_block("Aha! integration installed"),
                small_block(INSTALLED_TEXT),
            ]
            self.send_message(adaptive_card(body, actions=[]))
        else:
            self.send_message({"text": INSTALLED_TEXT})

    def receive_audit(self) -> None:
        audit = self.interesting_audit()
        if audit is None:
            return
        message = self.workflow_card(audit) if self.uses_workflow() else self.connector_card(audit)
        self.send_message(message)

    def chat_error(self, response: requests.Response) -> RemoteError:
        """Teams names some mistakes in a plain-text body; those get a clear message."""
        known = TEAMS_ERRORS.get((response.text or "").strip())
        if known:
            return RemoteError(known)
        return super().chat_error(response)

    def uses_workflow(self) -> bool:
        return self.data.get("integration_method") == "workflow"

    def connector_card(self, audit: Mash) -> dict[str, Any]:
        """A MessageCard for an Office 365 connector."""
        title = audit_title(audit)
        card: dict[str, Any] = {
            "@type": "MessageCard",
            "@context": "http://schema.org/extensions",
            "themeColor": "0073CF",
            "Summary": title,
            "sections": [
                {
                    "activityTitle": title,
                    "activitySubtitle": audit_time(audit.get("created_at")),
                    "facts": facts(audit.get("changes"), "name"),
                    "markdown": True,
                }
            ],
        }
        url = audit.get("auditable_url")
        if url:
            card["potentialAction"] = [
                {
                    "@type": "OpenUri",
                    "name": VIEW_IN_AHA,
                    "targets": [{"os": "default", "uri": str(url)}],
                }
            ]
        return card

    def workflow_card(self, audit: Mash) -> dict[str, Any]:
        """An Adaptive Card for a Power Automate workflow."""
        body = [
            heading_block(audit_title(audit)),
            small_block(audit_time(audit.get("created_at"))),
            {"type": "FactSet", "facts": facts(audit.get("changes"), "title")},
        ]
        url = audit.get("auditable_url")
        actions = [{"type": "Action.OpenUrl", "title": VIEW_IN_AHA, "url": str(url)}] if url else []
        return adaptive_card(body, actions)


def adaptive_card(body: list[dict[str, Any]], actions: list[dict[str, Any]]) -> dict[str, Any]:
    """The message a workflow webhook takes: one Adaptive Card attachment."""
    content: dict[str, Any] = {
        "$schema": ADAPTIVE_CARD_SCHEMA,
        "type": "AdaptiveCard",
        "version": "1.2",
        "body": body,
    }
    if actions:
        content["actions"] = actions
    return {
        "attachments": [{"contentType": ADAPTIVE_CARD_TYPE, "contentUrl": None, "content": content}]
    }


def heading_block(text: str) -> dict[str, Any]:
    return {
        "type": "TextBlock",
        "text": text,
        "weight": "bolder",
        "size": "medium",
        "wrap": True,
        "style": "heading",
    }


def small_block(text: str) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "weight": "lighter", "size": "small", "wrap": True}


def audit_title(audit: Mash) -> str:
    return f"{ChatService.audit_actor(audit)} {audit.get('description') or ''}".strip()


def audit_time(created_at: Any) -> str:
    """``2026-11-05  2:22 pm``: the time of the change in UTC, hour padded as Aha! shows it."""
    if not created_at:
        return ""
    try:
        moment = datetime.fromisoformat(str(created_at))
    except ValueError:
        return str(created_at)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    hour = moment.hour % 12 or 12
    meridiem = "am" if moment.hour < 12 else "pm"
    return f"{moment:%Y-%m-%d} {hour:2d}:{moment:%M} {meridiem}"


def facts(changes: Any, label_key: str) -> list[dict[str, str]]:
    """One fact per change; ``label_key`` is ``name`` on a MessageCard, ``title`` on a FactSet."""
    return [
        {
            label_key: value_text(change.get("field_name")),
            "value": teams_markdown(change.get("value")),
        }
        for change in changes or []
    ]


def value_text(value: Any) -> str:
    """A change value as text: Teams refuses a card whose fact holds a number."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value)


def teams_markdown(value: Any) -> str:
    """A change value in the Markdown Teams shows; text without tags is left as it is.

    Bold and struck-through text of the record itself is made plain, so that only the
    change marks stand out: deleted text struck through, inserted text in bold.
    Colours are dropped and tables become pipe tables.
    """
    text = value_text(value)
    if not _HTML_TAG.search(text):
        return text
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(text, "html.parser")
    for element in soup.find_all(["b", "strong", "strike", "s", "del"]):
        element.unwrap()
    for element in soup.find_all("span", class_="deleted"):
        element.name, element.attrs = "del", {}
    for element in soup.find_all("span", class_="inserted"):
        element.name, element.attrs = "strong", {}
    markdown = _markdown_converter().convert_soup(soup)
    return re.sub(r"\n{3,}", "\n\n", markdown).strip()


@cache
def _markdown_converter() -> Any:
    from markdownify import ATX

    return code_safe_markdown()(
        heading_style=ATX,
        bullets="*",
        escape_underscores=False,
        table_infer_header=True,
        strip_document="strip",
    )
