"""Aha! values as the Jira fields an issue type takes: mapped custom fields, estimates."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from services.core import ConfigurationError
from services.jira.text import TEXT_LIMIT, cut_wiki
from services.jira.wiki import html_to_wiki

if TYPE_CHECKING:
    from services.jira.service import Jira
    from services.jira.users import UserPicker

MINUTES = 10
POINTS = 20
MAX_ESTIMATE_MINUTES = 20000
SELECT_EDITORS = ("select", "radiobuttons")
MULTI_EDITORS = ("multiselect", "multicheckboxes")


def _editor(field: Mapping[str, Any]) -> str:
    """The last part of a custom field's schema: ``select``, ``multiselect``, ..."""
    return str(field.get("custom") or "").rsplit(":", 1)[-1]


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
            value = self.convert(custom[str(aha_field)].get("value"), field, aha_field, jira_field)
            if value is not None:
                result[jira_field] = value
        return result

    def convert(self, value: Any, field: Mapping[str, Any], aha_field: str, jira_field: str) -> Any:
        kind, editor = field.get("type"), _editor(field)
        if kind == "string":
            if isinstance(value, list):
                value = ",".join(str(v) for v in value)
            text = str(value if value is not None else "")
            if "<" in text and ">" in text:
                text = cut_wiki(html_to_wiki(text), TEXT_LIMIT)
            if editor in SELECT_EDITORS:
                self.service.remember_sent(jira_field, aha_field, text)
                return {"value": text}
            return text
        if kind == "number":
            try:
                return float(value)
            except (TypeError, ValueError):
                raise ConfigurationError(
                    f"The Aha! field {aha_field} holds {value!r}, which the Jira number field "
                    f"{field.get('name') or jira_field} cannot take; change the field mapping"
                ) from None
        if kind == "array":
            items = value if isinstance(value, list) else [v for v in str(value).split(",") if v]
            if field.get("items") == "component":
                return [{"name": str(v).strip()} for v in items]
            if editor in MULTI_EDITORS:
                for item in items:
                    self.service.remember_sent(jira_field, aha_field, item)
                return [{"value": str(v).strip()} for v in items]
            return list(items)
        if kind == "option":
            self.service.remember_sent(jira_field, aha_field, value)
            return {"value": value}
        if kind == "priority":
            return {"name": value}
        if kind == "user":
            email = value.get("email") if isinstance(value, Mapping) else value
            return self.users.find({"email": email}, f"user of {aha_field}")
        return value
