"""The settings both Azure DevOps services share, and the selects read from ``meta_data``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.core import callback_url, install_button, internal, select
from services.core.kits.tracker import labelled
from services.core.schema import Field


def chosen_project(meta_data: Any, data: Any) -> Mapping[str, Any]:
    """The project ``installed`` loaded for the chosen ``project``; empty when there is none."""
    project = (meta_data.get("projects") or {}).get(str(data.get("project") or ""))
    return project if isinstance(project, Mapping) else {}


def projects(meta_data: Any, data: Any) -> list[list[Any]]:
    """The ``project`` select: ``[name, id]`` sorted by name."""
    return labelled((meta_data.get("projects") or {}).values(), "name", "id")


def areas(meta_data: Any, data: Any) -> list[list[Any]]:
    """The chosen project's area paths, in tree order."""
    return [[path, path] for path in chosen_project(meta_data, data).get("areas") or []]


def work_item_types(meta_data: Any, data: Any) -> list[list[Any]]:
    """The work item types the chosen project offers, by name."""
    workflow = chosen_project(meta_data, data).get("workflow")
    workflow_set = (meta_data.get("workflow_sets") or {}).get(str(workflow or "")) or {}
    names = (workflow_set.get("feature_mappings") or {}).keys()
    return [[name, name] for name in sorted(names, key=str.casefold)]


def caption_for(product: str) -> Any:
    def caption(workspace_type: str) -> str:
        records = "activities" if workspace_type == "marketing_workspace" else "features"
        return f"Send {records} and requirements to Microsoft {product}"

    return caption


def shared_fields(product: str) -> tuple[Field, ...]:
    """Everything after the connection settings, as Aha! stores it for both services."""
    return (
        install_button(),
        select(
            "project",
            collection=projects,
            description="The project to create work items in; press Install first to load "
            "the projects, their areas, work item types and states.",
        ),
        select(
            "area",
            collection=areas,
            description="The area of the project new work items go to; empty: the project's "
            "root area.",
        ),
        select(
            "feature_mapping",
            collection=work_item_types,
            description="The work item type features become (Feature, Epic, User Story, ...).",
        ),
        internal("feature_status_mapping"),
        internal("feature_default_fields"),
        select(
            "requirement_mapping",
            collection=work_item_types,
            description="The work item type requirements become; they are children of the "
            "feature's work item.",
        ),
        internal("requirement_status_mapping"),
        internal("requirement_default_fields"),
        callback_url(
            description=f"Add this address as a {product} service hook (Web Hooks, "
            "'Work item updated') so that names, descriptions and states come back to Aha!."
        ),
    )
