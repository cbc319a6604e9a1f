"""GitLab issue webhooks: a linked issue's title, state and labels move the Aha! record.

The labels come from the webhook body; GitLab is only called back to fix the
issue's ``Aha!:`` labels (one left, naming the status).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from services.core.kits.issue_tracking import (
    STATUS_LABEL_PREFIX,
    is_status_label,
    status_label,
    tag_list,
)

if TYPE_CHECKING:
    from services.gitlab_issues.service import GitlabIssues

STATE_ACTIONS = ("open", "close", "reopen")
# Actions after which the issue's labels are the truth for the record's tags.
TAG_ACTIONS = ("update", "close", "reopen")


def _titles(labels: list[Any]) -> list[str]:
    titles = [label.get("title") if isinstance(label, dict) else label for label in labels]
    return [str(title) for title in titles if title]


def label_titles(payload: Any) -> list[str] | None:
    """The issue's labels after the change; None when the body does not say."""
    attributes = payload.get("object_attributes") or {}
    for labels in (payload.get("labels"), attributes.get("labels")):
        if isinstance(labels, list):
            return _titles(labels)
    return None


def previous_label_titles(payload: Any) -> list[str]:
    """The labels before the change, when the body lists them under ``changes``."""
    previous = ((payload.get("changes") or {}).get("labels") or {}).get("previous")
    return _titles(previous) if isinstance(previous, list) else []


def chosen_status_label(labels: list[str], previous: list[str]) -> str | None:
    """The ``Aha!:`` label that names the status: the one just added, else the last one."""
    statuses = [label for label in labels if is_status_label(label)]
    chosen = [label for label in statuses if label not in previous] or statuses
    return chosen[-1] if chosen else None


def issue_state(attributes: Any) -> str:
    """``closed`` or ``open``, the keys of the status mapping."""
    state = attributes.get("state")
    if state:
        return "closed" if state == "closed" else "open"
    return "closed" if attributes.get("action") == "close" else "open"


def apply_webhook(service: GitlabIssues) -> None:
    """Find the record linked to the issue, PUT what changed, then fix the issue's labels."""
    payload = service.payload
    attributes = payload.get("object_attributes") or {}
    if payload.get("object_kind") != "issue":
        kind = payload.get("object_kind") or "unknown"
        service.logger.info(f"Ignoring a GitLab {kind} webhook: only issue events count")
        return
    if not attributes.get("id") or not attributes.get("action"):
        service.logger.info("Ignoring a GitLab issue webhook without an issue id or action")
        return
    if not is_configured_project(service, payload):
        path = (payload.get("project") or {}).get("path_with_namespace") or "unknown"
        service.logger.info(
            f"Ignoring a webhook from GitLab project {path}: "
            f"this integration sends to {service.configured_project()}"
        )
        return
    found = service.find_linked_record("id", attributes.get("id"))
    if found is None:
        return
    kind, record = found
    labels = label_titles(payload)
    changes = record_changes(service, record, payload, labels)
    answer = service.update_linked_record(kind, record, changes)
    wanted = wanted_labels(service, payload, labels, changes, (answer or {}).get(kind))
    if wanted is not None and attributes.get("iid"):
        service.put_issue_labels(attributes.get("iid"), wanted)


def is_configured_project(service: GitlabIssues, payload: Any) -> bool:
    """Whether the webhook speaks of the project the settings name, by id or by path."""
    configured = service.configured_project()
    repo = service.project_repo()
    project = payload.get("project") or {}
    ids = {
        str(project.get("id") or ""),
        str((payload.get("object_attributes") or {}).get("project_id") or ""),
    }
    if repo and repo.get("id") not in (None, "") and str(repo.get("id")) in ids:
        return True
    wanted = str((repo.get("path_with_namespace") if repo else None) or configured)
    path = str(project.get("path_with_namespace") or "")
    return bool(path) and path.casefold() == wanted.casefold()


def record_changes(
    service: GitlabIssues, record: Any, payload: Any, labels: list[str] | None
) -> dict[str, Any]:
    """The Aha! fields the issue's new title, state or labels change."""
    attributes = payload.get("object_attributes") or {}
    action = attributes.get("action")
    status = record.get("workflow_status") or {}
    changes: dict[str, Any] = {}
    title = attributes.get("title")
    sent = service.record_title(record)
    # A title GitLab holds cut to its limit is not a rename.
    if title and title not in (sent, service.fit_title("title", sent)):
        changes["name"] = title
    if action in STATE_ACTIONS:
        status_id = service.status_mapping().get(issue_state(attributes))
        if status_id and status_id != str(status.get("id") or ""):
            changes["workflow_status"] = status_id
    if labels is None:
        return changes
    if action == "update" and service.add_status_labels():
        chosen = chosen_status_label(labels, previous_label_titles(payload))
        name = chosen[len(STATUS_LABEL_PREFIX) :].strip() if chosen else ""
        if name and name != status.get("name"):
            changes["workflow_status"] = name
    if action in TAG_ACTIONS:
        tags = [label for label in labels if not is_status_label(label)]
        if set(tags) != set(tag_list(record.get("tags"))):
            changes["tags"] = tags
    return changes


def wanted_labels(
    service: GitlabIssues,
    payload: Any,
    labels: list[str] | None,
    changes: dict[str, Any],
    updated_record: Any,
) -> list[str] | None:
    """The labels the issue should carry, when its ``Aha!:`` labels are off; else None.

    After an edit, surplus ``Aha!:`` labels go; after the state moved the Aha!
    status, the one ``Aha!:`` label names the new status.
    """
    if labels is None or not service.add_status_labels():
        return None
    action = (payload.get("object_attributes") or {}).get("action")
    others = [label for label in labels if not is_status_label(label)]
    statuses = [label for label in labels if is_status_label(label)]
    if action == "update" and len(statuses) > 1:
        chosen = chosen_status_label(labels, previous_label_titles(payload))
        return [*others, chosen] if chosen else others
    if action in STATE_ACTIONS and "workflow_status" in changes:
        name = ((updated_record or {}).get("workflow_status") or {}).get("name")
        if name and statuses != [status_label(name)]:
            return [*others, status_label(name)]
    return None
