"""Aha! values as the Jira fields an issue type takes: mapped custom fields, estimates."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from services.core import ConfigurationError
from services.jira.text import SUMMARY_LIMIT, TEXT_LIMIT, fit_wiki
from services.jira.wiki import cut_wiki, html_to_wiki

if TYPE_CHECKING:
    from services.jira.service import Jira
    from services.jira.users import UserPicker

MINUTES = 10
POINTS = 20
MAX_ESTIMATE_MINUTES = 20000
SELECT_EDITORS = ("select", "radiobuttons")
MULTI_EDITORS = ("multiselect", "multicheckboxes")
# Jira's single-line text field takes 255 characters; its other text fields 32,767.
ONE_LINE_EDITOR = "textfield"
# Aha! custom field types whose value is HTML.
HTML_TYPES = ("html", "note")


def _editor(field: Mapping[str, Any]) -> str:
    """The last part of a custom field's schema: ``select``, ``multiselect``, ..."""
    return str(field.get("custom") or "").rsplit(":", 1)[-1]


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == []


def aha_text(entry: Mapping[str, Any]) -> str:
    """An Aha! custom field's value as Jira text: HTML (``html``, ``note``) as wiki markup,
    a list joined by commas, anything else as it reads."""
    value = entry.get("value")
    if entry.get("type") in HTML_TYPES:
        return html_to_wiki(str(value or ""))
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return "" if value is None else str(value)


def fit_text(text: str, editor: str, url: Any) -> str:
    """Text within what the Jira field takes, its wiki markup left well formed."""
    if editor == ONE_LINE_EDITOR:
        return cut_wiki(text, SUMMARY_LIMIT)
    return fit_wiki(text, TEXT_LIMIT, url)


def estimate_fields(record: Any, takes: Iterable[str], story_points_field: Any) -> dict[str, Any]:
    """Time tracking in minutes (work units 10) or story points (20), when Aha! sends one."""
    takes = set(takes)
    estimate = record.get("original_estimate")
    if "original_estimate" not in record or record.get("use_requirements_estimates") is True:
        return {}
    units = record.get("work_units")
    if units == MINUTES and "timetracking" in takes:
        remaining = record.get("remaining_estimate")
        if any(v is not None and v > MAX_ESTIMATE_MINUTES for v in (estimate, remaining)):
            return {}
        tracking = {}
        if estimate is not None:
            tracking["originalEstimate"] = f"{int(estimate)}m"
        if remaining is not None:
            tracking["remainingEstimate"] = f"{int(remaining)}m"
        return {"timetracking": tracking} if tracking else {}
    if units == POINTS and story_points_field and story_points_field in takes:
        return {story_points_field: estimate}
    return {}


class FieldMapping:
    """The ``[{aha_field, jira_field}]`` mapping applied to one record."""

    def __init__(self, service: Jira, users: UserPicker):
        self.service = service
        self.users = users
        self.fields = service.meta_data.get("fields") or {}

    def mapping(self, kind: str) -> list[Any]:
        data = self.service.data
        chosen = data.get("requirement_field_mapping") if kind == "requirement" else None
        chosen = chosen or data.get("field_mapping") or []
        return [m for m in chosen if isinstance(m, Mapping)]

    def values(self, record: Any, kind: str, takes: Iterable[str]) -> dict[str, Any]:
        """The mapped Jira fields the record fills; a Jira field unknown or not on the
        screen (``takes``) is a warning and left out."""
        takes = set(takes)
        custom = {str(f.get("key")): f for f in record.get("custom_fields") or [] if f.get("key")}
        result: dict[str, Any] = {}
        for entry in self.mapping(kind):
            aha_field, jira_field = entry.get("aha_field"), entry.get("jira_field")
            if not aha_field or not jira_field or str(aha_field) not in custom:
                continue
            field = self.fields.get(jira_field)
            if field is None or jira_field not in takes:
                self.service.logger.warn(
                    f"The Jira field {jira_field} mapped from {aha_field} is not on this issue "
                    "type's screen; press 'Load project data' if it was added"
                )
                continue
            value = self.convert(
                custom[str(aha_field)], field, str(aha_field), str(jira_field), record.get("url")
            )
            if value is not None:
                result[jira_field] = value
        return result

    def convert(
        self,
        entry: Mapping[str, Any],
        field: Mapping[str, Any],
        aha_field: str,
        jira_field: str,
        url: Any = None,
    ) -> Any:
        """One Aha! custom field's value as the Jira field's ``type`` (and editor) takes it;
        None leaves the field out."""
        kind, editor, value = field.get("type"), _editor(field), entry.get("value")
        chosen = kind in ("option", "priority", "number") or editor in SELECT_EDITORS
        if chosen and _blank(value):  # Jira refuses an empty option; nothing to send
            return None
        if kind == "string":
            text = aha_text(entry)
            if editor in SELECT_EDITORS:
                self.service.remember_sent(jira_field, aha_field, text)
                return {"value": text}
            return fit_text(text, editor, url)
        if kind == "number":
            return self.number(value, field, aha_field, jira_field)
        if kind == "array":
            items = [v for v in (value if isinstance(value, list) else [value]) if not _blank(v)]
            if field.get("items") == "component":
                return [{"name": str(v).strip()} for v in items]
            if editor in MULTI_EDITORS:
                for item in items:
                    self.service.remember_sent(jira_field, aha_field, item)
                return [{"value": str(v).strip()} for v in items]
            return items
        if kind == "option":
            text = aha_text(entry)
            self.service.remember_sent(jira_field, aha_field, text)
            return {"value": text}
        if kind == "priority":
            return {"name": aha_text(entry)}
        if kind == "user":
            return self.user(entry, aha_field)
        return value

    @staticmethod
    def number(value: Any, field: Mapping[str, Any], aha_field: str, jira_field: str) -> float:
        try:
            return float(value)
        except (TypeError, ValueError):
            shown = list(value) if isinstance(value, list) else value
            raise ConfigurationError(
                f"The Aha! field {aha_field} holds {shown!r}, which the Jira number field "
                f"{field.get('name') or jira_field} cannot take; change the field mapping"
            ) from None

    def user(self, entry: Mapping[str, Any], aha_field: str) -> dict[str, Any] | None:
        """The Jira user of the first e-mail the Aha! field names (a users field sends
        them in ``email_value``) that the user picker finds."""
        emails = entry.get("email_value") or entry.get("value")
        for email in emails if isinstance(emails, list) else [emails]:
            if isinstance(email, Mapping):
                email = email.get("email")
            if email and str(email).strip():
                found = self.users.find({"email": str(email).strip()}, f"user of {aha_field}")
                if found:
                    return found
        return None
