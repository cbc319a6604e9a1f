"""What Aha! features and requirements become in Rally: the element names the
``feature_and_requirement_type`` setting chose, and their paths and body keys."""

from __future__ import annotations

from typing import Any

USER_STORY = "UserStory"


def element_names(setting: Any) -> tuple[str, str]:
    """``(feature element, requirement element)`` from ``<F>::<R>``; user stories when unset."""
    text = str(setting or "").strip()
    if not text:
        return USER_STORY, USER_STORY
    feature, _, requirement = text.partition("::")
    return feature.strip() or USER_STORY, requirement.strip() or feature.strip() or USER_STORY


def type_path(element: str) -> str:
    """The collection path of an element: ``hierarchicalrequirement``, ``portfolioitem/feature``."""
    if element == USER_STORY:
        return "hierarchicalrequirement"
    return f"portfolioitem/{element.lower()}"


def body_key(element: str) -> str:
    """The key a create or update body wraps the object in."""
    return "HierarchicalRequirement" if element == USER_STORY else element


def detail_kind(element: str) -> str:
    """The kind of object in a Rally page address."""
    return "userstory" if element == USER_STORY else f"portfolioitem/{element.lower()}"
