"""The settings Aha! stores for Jira, and the selects computed from ``meta_data``."""

from __future__ import annotations

from typing import Any

from services.core import (
    boolean,
    callback_url,
    install_button,
    internal,
    select,
    string,
)
from services.core.kits.tracker import labelled
from services.core.schema import Field


def project_types(meta_data: Any, data: Any) -> list[Any]:
    """The issue types ``installed`` loaded for the chosen project; empty when not loaded."""
    project = str(data.get("project") or "").casefold()
    for key, types in (meta_data.get("issue_types") or {}).items():
        if str(key).casefold() == project and project:
            return list(types or [])
    return []


def projects(meta_data: Any, data: Any) -> list[list[Any]]:
    """The ``project`` select: ``[name, key]`` sorted by name."""
    return labelled(meta_data.get("projects") or [], "name", "key")


def feature_issue_types(meta_data: Any, data: Any) -> list[list[Any]]:
    """The project's standard (not sub-task) types, in Jira's order."""
    return [
        [t.get("name"), t.get("id")] for t in project_types(meta_data, data) if not t.get("subtask")
    ]


def requirement_issue_types(meta_data: Any, data: Any) -> list[list[Any]]:
    """Every type of the project, sub-tasks included: a requirement is often a sub-task."""
    return [[t.get("name"), t.get("id")] for t in project_types(meta_data, data)]


def caption(workspace_type: str) -> str:
    records = "activities" if workspace_type == "marketing_workspace" else "features"
    return f"Send {records} to Jira issue tracking (Jira Cloud, Server and Data Center)"


SERVER_URL = string(
    "server_url",
    label="Server URL",
    description="Address of your Jira site, e.g. https://acme.atlassian.net or "
    "https://jira.example.com/jira (keep the context path).",
)


def project_fields(tracker: str = "Jira") -> tuple[Field, ...]:
    """Everything after the credentials, shared by ``jira`` and ``jira_connect``."""
    return (
        install_button(),
        select(
            "project",
            collection=projects,
            description=f"The {tracker} project to send to; choose it, then press "
            "'Load project data' to read its issue types, fields and statuses.",
            configure_button="Load project data",
        ),
        boolean(
            "send_initiatives",
            description="Send a feature's initiative as an Epic and make the issue its child.",
        ),
        select(
            "feature_issue_type",
            collection=feature_issue_types,
            description="The issue type of features (Story, or Epic when requirements "
            "become its children).",
        ),
        select(
            "requirement_issue_type",
            collection=requirement_issue_types,
            description="The issue type of requirements: Sub-task makes them sub-tasks of the "
            "feature's issue. Empty: the feature's type.",
        ),
        internal("feature_status_mapping"),
        internal("requirement_status_mapping"),
        internal("field_mapping"),
        internal("requirement_field_mapping"),
        boolean("send_tags", description="Send Aha! tags as Jira labels, and labels back as tags."),
        boolean(
            "dont_send_releases",
            description="Do not create Jira versions for releases nor set issues' fix versions.",
        ),
        callback_url(
            description=f"Add this address as a {tracker} webhook for 'Issue updated' events "
            "so that status and name changes come back to Aha!."
        ),
    )
