"""What ``installed`` reads from Jira and keeps in ``meta_data``: fields, projects,
resolutions, and the chosen project's issue types with their fields and statuses.

Only reads: nothing is created in Jira. Old servers are met on their own APIs: the
project list before ``/project/search``, the expanded ``createmeta`` before Jira 8.4,
``/status`` when the project's statuses cannot be read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from services.core import ConfigurationError
from services.core.json_shapes import expect_shape

if TYPE_CHECKING:
    import requests

    from services.core.json_shapes import JsonShape
    from services.jira.service import Jira

MAX_PAGES = 100
EPIC_NAME_SCHEMA = "com.pyxis.greenhopper.jira:gh-epic-label"
EPIC_LINK_SCHEMA = "com.pyxis.greenhopper.jira:gh-epic-link"
STORY_POINTS_NAMES = ("Story Points", "Story point estimate")
AHA_REFERENCE_NAME = "Aha! Reference"
AHA_POSITION_NAMES = ("Aha! Position", "Aha! Rank")
NOT_FOUND = (404,)


def _segment(value: Any) -> str:
    return quote(str(value), safe="")


def find_project(meta_data: Any, key: Any) -> Mapping[str, Any] | None:
    """The project whose key is ``key``, case-insensitively."""
    wanted = str(key or "").casefold()
    for project in meta_data.get("projects") or []:
        if str(project.get("key") or "").casefold() == wanted:
            return project
    return None


def _field_id(fields: Mapping[str, Any], *, custom: str = "", names: Iterable[str] = ()) -> Any:
    names = tuple(names)
    for field_id, field in fields.items():
        if custom and field.get("custom") == custom:
            return field_id
        if names and field.get("name") in names:
            return field_id
    return None


def _json(response: requests.Response, shape: JsonShape) -> Any:
    """An answer's JSON of ``shape``, None for an empty body (``http.json_body``)."""
    from services.core.http import json_body

    return json_body(response, "Jira", shape) if response.content.strip() else None


