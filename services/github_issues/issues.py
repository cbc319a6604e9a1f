"""Aha! features and requirements as GitHub issues: their text, labels and state."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from services.core.markup import html_to_markdown

if TYPE_CHECKING:
    from services.github_issues.service import GithubIssues

STATUS_LABEL_PREFIX = "Aha!:"
CHECKLIST_INDENT = "    "


def status_label(status_name: Any) -> str:
    return f"{STATUS_LABEL_PREFIX}{status_name}"


def is_status_label(name: str) -> bool:
    return name.startswith(STATUS_LABEL_PREFIX)


class Issues:
    """The issues of the configured repository."""

    def __init__(self, service: GithubIssues):
        self.service = service

    # --- what an issue holds -----------------------------------------------------------------

    def body(self, record: Any, *, with_checklist: bool = False) -> str:
        """The description, the requirements as a checklist if asked, attachments, origin."""
        description = record.get("description") or {}
        parts = [html_to_markdown(description.get("body") or "", github=True)]
        if with_checklist:
            parts.append(self.checklist(record.get("requirements") or []))
        parts.append("\n".join(self.service.attachment_lines(record)))
        parts.append(self.service.created_from_aha(record))
        return "\n\n".join(part for part in parts if part)

    def checklist(self, requirements: list[Any]) -> str:
        """``- [ ] <name>`` per requirement (``[x]`` when complete), its text indented below."""
        lines = []
        for requirement in requirements:
            done = (requirement.get("workflow_status") or {}).get("complete")
            lines.append(f"- [{'x' if done else ' '}] {self.service.record_title(requirement)}")
            description = requirement.get("description") or {}
            detail = "\n".join(
                [
                    html_to_markdown(description.get("body") or "", github=True),
                    *self.service.attachment_lines(requirement),
                ]
            )
            lines += [CHECKLIST_INDENT + line for line in detail.splitlines() if line.strip()]
        return "\n".join(lines)

    def labels(self, record: Any) -> list[str]:
        """The tags; with status labels on, the Aha!: label of the status replaces any other."""
        tags = [str(tag) for tag in record.get("tags") or []]
        if not self.service.adds_status_labels:
            return tags
        status_name = (record.get("workflow_status") or {}).get("name")
        tags = [tag for tag in tags if not is_status_label(tag)]
        return [*tags, status_label(status_name)] if status_name else tags

    # --- sending -----------------------------------------------------------------------------

    def send(self, record: Any, milestone: Any, body: str) -> dict[str, Any]:
        """Update the linked issue, or create one when there is no link or it vanished."""
        fields = {
            "title": self.service.record_title(record),
            "body": body,
            "milestone": milestone,
            "labels": self.labels(record),
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
