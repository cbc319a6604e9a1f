"""Jira's "issue updated" webhook moving the linked Aha! record: status, name and tags.

Everything is read from the webhook body; nothing is asked of Jira. Descriptions are
not synced back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from services.core.kits.issue_tracking import tag_list
from services.core.mash import mash
from services.core.webhook_body import carried_body

if TYPE_CHECKING:
    from services.jira.service import Jira

ISSUE_UPDATED = "jira:issue_updated"


def webhook_body(payload: Mapping[str, Any]) -> Any:
    """The Jira event: the payload itself, or JSON (text or object) under ``payload``."""
    try:
        body = carried_body(payload)
    except ValueError:
        return None
    return mash(body) if isinstance(body, Mapping) else None


def part(value: Any, name: str) -> Mapping[str, Any]:
    """``value[name]`` when both are JSON objects, else empty: a body of another shape is
    read as far as it goes."""
    found = value.get(name) if isinstance(value, Mapping) else None
    return found if isinstance(found, Mapping) else {}


def changed(event: Any, field: str) -> bool:
    items = part(event, "changelog").get("items")
    return isinstance(items, list) and any(
        isinstance(item, Mapping) and str(item.get("field") or "").lower() == field
        for item in items
    )


class JiraWebhook:
    def __init__(self, service: Jira):
        self.service = service

    def apply(self, payload: Mapping[str, Any]) -> None:
        logger = self.service.logger
        event = webhook_body(payload)
        if event is None or event.get("webhookEvent") != ISSUE_UPDATED:
            kind = event.get("webhookEvent") if event is not None else "unreadable"
            logger.info(f"Ignoring the Jira webhook event {kind}")
            return
        issue = part(event, "issue")
        project = str(part(part(issue, "fields"), "project").get("key") or "")
        configured = str(self.service.data.get("project") or "")
        if not configured:
            logger.warn("No Jira project is chosen (project); the webhook was ignored")
            return
        if project.casefold() != configured.casefold():
            logger.info(f"Ignoring issue {issue.get('key')} of project {project}")
            return
        named = f"Jira issue {issue.get('key')} (id {issue.get('id')})"
        found = self.service.find_linked_record("id", issue.get("id"), named=named)
        if found is None:
            return
        kind, record = found
        self.service.update_linked_record(kind, record, self.changes(kind, record, event))

    def changes(self, kind: str, record: Any, event: Any) -> dict[str, Any]:
        fields = part(part(event, "issue"), "fields")
        changes: dict[str, Any] = {}
        status_id = str(part(fields, "status").get("id") or "")
        mapped = self.status_mapping(kind).get(status_id)
        current = str(part(record, "workflow_status").get("id") or "")
        if mapped and str(mapped) != current:
            changes["workflow_status"] = str(mapped)
        if changed(event, "summary") and fields.get("summary"):
            changes["name"] = fields["summary"]
        if self.service.flag("send_tags") and changed(event, "labels"):
            labels = fields.get("labels")
            changes["tags"] = tag_list(labels if isinstance(labels, list) else [])
        return changes

    def status_mapping(self, kind: str) -> Mapping[str, Any]:
        data = self.service.data
        mapping = data.get("requirement_status_mapping") if kind == "requirement" else None
        mapping = mapping or data.get("feature_status_mapping") or {}
        return {str(k): v for k, v in mapping.items()} if isinstance(mapping, Mapping) else {}
