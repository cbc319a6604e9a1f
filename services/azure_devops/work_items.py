"""Features and requirements as work items: created with one POST, updated with one PATCH
of what changed, requirements children of their feature's work item."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from services.azure_devops.attachments import attached_names, attachment_ops
from services.azure_devops.errors import UNKNOWN_TYPE
from services.core import ConfigurationError, RemoteError

if TYPE_CHECKING:
    from services.azure_devops.service import AzureDevOps

PATCH_HEADERS = {"Content-Type": "application/json-patch+json"}
PARENT = "System.LinkTypes.Hierarchy-Reverse"
EMPTY_DESCRIPTION = "<p></p>"
_WORK_ITEM_ID = re.compile(r"/workitems/(\d+)/?$", re.IGNORECASE)


def linked_id(url: Any) -> str:
    """The work item id at the end of a relation's API address; empty for another address."""
    found = _WORK_ITEM_ID.search(str(url or ""))
    return found.group(1) if found else ""


def field_op(name: str, value: Any, op: str = "add") -> dict[str, Any]:
    return {"op": op, "path": f"/fields/{name}", "value": value}


def description_html(record: Any) -> str:
    """The description as Aha! holds it (Azure shows HTML); an empty paragraph when empty."""
    body = str((record.get("description") or {}).get("body") or "")
    return body if body.strip() else EMPTY_DESCRIPTION


class WorkItems:
    def __init__(self, service: AzureDevOps):
        self.service = service

    # --- what is sent --------------------------------------------------------------------

    def send_feature(self, feature: Any) -> None:
        """The feature's work item, then one child work item per requirement."""
        self.service.require_settings("feature_mapping")
        if feature.get("requirements"):
            self.service.require_settings("requirement_mapping")
        feature_id = self.send(feature, "feature", None)
        for requirement in feature.get("requirements") or []:
            self.send(requirement, "requirement", feature_id)

    def send_requirement(self, requirement: Any) -> None:
        """The requirement's work item under its feature's, which is sent first if unlinked."""
        self.service.require_settings("feature_mapping", "requirement_mapping")
        feature = requirement.get("feature") or {}
        parent = self.service.link(feature, "id") or self.send(feature, "feature", None)
        self.send(requirement, "requirement", parent)

    def send(self, record: Any, kind: str, parent_id: Any) -> str:
        return self.service.create_or_update(
            self.service.link(record, "id"),
            update=lambda item_id: self.update(str(item_id), record, kind, parent_id),
            create=lambda: self.create(record, kind, parent_id),
            what="work item",
        )

    def title(self, record: Any, kind: str) -> str:
        name = str(record.get("name") or "").strip() or f"Untitled {kind}"
        return self.service.fit_title("System.Title", name)

    def default_field_ops(self, kind: str) -> list[dict[str, Any]]:
        """The ``<kind>_default_fields`` settings: ``[{field, value}]``."""
        entries = self.service.data.get(f"{kind}_default_fields") or []
        return [
            field_op(str(entry["field"]), entry.get("value"))
            for entry in entries
            if isinstance(entry, Mapping) and entry.get("field")
        ]

    def parent_op(self, parent_id: Any) -> dict[str, Any]:
        return {
            "op": "add",
            "path": "/relations/-",
            "value": {"rel": PARENT, "url": self.service.work_item_url(parent_id)},
        }

    # --- create --------------------------------------------------------------------------

    def create(self, record: Any, kind: str, parent_id: Any) -> str:
        service = self.service
        mapping = f"{kind}_mapping"
        item_type = str(service.data.get(mapping))
        ops = [
            field_op("System.Title", self.title(record, kind)),
            field_op("System.Description", description_html(record)),
        ]
        if service.data.get("area"):
            ops.append(field_op("System.AreaPath", str(service.data.get("area"))))
        ops += self.default_field_ops(kind)
        if parent_id:
            ops.append(self.parent_op(parent_id))
        ops += attachment_ops(service, record, set())
        path = (
            f"/{quote(str(service.data.get('project')), safe='')}/_apis/wit/workitems/"
            f"${quote(item_type, safe='')}"
        )
        response = service.tracker_request(
            "POST", path, data=json.dumps(ops), headers=PATCH_HEADERS, accept=(400, 404)
        )
        refused = response.status_code >= 400 and UNKNOWN_TYPE in (response.text or "")
        if response.status_code == 404 or refused:
            raise ConfigurationError(
                f"The project has no work item type {item_type!r} ({mapping}); press Install "
                "and choose another"
            )
        service.check_tracker_response(response, "POST", path)
        item = response.json() if response.content.strip() else {}
        item_id = item.get("id") if isinstance(item, Mapping) else None
        if not item_id:
            raise RemoteError(f"Azure DevOps answered POST {path} without a work item id")
        web = ((item.get("_links") or {}).get("html") or {}).get("href")
        service.write_links(record, {"id": item_id, "url": web or item.get("url")})
        service.logger.info(f"Created Azure DevOps work item {item_id}")
        return str(item_id)

    # --- update --------------------------------------------------------------------------

    def update(self, item_id: str, record: Any, kind: str, parent_id: Any) -> str:
        service = self.service
        path = f"/_apis/wit/workitems/{quote(item_id, safe='')}"
        item = service.tracker_json("GET", path, params={"$expand": "all"}, shape="object") or {}
        ops = self.changed_field_ops(item.get("fields") or {}, record, kind)
        if parent_id:
            ops += self.parent_ops(item.get("relations") or [], parent_id)
        ops += attachment_ops(service, record, attached_names(item))
        if not ops:
            service.logger.info(f"Azure DevOps work item {item_id} is up to date")
            return item_id
        service.tracker_request("PATCH", path, data=json.dumps(ops), headers=PATCH_HEADERS)
        service.logger.info(f"Updated Azure DevOps work item {item_id}")
        return item_id

    def changed_field_ops(
        self, fields: Mapping[str, Any], record: Any, kind: str
    ) -> list[dict[str, Any]]:
        ops = []
        for name, value in (
            ("System.Title", self.title(record, kind)),
            ("System.Description", description_html(record)),
        ):
            if fields.get(name) != value:
                ops.append(field_op(name, value, "replace" if name in fields else "add"))
        return ops

    def parent_ops(self, relations: list[Any], parent_id: Any) -> list[dict[str, Any]]:
        """Another parent removed (by id, highest index first) and this one added; nothing
        when it is already the parent."""
        parents = [
            (index, linked_id(relation.get("url")))
            for index, relation in enumerate(relations)
            if relation.get("rel") == PARENT
        ]
        if any(found == str(parent_id) for _, found in parents):
            return []
        removals = [
            {"op": "remove", "path": f"/relations/{index}"} for index, _ in reversed(parents)
        ]
        return [*removals, self.parent_op(parent_id)]
