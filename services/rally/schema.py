"""The settings Aha! stores for Rally, and the selects computed from ``meta_data``."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from services.core import (
    boolean,
    callback_url,
    install_button,
    internal,
    password,
    select,
    string,
)
from services.core.kits.tracker import labelled

USER_STORY = {"Name": "User Story", "ElementName": "UserStory"}


def workspaces(meta_data: Any, data: Any) -> list[list[Any]]:
    """The ``workspace`` select: ``[Name, ObjectID]``; empty until Install ran."""
    return labelled(meta_data.get("workspaces") or [], "Name", "ObjectID")


def projects(meta_data: Any, data: Any) -> list[list[Any]]:
    """The ``project`` select: ``[Name, ObjectID]``; empty until Install ran."""
    return labelled(meta_data.get("projects") or [], "Name", "ObjectID")


def feature_and_requirement_types(meta_data: Any, data: Any) -> list[list[Any]]:
    """Each level of Rally's hierarchy paired with the one below it, lowest first:
    stories under stories, stories under the lowest portfolio item, and so on up."""
    if not meta_data.get("type_definitions"):
        return []
    levels = [USER_STORY, USER_STORY, *meta_data.get("type_definitions")]
    return [
        [
            f"Feature -> {feature.get('Name')}, Requirement -> {requirement.get('Name')}",
            f"{feature.get('ElementName')}::{requirement.get('ElementName')}",
        ]
        for requirement, feature in pairwise(levels)
    ]


def caption(workspace_type: str) -> str:
    records = (
        "schedules, activities" if workspace_type == "marketing_workspace" else "releases, features"
    )
    return f"Send {records} and requirements to Rally"


SCHEMA = (
    string(
        "server_url",
        label="Server URL",
        description="Rally's address; empty: https://rally1.rallydev.com. Set it for a "
        "dedicated Rally host (keep any path prefix).",
    ),
    string(
        "user_name",
        description="The Rally user's name (an e-mail address). Leave it empty to sign in "
        "with an API key instead of a password.",
    ),
    password(
        "user_password",
        description="The Rally user's password; or, when the user name is empty, an API key "
        "(Rally, API Keys, with full access).",
    ),
    install_button(),
    select(
        "workspace",
        collection=workspaces,
        description="The Rally workspace of the project. After changing it, press Install "
        "again to read its projects.",
    ),
    select(
        "project",
        collection=projects,
        description="The Rally project that records are created in; its webhooks (and its "
        "sub-projects') send changes back.",
    ),
    select(
        "feature_and_requirement_type",
        collection=feature_and_requirement_types,
        description="What Aha! features and requirements become: user stories or portfolio "
        "items. Empty: both are user stories.",
    ),
    internal("feature_status_mapping"),
    internal("feature_default_fields"),
    internal("requirement_status_mapping"),
    internal("requirement_default_fields"),
    boolean(
        "send_tags",
        description="Send Aha! tags as Rally tags (created when missing), and Rally tags back.",
    ),
    boolean(
        "dont_send_releases",
        description="Do not create Rally releases nor set the Release of stories.",
    ),
    callback_url(
        description="Where Rally's webhooks post changes; installed in Rally for the chosen "
        "project and its sub-projects when the integration is saved."
    ),
)
