"""Aha! features and requirements as GitHub issues: their text, labels and state."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from services.core.kits.issue_tracking import issue_labels

if TYPE_CHECKING:
    from services.github_issues.service import GithubIssues


class Issues:
    """The issues of the configured repository."""

    def __init__(self, service: GithubIssues):
        self.service = service

    # --- sending -----------------------------------------------------------------------------

    def send(self, record: Any, milestone: Any, body: str) -> dict[str, Any]:
        """Update the linked issue, or create one when there is no link or it vanished."""
        fields = {
            "title": self.service.fit_title("title", self.service.record_title(record)),
            "body": body,
            "milestone": milestone,
            "labels": issue_labels(record, with_status=self.service.adds_status_labels),
        }
        return self.service.create_or_update(
            self.service.link(record, "number"),
            update=lambda number: self.update(number, fields, record),
            create=lambda: self.create(fields, record),
            what="issue",
        )

    def create(self, fields: dict[str, Any], record: Any) -> dict[str, Any]:
        issue = self.service.github_object("POST", self.service.repo_path("issues"), json=fields)
        self.service.write_links(
            record,
            {"number": issue.get("number"), "url": issue.get("html_url"), "sent_from_aha": True},
        )
        # GitHub opens every new issue; a status mapped to closed closes it straight away.
        if self.service.issue_state_for(record) == "closed":
            self.patch(issue.get("number"), {"state": "closed"})
        return issue

    def update(self, number: Any, fields: dict[str, Any], record: Any) -> dict[str, Any]:
        state = self.service.issue_state_for(record)
        return self.patch(number, {**fields, **({"state": state} if state else {})})

    def patch(self, number: Any, changes: dict[str, Any]) -> dict[str, Any]:
        return self.service.github_object(
            "PATCH", self.service.repo_path("issues", number), json=changes
        )
