"""Aha! records as open-or-closed issues with labels and a task list (GitHub, GitLab).

Both trackers keep the Aha! status as an ``Aha!:<status>`` label when asked, map
``open`` and ``closed`` to Aha! statuses, and can list requirements as a task list
in the feature's issue.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.core.kits.tracker import TrackerService
from services.core.markup import display_name, html_to_markdown
from services.core.text_limits import cut_text

STATUS_LABEL_PREFIX = "Aha!:"
ISSUE_STATES = ("open", "closed")
CHECKLIST_INDENT = "    "


def status_label(status_name: Any) -> str:
    return f"{STATUS_LABEL_PREFIX}{status_name}"


def is_status_label(label: Any) -> bool:
    return str(label).startswith(STATUS_LABEL_PREFIX)


def tag_list(tags: Any) -> list[str]:
    """Aha! tags as a list of names, whether sent as a list or as ``"a,b"``."""
    if isinstance(tags, str):
        tags = tags.split(",")
    return [str(tag).strip() for tag in tags or [] if str(tag).strip()]


def issue_labels(record: Any, *, with_status: bool) -> list[str]:
    """The record's tags; with status labels, plus ``Aha!:<status>`` instead of older ones."""
    labels = tag_list(record.get("tags"))
    if with_status:
        labels = [label for label in labels if not is_status_label(label)]
        status_name = (record.get("workflow_status") or {}).get("name")
        if status_name:
            labels.append(status_label(status_name))
    return labels


def status_mapping(value: Any) -> dict[str, str]:
    """``{"open"|"closed": <Aha! status id>}`` from the setting; empty when unset."""
    if not isinstance(value, Mapping):
        return {}
    return {
        state: str(value[state]) for state in ISSUE_STATES if value.get(state) not in (None, "")
    }


def mapped_state(mapping: Mapping[str, str], status: Any) -> str | None:
    """The issue state an Aha! status maps to; None when unmapped or mapped to both states."""
    status_id = str((status or {}).get("id") or "")
    states = [state for state, mapped in mapping.items() if status_id and mapped == status_id]
    return states[0] if len(states) == 1 else None


def _markdown(record: Any) -> str:
    return html_to_markdown((record.get("description") or {}).get("body") or "", github=True)


def checklist(requirements: Any) -> str:
    """``- [ ] <name>`` per requirement (``[x]`` when complete), its text indented below."""
    items = []
    for requirement in requirements or []:
        complete = (requirement.get("workflow_status") or {}).get("complete")
        lines = [f"- [{'x' if complete else ' '}] {display_name(requirement)}"]
        detail = [_markdown(requirement), *TrackerService.attachment_lines(requirement)]
        lines += [
            CHECKLIST_INDENT + line for line in "\n".join(detail).splitlines() if line.strip()
        ]
        items.append("\n".join(lines))
    return "\n".join(items)


def issue_body(
    record: Any, *, with_checklist: bool, footer: str | None = None, limit: int | None = None
) -> str:
    """The description, the requirements as a task list if so mapped, attachments, origin,
    and an optional last line; within ``limit``, cutting before the origin line."""
    parts = [_markdown(record)]
    if with_checklist:
        parts.append(checklist(record.get("requirements")))
    parts.append("\n".join(TrackerService.attachment_lines(record)))
    last = [TrackerService.created_from_aha(record), footer or ""]
    return cut_text(
        "\n\n".join(part for part in parts if part),
        limit,
        url=record.get("url") or None,
        keep="\n\n".join(part for part in last if part),
    )
