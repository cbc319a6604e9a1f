"""Azure DevOps' "Work item updated" service hook moving the linked Aha! record: its
name, description and status.

The hook says which work item changed; the work item itself is read from the
configured address, with the configured credentials, never from an address the hook
body names.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from services.azure_devops.work_items import EMPTY_DESCRIPTION
from services.core.kits.tracker import RemoteGone
from services.core.mash import mash
from services.core.webhook_body import carried_body

if TYPE_CHECKING:
    from services.azure_devops.service import AzureDevOps

WORK_ITEM_UPDATED = "workitem.updated"
# The host of the sample event Azure sends when a subscription is tested.
TEST_HOST = "fabrikam-fiber-inc.visualstudio.com"


def hook_event(payload: Mapping[str, Any]) -> Any:
    """The service hook's body: the payload itself, or JSON (text or object) under ``webhook``."""
    try:
        body = carried_body(payload, key="webhook")
    except ValueError:
        return None
    return mash(body) if isinstance(body, Mapping) else None


def hrefs(value: Any) -> Iterator[str]:
    """Every address in the resource: its ``url`` and each ``_links`` entry's ``href``."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key in ("href", "url") and isinstance(item, str):
                yield item
            else:
                yield from hrefs(item)
    elif isinstance(value, list):
        for item in value:
            yield from hrefs(item)


def is_test_hook(resource: Any) -> bool:
    return any((urlsplit(href).hostname or "").lower() == TEST_HOST for href in hrefs(resource))


def same_html(one: Any, other: Any) -> bool:
    """Descriptions equal, an empty paragraph counting as empty."""

    def normal(text: Any) -> str:
        text = str(text or "").strip()
        return "" if text == EMPTY_DESCRIPTION else text

    return normal(one) == normal(other)


class AzureWebhook:
    def __init__(self, service: AzureDevOps):
        self.service = service

    def apply(self, payload: Mapping[str, Any]) -> None:
        logger = self.service.logger
        event = hook_event(payload)
        kind = event.get("eventType") if event is not None else "unreadable"
        if event is None or kind != WORK_ITEM_UPDATED:
            logger.info(f"Ignoring the Azure DevOps service hook event {kind or 'without a type'}")
            return
        resource = event.get("resource") or {}
        if is_test_hook(resource):
            logger.info("Received Azure DevOps' test event; nothing to do")
            return
        item_id = str(resource.get("workItemId") or "").strip()
        if not item_id.isdigit():
            logger.warn("The Azure DevOps service hook names no work item (resource.workItemId)")
            return
        self.service.require_connection()
        found = self.service.find_linked_record("id", item_id)
        if found is None:
            return
        record_kind, record = found
        try:
            item = (
                self.service.tracker_json("GET", f"/_apis/wit/workitems/{item_id}", shape="object")
                or {}
            )
        except RemoteGone:
            logger.warn(f"Azure DevOps work item {item_id} is gone; nothing changed")
            return
        changes = self.changes(record_kind, record, item.get("fields") or {})
        self.service.update_linked_record(record_kind, record, changes)

    def changes(self, kind: str, record: Any, fields: Mapping[str, Any]) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        title = fields.get("System.Title")
        sent_title = self.service.fit_title("System.Title", str(record.get("name") or ""))
        if title and title != record.get("name") and title != sent_title:
            changes["name"] = title
        description = fields.get("System.Description")
        current = (record.get("description") or {}).get("body")
        if description is not None and not same_html(description, current):
            changes["description"] = description
        state = fields.get("System.State")
        mapped = self.status_mapping(kind).get(str(state))
        status = str((record.get("workflow_status") or {}).get("id") or "")
        if mapped and str(mapped) != status:
            changes["workflow_status"] = str(mapped)
        elif state and not mapped:
            self.service.logger.info(
                f"The Azure DevOps state {state} is mapped to no Aha! status "
                f"({kind}_status_mapping); the status was left as it is"
            )
        return changes

    def status_mapping(self, kind: str) -> Mapping[str, Any]:
        mapping = self.service.data.get(f"{kind}_status_mapping") or {}
        return {str(k): v for k, v in mapping.items()} if isinstance(mapping, Mapping) else {}
