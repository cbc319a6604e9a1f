"""Google Chat: workspace activity posted to a space as a card."""

from __future__ import annotations

import re
from functools import cache
from typing import Any, ClassVar

from services.core import audit_filter, install_button, string
from services.core.kits.chat import ChatService
from services.core.lean_imports import lean_import

DELETED_COLOR = "#9d261d"
INSERTED_COLOR = "#46a546"
VIEW_IN_AHA = "VIEW IN AHA!"

# A "&" that does not start an entity, so text that is already escaped stays as it is.
_BARE_AMPERSAND = re.compile(r"&(?!#?\w+;)")


class GoogleHangoutsChat(ChatService):
    title = "Google Chat"
    caption = "Send workspace notifications from Aha! to Google Hangouts Chat"
    success_statuses: ClassVar[frozenset[int]] = frozenset({200, 201, 204})
    # Google Chat takes 4,096 characters of text and 32,000 bytes for a whole message.
    field_limits = {"text": 4_096, "message": 32_000}
    schema = (
        string(
            "webhook_url",
            description="The webhook URL you copied when you added the webhook to your "
            "Google Chat space",
        ),
        install_button(),
        audit_filter(),
    )

    def receive_audit(self) -> None:
        audit = self.interesting_audit()
        if audit is None:
            return
        headline = f"<b>{escape_text(self.audit_actor(audit))}</b> "
        headline += escape_text(str(audit.get("description") or ""))
        sections: list[dict[str, Any]] = [{"widgets": [{"textParagraph": {"text": headline}}]}]
        widgets = [change_widget(change) for change in audit.get("changes") or []]
        if widgets:
            sections.append({"widgets": widgets})
        url = audit.get("auditable_url")
        if url:
            sections.append({"widgets": [{"buttons": [view_button(str(url))]}]})
        self.send_message({"cards": [{"sections": sections}]})


def change_widget(change: Any) -> dict[str, Any]:
    """One key-value widget: the field's name above its new value."""
    return {
        "keyValue": {
            "topLabel": str(change.get("field_name") or ""),
            "content": change_colors(change.get("value")),
            "contentMultiline": "true",
        }
    }


def view_button(url: str) -> dict[str, Any]:
    return {"textButton": {"text": VIEW_IN_AHA, "onClick": {"openLink": {"url": url}}}}


def escape_text(text: str) -> str:
    """Text for a widget that reads HTML: markup characters escaped, entities kept."""
    return _BARE_AMPERSAND.sub("&amp;", text).replace("<", "&lt;").replace(">", "&gt;")


def change_colors(value: Any) -> str:
    """Aha!'s change marks in the colours Google Chat can show: deleted red, inserted green.

    Google Chat ignores CSS classes but honours ``<font color>``.
    """
    if value is None:
        return ""
    text = str(value).lower() if isinstance(value, bool) else str(value)
    if "<" not in text:
        return text
    lean_import("bs4")
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(text, "html.parser")
    for class_name, color in (("deleted", DELETED_COLOR), ("inserted", INSERTED_COLOR)):
        for element in soup.find_all(class_=class_name):
            element.name, element.attrs = "font", {"color": color}
    return soup.decode(formatter=_html_formatter())


@cache
def _html_formatter() -> Any:
    """HTML as Google Chat reads it: ``<br>`` rather than ``<br/>``, ``& < >`` escaped."""
    from bs4.formatter import EntitySubstitution, HTMLFormatter

    return HTMLFormatter(
        entity_substitution=EntitySubstitution.substitute_xml, void_element_close_prefix=""
    )
