"""What ``installed`` reads: every project, its work item types with their states and
fields, and its areas, kept in ``meta_data`` for the selects and the status mapping.

Projects with the same types share one workflow entry, and types with the same states or
fields one entry of ``status_sets`` or ``field_sets``, keyed by a digest of the content:
the same content gets the same key in every process and on every install.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from services.core.json_shapes import expect_shape

if TYPE_CHECKING:
    from services.azure_devops.service import AzureDevOps

PAGE_SIZE = 100
MAX_PAGES = 100
AREA_DEPTH = 10
# The category of the types Azure keeps for itself (Code Review Request, Shared Steps, ...).
HIDDEN_CATEGORY = "Microsoft.HiddenCategory"


def digest(value: Any) -> str:
    """A key for ``value`` that depends only on its content."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def area_paths(node: Mapping[str, Any], prefix: str = "", depth: int = 0) -> list[str]:
    """The node's path and its children's, names joined with ``\\`` as work items hold them."""
    path = f"{prefix}{node.get('name')}"
    paths = [path]
    if depth < AREA_DEPTH:
        for child in node.get("children") or []:
            paths += area_paths(child, f"{path}\\", depth + 1)
    return paths


def statuses(work_item_type: Mapping[str, Any]) -> list[str]:
    """The type's state names, sorted: from ``states``, or an older server's transitions."""
    states = work_item_type.get("states")
    if states:
        names = [str(state.get("name")) for state in states if state.get("name")]
    else:
        names = [str(name) for name in (work_item_type.get("transitions") or {}) if name]
    return sorted(set(names))


def fields(work_item_type: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The type's fields without their API addresses, sorted by reference name."""
    instances = work_item_type.get("fieldInstances") or work_item_type.get("fields") or []
    kept = [{k: v for k, v in field.items() if k != "url"} for field in instances]
    return sorted(kept, key=lambda field: str(field.get("referenceName") or ""))


class ProjectData:
    def __init__(self, service: AzureDevOps):
        self.service = service
        self.status_sets: dict[str, Any] = {}
        self.field_sets: dict[str, Any] = {}
        self.workflow_sets: dict[str, Any] = {}

    def load(self) -> None:
        projects = self.projects()
        for project in projects.values():
            project["workflow"] = self.workflow(project["id"])
            project["areas"] = self.areas(project["id"])
        meta_data = self.service.meta_data
        meta_data.projects = projects
        meta_data.workflow_sets = self.workflow_sets
        meta_data.status_sets = self.status_sets
        meta_data.field_sets = self.field_sets

    def projects(self) -> dict[str, dict[str, Any]]:
        """Every project, ``$top`` at a time, until a short page."""
        found: dict[str, dict[str, Any]] = {}
        read = 0
        for _ in range(MAX_PAGES):
            answer = self.service.tracker_json(
                "GET", "/_apis/projects", params={"$top": PAGE_SIZE, "$skip": read}, shape="object"
            )
            page = _values(answer, "GET /_apis/projects")
            read += len(page)
            for project in page:
                found[str(project.get("id"))] = {
                    "id": project.get("id"),
                    "name": project.get("name"),
                }
            if len(page) < PAGE_SIZE:
                return found
        self.service.logger.warn(f"Stopped listing Azure DevOps projects after {read}")
        return found

    def workflow(self, project_id: str) -> str:
        """The key of the project's types in ``workflow_sets``."""
        base = f"/{quote(project_id, safe='')}/_apis/wit"
        categories = (
            self.service.tracker_json("GET", f"{base}/workitemtypecategories", shape="object") or {}
        )
        names: list[str] = []
        for category in _values(categories, f"GET {base}/workitemtypecategories"):
            if category.get("referenceName") == HIDDEN_CATEGORY:
                continue
            names += [str(t.get("name")) for t in category.get("workItemTypes") or []]
        types = self.service.tracker_json("GET", f"{base}/workitemtypes", shape="object") or {}
        by_name = {str(t.get("name")): t for t in _values(types, f"GET {base}/workitemtypes")}
        mappings = {}
        for name in sorted(set(names), key=str.casefold):
            work_item_type = by_name.get(name)
            if work_item_type is None or work_item_type.get("isDisabled"):
                continue
            mappings[name] = {
                "name": name,
                "statuses": self.keep(self.status_sets, statuses(work_item_type)),
                "fields": self.keep(self.field_sets, fields(work_item_type)),
            }
        return self.keep(self.workflow_sets, {"feature_mappings": mappings})

    @staticmethod
    def keep(sets: dict[str, Any], value: Any) -> str:
        key = digest(value)
        sets.setdefault(key, value)
        return key

    def areas(self, project_id: str) -> list[str]:
        root = self.service.tracker_json(
            "GET",
            f"/{quote(project_id, safe='')}/_apis/wit/classificationnodes/areas",
            params={"$depth": AREA_DEPTH},
        )
        return area_paths(root) if root else []


def _values(answer: Any, request: str) -> list[dict[str, Any]]:
    """The objects of an answer's ``value`` list (Azure DevOps' envelope)."""
    values = (answer or {}).get("value") or []
    return expect_shape(values, "objects", f"Azure DevOps answered {request} with a value")
