"""GitHub issues and pull_request events moving the linked Aha! record: its name,
status and tags.

GitHub sends the event as the JSON body, or (form-encoded hooks) as JSON text
under ``payload``. GitHub numbers issues and pull requests alike, so a pull
request is handled as the issue of its number: found in Aha! by its ``number``
link, merged or not once closed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from services.core.kits.issue_tracking import STATUS_LABEL_PREFIX, is_status_label, status_label
from services.core.mash import mash
from services.core.webhook_body import carried_body
from services.github_issues.issues import Issues

if TYPE_CHECKING:
    from services.core.mash import Mash
    from services.github_issues.service import GithubIssues

STATE_ACTIONS = ("closed", "reopened")
TAG_ACTIONS = ("closed", "reopened", "labeled", "unlabeled")
LABEL_FOLLOWING_ACTIONS = ("closed", "opened", "reopened")


def issue_event(payload: Mapping[str, Any]) -> Mash | None:
    """The issues event a webhook carried, a pull_request event read as one (its pull
    request under ``issue``); None when it is neither."""
    try:
        body = carried_body(payload)
    except ValueError:
        return None
    if not isinstance(body, Mapping):
        return None
    if "issue" not in body and isinstance(body.get("pull_request"), Mapping):
        body = {**body, "issue": body["pull_request"]}
    issue, repository = body.get("issue"), body.get("repository")
    if not (body.get("action") and isinstance(issue, Mapping) and isinstance(repository, Mapping)):
        return None
    if issue.get("number") in (None, ""):
        return None
    return mash(body)


def label_names(issue: Any) -> list[str]:
    labels = issue.get("labels") or []
    names = [label.get("name") if isinstance(label, Mapping) else label for label in labels]
    return [str(name) for name in names if name]


def is_on(value: Any) -> bool:
    """An integration field's flag, whether Aha! kept it as a boolean or as text."""
    return str(value).strip().lower() not in ("", "none", "false", "0")


class IssueEvent:
    """One issues event and the Aha! record its issue is linked to."""

    def __init__(self, service: GithubIssues, event: Any, kind: str, record: Any):
        self.service, self.kind, self.record = service, kind, record
        self.action, self.issue = str(event.get("action")), event.get("issue")
        labels = label_names(self.issue)
        self.status_labels = [name for name in labels if is_status_label(name)]
        self.plain_labels = [name for name in labels if not is_status_label(name)]
        self.status = record.get("workflow_status") or {}
        # Aha! created the issue: on "opened", Aha!'s status wins over GitHub's open state.
        self.aha_wins = self.action == "opened" and is_on(service.link(record, "sent_from_aha"))

    def apply(self) -> None:
        """Change the Aha! record as the issue changed, then put the issue right."""
        changes = self.record_changes()
        answer = self.service.update_linked_record(self.kind, self.record, changes)
        issue_changes = self.issue_changes(changes, answer)
        if issue_changes:
            Issues(self.service).patch(self.issue.get("number"), issue_changes)

    def record_changes(self) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        title = self.issue.get("title")
        # A title GitHub holds cut to its limit is not a rename.
        sent = self.service.fit_title("title", self.service.record_title(self.record))
        if title and title not in (self.record.get("name"), sent):
            changes["name"] = title
        new_status = self.status_from_state() or self.status_from_label()
        if new_status:
            changes["workflow_status"] = new_status
        tags = {str(tag) for tag in self.record.get("tags") or []}
        if self.action in TAG_ACTIONS and set(self.plain_labels) != tags:
            changes["tags"] = self.plain_labels
        return changes

    def status_from_state(self) -> str | None:
        """The status mapped to the issue's state, when the action moves the state."""
        opened_elsewhere = self.action == "opened" and not self.aha_wins
        if self.action not in STATE_ACTIONS and not opened_elsewhere:
            return None
        mapped = self.service.status_mapping().get(str(self.issue.get("state")))
        return mapped if mapped and mapped != str(self.status.get("id") or "") else None

    def status_from_label(self) -> str | None:
        """The status named by the last Aha!: label, on "labeled" with status labels on."""
        if self.action != "labeled" or not self.service.adds_status_labels:
            return None
        if not self.status_labels:
            return None
        wanted = self.status_labels[-1].removeprefix(STATUS_LABEL_PREFIX)
        return wanted if wanted and wanted != self.status.get("name") else None

    def issue_changes(self, changes: dict[str, Any], answer: Any) -> dict[str, Any]:
        """The issue's state when Aha! wins, and its Aha!: label when that is wrong."""
        issue_changes: dict[str, Any] = {}
        if self.aha_wins and self.service.issue_state_for(self.record) == "closed":
            issue_changes["state"] = "closed"
        if not self.service.adds_status_labels:
            return issue_changes
        if self.action == "labeled" and len(self.status_labels) > 1:
            issue_changes["labels"] = [*self.plain_labels, self.status_labels[-1]]
        elif self.action in LABEL_FOLLOWING_ACTIONS:
            status = self.status
            if "workflow_status" in changes:
                status = ((answer or {}).get(self.kind) or {}).get("workflow_status") or {}
            wanted = status_label(status.get("name")) if status.get("name") else None
            if wanted and self.status_labels != [wanted]:
                issue_changes["labels"] = [*self.plain_labels, wanted]
        return issue_changes