class ProjectData:
    """Loads the project data into the service's ``meta_data``."""

    def __init__(self, service: Jira):
        self.service = service
        self.meta_data = service.meta_data

    # --- what an event needs first --------------------------------------------------------

    def ensure_project(self) -> Mapping[str, Any]:
        """The configured project, with its types loaded; reads them when missing."""
        key = self.service.data.get("project")
        if not key:
            raise ConfigurationError(
                "No Jira project is chosen (project); choose one and press 'Load project data'"
            )
        if not self.meta_data.get("fields") or self.types_of(key) is None:
            self.load()
        project = find_project(self.meta_data, key)
        if project is None:
            raise ConfigurationError(f"The Jira project {key} (project) was not found")
        return project

    def types_of(self, key: Any) -> list[Any] | None:
        wanted = str(key or "").casefold()
        for project_key, types in (self.meta_data.get("issue_types") or {}).items():
            if str(project_key).casefold() == wanted:
                return types
        return None

    # --- reads ----------------------------------------------------------------------------

    def load(self) -> None:
        """Every read ``installed`` does; the project's types when one is chosen."""
        self.load_fields()
        self.meta_data.projects = self.projects()
        self.meta_data.resolutions = [
            {"id": r.get("id"), "name": r.get("name")}
            for r in self.service.tracker_json("GET", "/resolution", shape="objects") or []
        ]
        key = self.service.data.get("project")
        if key:
            project = find_project(self.meta_data, key)
            if project is None:
                raise ConfigurationError(f"The Jira project {key} (project) was not found")
            issue_types = dict(self.meta_data.get("issue_types") or {})
            issue_types[project["key"]] = self.project_types(project["key"])
            self.meta_data.issue_types = issue_types

    def load_fields(self) -> None:
        fields: dict[str, Any] = {}
        for field in self.service.tracker_json("GET", "/field", shape="objects") or []:
            schema = field.get("schema") if isinstance(field.get("schema"), dict) else {}
            fields[str(field.get("id"))] = {
                "name": field.get("name"),
                "type": schema.get("type"),
                "items": schema.get("items"),
                "custom": schema.get("custom"),
            }
        self.meta_data.fields = fields
        self.meta_data.epic_name_field = _field_id(fields, custom=EPIC_NAME_SCHEMA)
        self.meta_data.epic_link_field = _field_id(fields, custom=EPIC_LINK_SCHEMA)
        self.meta_data.story_points_field = _field_id(fields, names=STORY_POINTS_NAMES)
        self.meta_data.aha_reference_field = _field_id(fields, names=(AHA_REFERENCE_NAME,))
        self.meta_data.aha_position_field = _field_id(fields, names=AHA_POSITION_NAMES)

    def paged(self, path: str, keys: Iterable[str]) -> list[Any] | None:
        """Every item of a ``startAt`` paged list (under the first of ``keys`` present);
        None when Jira answers 404 (an API this server does not have)."""
        keys = tuple(keys)
        items: list[Any] = []
        start = 0
        for _ in range(MAX_PAGES):
            separator = "&" if "?" in path else "?"
            response = self.service.tracker_request(
                "GET", f"{path}{separator}startAt={start}", accept=NOT_FOUND
            )
            if response.status_code == 404:
                if items:
                    self.service.check_tracker_response(response, "GET", path)
                return None
            page = _json(response, "object") or {}
            values: list[Any] = next(
                (page[key] for key in keys if isinstance(page.get(key), list)), []
            )
            expect_shape(values, "objects", f"Jira answered GET {path} with a page of items")
            items.extend(values)
            size = page.get("maxResults")
            if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
                size = len(values)
            total = page.get("total")
            last = page.get("isLast")
            if last is None:
                last = isinstance(total, int) and start + len(values) >= total
            if last or not values:
                return items
            start += size
        self.service.logger.warn(f"Stopped reading {path} after {MAX_PAGES} pages")
        return items

    def projects(self) -> list[dict[str, Any]]:
        found = self.paged("/project/search", ("values",))
        if found is None:  # a Jira Server older than 7.0
            found = self.service.tracker_json("GET", "/project", shape="objects") or []
        return [{"id": p.get("id"), "key": p.get("key"), "name": p.get("name")} for p in found]

    # --- issue types ----------------------------------------------------------------------

    def project_types(self, key: str) -> list[dict[str, Any]]:
        """The project's issue types, each with the field ids its create screen takes and
        the statuses its workflow has."""
        types = self.createmeta_types(key)
        if types is None:
            types = self.expanded_createmeta_types(key)
        statuses = self.statuses(key)
        for issue_type in types:
            issue_type["statuses"] = statuses.get(str(issue_type["id"]), statuses.get("*", []))
        return types

    def createmeta_types(self, key: str) -> list[dict[str, Any]] | None:
        """Jira 8.4 and later (and Cloud): types, then each type's fields, page by page."""
        path = f"/issue/createmeta/{_segment(key)}/issuetypes"
        found = self.paged(path, ("values", "issueTypes"))
        if found is None:
            return None
        types = []
        for item in found:
            fields = self.paged(f"{path}/{_segment(item.get('id'))}", ("values", "fields")) or []
            types.append(
                {
                    "id": str(item.get("id")),
                    "name": item.get("name"),
                    "subtask": bool(item.get("subtask")),
                    "fields": [f.get("fieldId") or f.get("key") for f in fields],
                }
            )
        return types

    def expanded_createmeta_types(self, key: str) -> list[dict[str, Any]]:
        """Jira before 8.4: one expanded answer with every type and its fields."""
        answer = (
            self.service.tracker_json(
                "GET",
                "/issue/createmeta",
                params={"projectKeys": key, "expand": "projects.issuetypes.fields"},
                shape="object",
            )
            or {}
        )
        project: dict[str, Any] = next(
            (
                p
                for p in answer.get("projects") or []
                if str(p.get("key")).casefold() == key.casefold()
            ),
            {},
        )
        return [
            {
                "id": str(t.get("id")),
                "name": t.get("name"),
                "subtask": bool(t.get("subtask")),
                "fields": list((t.get("fields") or {}).keys()),
            }
            for t in project.get("issuetypes") or []
        ]

    def statuses(self, key: str) -> dict[str, list[dict[str, Any]]]:
        """Issue type id -> its statuses; ``*`` for every type when only ``/status`` answers."""
        response = self.service.tracker_request(
            "GET", f"/project/{_segment(key)}/statuses", accept=NOT_FOUND
        )
        if response.status_code == 404:
            everything = self.service.tracker_json("GET", "/status", shape="objects") or []
            return {"*": [{"id": str(s.get("id")), "name": s.get("name")} for s in everything]}
        return {
            str(t.get("id")): [
                {"id": str(s.get("id")), "name": s.get("name")} for s in t.get("statuses") or []
            ]
            for t in _json(response, "objects") or []
        }
