"""Install: the projects, workspaces, portfolio item types, custom fields and states that
the selects and mappings offer, read into ``meta_data``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from services.rally.queries import query_all, ref_path

if TYPE_CHECKING:
    from services.rally.service import Rally

PROJECT_PAGE = 100
WORKSPACE_PAGE = 100
PORTFOLIO_TYPES = "((TypePath contains PortfolioItem) AND (Ordinal >= 0))"
STORY_TYPE = "(ElementName = HierarchicalRequirement)"
# What a workspace's configuration keeps for later events: the time zone of its dates.
CONFIGURATION_KEYS = ("TimeZone", "DateFormat", "DateTimeFormat", "WorkDays")
CUSTOM_FIELD_KEYS = ("AttributeType", "Name", "ElementName")
TYPE_KEYS = ("ObjectID", "_ref", "Name", "ElementName", "Ordinal", "TypePath")


def _slice(item: Any, keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: item.get(key) for key in keys if key in item}


def custom_fields(attributes: list[Any]) -> list[dict[str, Any]]:
    """The custom attributes of a type, as the field mappings name them."""
    return [_slice(a, CUSTOM_FIELD_KEYS) for a in attributes if a.get("Custom")]


class Install:
    def __init__(self, service: Rally):
        self.service = service
        self.params = service.workspace_params()

    def load(self) -> None:
        meta = self.service.meta_data
        meta.projects = self.projects()
        meta.workspaces = self.workspaces()
        types = self.portfolio_types()
        story_attributes = self.attributes(self.story_type())
        meta.type_definitions = types
        meta.custom_fields = {
            "UserStory": custom_fields(story_attributes),
            **{str(t.get("Name")): t.get("CustomFields") or [] for t in types},
        }
        meta.state_definitions = self.states(story_attributes)
        meta.install_successful = True
        self.service.logger.info(
            f"Read {len(meta.projects)} Rally projects and {len(meta.workspaces)} workspaces"
        )

    def projects(self) -> list[dict[str, Any]]:
        """``[{ObjectID, _ref, Name, _refObjectUUID, ParentUUID}]`` sorted by name."""
        workspace = str(self.service.data.get("workspace") or "").strip()
        path = f"/workspace/{workspace}/projects" if workspace else "/projects"
        found = query_all(self.service, path, {"fetch": "true"}, page_size=PROJECT_PAGE)
        projects = [
            {
                **_slice(project, ("ObjectID", "_ref", "Name", "_refObjectUUID")),
                "ParentUUID": (project.get("Parent") or {}).get("_refObjectUUID"),
            }
            for project in found
        ]
        return sorted(projects, key=lambda p: str(p.get("Name") or "").casefold())

    def workspaces(self) -> list[dict[str, Any]]:
        """``[{ObjectID, Name, Configuration: {WorkspaceConfiguration: {TimeZone, ...}}}]``."""
        subscription = self.service.tracker_json("GET", "/subscription", shape="object") or {}
        ref = ((subscription.get("Subscription") or {}).get("Workspaces") or {}).get("_ref")
        if not ref:
            return []
        workspaces = []
        for found in query_all(self.service, ref_path(ref), page_size=WORKSPACE_PAGE):
            configuration_ref = (found.get("WorkspaceConfiguration") or {}).get("_ref")
            configuration: dict[str, Any] = {}
            if configuration_ref:
                answer = (
                    self.service.tracker_json("GET", ref_path(configuration_ref), shape="object")
                    or {}
                )
                configuration = _slice(
                    answer.get("WorkspaceConfiguration") or {}, CONFIGURATION_KEYS
                )
            workspaces.append(
                {
                    **_slice(found, ("ObjectID", "Name")),
                    "Configuration": {"WorkspaceConfiguration": configuration},
                }
            )
        return sorted(workspaces, key=lambda w: str(w.get("Name") or "").casefold())

    def type_definitions(self, query: str) -> list[Any]:
        return query_all(
            self.service, "/typedefinition", {"query": query, "fetch": "true", **self.params}
        )

    def portfolio_types(self) -> list[dict[str, Any]]:
        """The portfolio item types, lowest (Ordinal 0, the Feature) first, with their
        custom fields."""
        found = sorted(self.type_definitions(PORTFOLIO_TYPES), key=lambda t: t.get("Ordinal") or 0)
        return [
            {**_slice(t, TYPE_KEYS), "CustomFields": custom_fields(self.attributes(t))}
            for t in found
        ]

    def story_type(self) -> Any:
        found = self.type_definitions(STORY_TYPE)
        return found[0] if found else None

    def attributes(self, definition: Any) -> list[Any]:
        ref = ((definition or {}).get("Attributes") or {}).get("_ref")
        return query_all(self.service, ref_path(ref), {"fetch": "true"}) if ref else []

    def states(self, story_attributes: list[Any]) -> dict[str, list[str]]:
        """Portfolio item states by type name, in Rally's order, and the stories'
        schedule states under ``UserStory``."""
        found = query_all(
            self.service, "/state", {"order": "OrderIndex", "fetch": "true", **self.params}
        )
        states: dict[str, list[str]] = {}
        for state in found:
            type_name = (state.get("TypeDef") or {}).get("_refObjectName")
            if type_name and state.get("Name"):
                states.setdefault(str(type_name), []).append(str(state["Name"]))
        schedule = next(
            (a for a in story_attributes if a.get("ElementName") == "ScheduleState"), None
        )
        allowed = ((schedule or {}).get("AllowedValues") or {}).get("_ref")
        if allowed:
            values = query_all(self.service, ref_path(allowed))
            states["UserStory"] = [str(v["StringValue"]) for v in values if v.get("StringValue")]
        return states
