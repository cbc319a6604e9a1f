"""The GitLab Issues service: releases become milestones, features and requirements issues,
and GitLab's issue webhooks move Aha! statuses, names and tags."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from services.core import (
    ConfigurationError,
    RemoteError,
    boolean,
    callback_url,
    install_button,
    internal,
    password,
    select,
    string,
)
from services.core.kits.issue_tracking import issue_body, issue_labels, mapped_state, status_mapping
from services.core.kits.tracker import TrackerService
from services.core.schema import switched_on
from services.gitlab_issues.webhook import apply_webhook

# The state_event that brings an issue into each state; GitLab knows no "closed" event.
STATE_EVENTS = {"open": "reopen", "closed": "close"}

if TYPE_CHECKING:
    from services.core.mash import Mash

GITLAB_COM_API = "https://gitlab.com/api/v4"
CHECKLIST_MAPPING = "issue-checklist"
MAPPINGS = (
    ["Feature -> Issue, Requirement -> Issue", "issue-issue"],
    ["Feature -> Issue, Requirement -> Checklist item", CHECKLIST_MAPPING],
)


def _caption(workspace_type: str) -> str:
    records = "activities" if workspace_type == "marketing_workspace" else "features"
    return f"Send {records} to GitLab Issues"


def projects(meta_data: Any, data: Any) -> list[list[str]]:
    """The ``project`` select: every project the token's user belongs to, by its path."""
    paths = {
        str(repo.get("path_with_namespace") or repo.get("full_name") or "")
        for repo in meta_data.get("repos") or []
    }
    return [[path, path] for path in sorted(paths - {""}, key=str.casefold)]


def _segment(value: Any) -> str:
    return quote(str(value), safe="")


def _date(value: Any) -> str | None:
    """``YYYY-MM-DD`` from an Aha! date or timestamp."""
    return str(value)[:10] if value else None


def _created(answer: Any, what: str) -> Mapping[str, Any]:
    """A created object, which must carry the ids its links are made of."""
    if not isinstance(answer, Mapping) or answer.get("id") is None or answer.get("iid") is None:
        raise RemoteError(f"GitLab answered the new {what} without its id and iid")
    return answer


class GitlabIssues(TrackerService):
    title = "GitLab Issues"
    service_name = "gitlab_issues"
    caption = _caption
    tracker_name = "GitLab"
    intake_signature = "gitlab"
    # GitLab refuses a longer title (255) or description (1 MiB), on issues and milestones.
    field_limits = {
        "title": 255,
        "description": 1_048_576,
        "milestone_title": 255,
        "milestone_description": 1_048_576,
    }
    schema = (
        password("private_token", description="A GitLab personal access token with the api scope."),
        string(
            "server_url",
            label="Server URL",
            description=(
                "For GitLab on your own server, its API address ending in /api/v4, "
                "e.g. https://gitlab.example.com/api/v4. Leave empty for gitlab.com."
            ),
        ),
        install_button(),
        select("project", collection=projects),
        select(
            "mapping",
            collection=MAPPINGS,
            description="How Aha! features and requirements map to GitLab issues and checklists.",
        ),
        string(
            "due_date_phase",
            description=(
                "The release phase whose end date becomes the milestone's due date. "
                "Without it, or when the release has no such phase, the release date is used."
            ),
        ),
        internal("status_mapping"),
        boolean(
            "add_status_labels",
            description="Mirror the Aha! status as an Aha!: label on the GitLab issue.",
        ),
        callback_url(description="The URL to give GitLab's webhook for a two-way integration."),
    )
    white_listed = ("server_url", "project", "mapping", "due_date_phase", "add_status_labels")

    # --- settings ----------------------------------------------------------------------------

    def base_url(self) -> str:
        url = str(self.data.get("server_url") or "").strip().rstrip("/") or GITLAB_COM_API
        if url.lower().endswith("/api/v3"):
            raise ConfigurationError(
                "GitLab's API v3 is no longer supported: set the Server URL to the /api/v4 address"
            )
        return url

    def private_token(self) -> str:
        token = str(self.data.get("private_token") or "").strip()
        if not token:
            raise ConfigurationError("The GitLab private token (private_token) is not set")
        return token

    def tracker_request_options(self) -> dict[str, Any]:
        # The HTTP client leaves this header behind on a redirect to another origin.
        return {"headers": {"PRIVATE-TOKEN": self.private_token()}}

    def configured_project(self) -> str:
        project = str(self.data.get("project") or "").strip()
        if not project:
            raise ConfigurationError("No GitLab project (project) is selected in the settings")
        return project

    def project_repo(self) -> Mash | None:
        """The installed project the setting names, by path, else by its older name."""
        project = self.configured_project()
        repos = self.meta_data.get("repos") or []
        for repo in repos:
            if str(repo.get("path_with_namespace") or "").casefold() == project.casefold():
                return repo
        named = [repo for repo in repos if str(repo.get("full_name") or "") == project]
        return named[0] if len(named) == 1 else None

    def project_path(self) -> str:
        """``/projects/<id>``, or the URL-encoded path when the project was never listed."""
        repo = self.project_repo()
        if repo and repo.get("id") not in (None, ""):
            return f"/projects/{_segment(repo.get('id'))}"
        return f"/projects/{_segment(self.configured_project())}"

    def add_status_labels(self) -> bool:
        return switched_on(self.data.get("add_status_labels"))

    def requirements_as_checklist(self) -> bool:
        return self.data.get("mapping") == CHECKLIST_MAPPING

    def status_mapping(self) -> dict[str, str]:
        return status_mapping(self.data.get("status_mapping"))

    # --- events ------------------------------------------------------------------------------

    def receive_installed(self) -> None:
        repos = self.tracker_pages(
            "/projects",
            params={"membership": "true", "with_issues_enabled": "true", "per_page": 100},
        )
        self.meta_data["repos"] = [
            {
                "id": repo.get("id"),
                "full_name": repo.get("name"),
                "path_with_namespace": repo.get("path_with_namespace"),
                "web_url": repo.get("web_url"),
            }
            for repo in repos
        ]

    def receive_create_feature(self) -> None:
        self.send_feature(self.payload.get("feature") or {})

    def receive_update_feature(self) -> None:
        self.send_feature(self.payload.get("feature") or {})

    def receive_create_release(self) -> None:
        self.send_release(self.payload.get("release") or {})

    def receive_update_release(self) -> None:
        self.send_release(self.payload.get("release") or {})

    def receive_webhook(self) -> None:
        apply_webhook(self)

    # --- milestones --------------------------------------------------------------------------

    def send_release(self, release: Any) -> Any:
        """Update the linked milestone, else link one titled like the release or a new one."""
        project = self.project_path()
        self.private_token()
        return self.create_or_update(
            self.link(release, "milestone_id"),
            update=lambda milestone_id: self.tracker_json(
                "PUT",
                f"{project}/milestones/{_segment(milestone_id)}",
                json=self.milestone_changes(release),
            ),
            create=lambda: self.attach_milestone(project, release),
            what="milestone",
        )

    def milestone_for(self, project: str, release: Any) -> Any:
        """The release's milestone for a feature: the linked one if it exists, else attached."""
        if not release:
            return None
        return self.create_or_update(
            self.link(release, "milestone_id"),
            update=lambda milestone_id: self.tracker_json(
                "GET", f"{project}/milestones/{_segment(milestone_id)}"
            ),
            create=lambda: self.attach_milestone(project, release),
            what="milestone",
        )

    def attach_milestone(self, project: str, release: Any) -> Any:
        """The milestone titled like the release, else a new one; linked to the release."""
        title = self.milestone_title(release)
        found = self.tracker_json("GET", f"{project}/milestones", params={"title": title})
        milestone = next(
            (m for m in found or [] if isinstance(m, Mapping) and m.get("title") == title), None
        )
        if milestone is None:
            description = self.fit_text(
                "milestone_description", "", keep=self.created_from_aha(release)
            )
            body = {"title": title, "description": description}
            due_date = self.due_date(release)
            if due_date:
                body["due_date"] = due_date
            milestone = _created(
                self.tracker_json("POST", f"{project}/milestones", json=body), "milestone"
            )
        self.write_links(
            release,
            {
                "milestone_id": milestone.get("id"),
                "number": milestone.get("iid"),
                "url": milestone.get("web_url"),
            },
        )
        return milestone

    def milestone_title(self, release: Any) -> str:
        return self.fit_title("milestone_title", self.record_title(release))

    def milestone_changes(self, release: Any) -> dict[str, Any]:
        changes: dict[str, Any] = {"title": self.milestone_title(release)}
        due_date = self.due_date(release)
        if due_date:
            changes["due_date"] = due_date
        changes["state_event"] = "close" if switched_on(release.get("released")) else "activate"
        return changes

    def due_date(self, release: Any) -> str | None:
        """The end of the release phase the settings name, else the release date."""
        phase_name = str(self.data.get("due_date_phase") or "").strip()
        if phase_name and release.get("id"):
            phases = self.api.paginate(
                f"api/v1/releases/{_segment(release.get('id'))}/release_phases", "release_phases"
            )
            for phase in phases:
                if str(phase.get("name") or "").strip().casefold() == phase_name.casefold():
                    if phase.get("end_on"):
                        return _date(phase.get("end_on"))
                    break
            self.logger.debug(
                f"No release phase {phase_name!r} with an end date; using the release date"
            )
        return _date(release.get("release_date"))

    # --- issues ------------------------------------------------------------------------------

    def send_feature(self, feature: Any) -> None:
        """The release's milestone, then the feature's issue, then its requirements' issues."""
        project = self.project_path()
        self.private_token()
        milestone = self.milestone_for(project, feature.get("release"))
        issue = self.send_issue(project, feature, milestone)
        if self.requirements_as_checklist():
            return
        parent_iid = (issue or {}).get("iid") or self.link(feature, "number")
        for requirement in feature.get("requirements") or []:
            self.send_issue(project, requirement, milestone, parent_iid=parent_iid)

    def send_issue(self, project: str, record: Any, milestone: Any, parent_iid: Any = None) -> Any:
        fields = self.issue_fields(record, milestone, parent_iid)
        return self.create_or_update(
            self.link(record, "number"),
            update=lambda iid: self.update_issue(project, iid, record, fields),
            create=lambda: self.create_issue(project, record, fields),
            what="issue",
        )

    def issue_fields(self, record: Any, milestone: Any, parent_iid: Any) -> dict[str, Any]:
        description = issue_body(
            record,
            with_checklist=self.requirements_as_checklist(),
            footer=f"Parent: #{parent_iid}" if parent_iid else None,
            limit=self.field_limits["description"],
        )
        labels = issue_labels(record, with_status=self.add_status_labels())
        return {
            "title": self.fit_title("title", self.record_title(record)),
            "description": description,
            "milestone_id": (milestone or {}).get("id"),
            "labels": ",".join(labels),
        }

    def update_issue(self, project: str, iid: Any, record: Any, fields: dict[str, Any]) -> Any:
        state = mapped_state(self.status_mapping(), record.get("workflow_status"))
        body = {**fields, "state_event": STATE_EVENTS[state]} if state else fields
        return self.tracker_json("PUT", f"{project}/issues/{_segment(iid)}", json=body)

    def create_issue(self, project: str, record: Any, fields: dict[str, Any]) -> Any:
        """A new issue, linked; closed at once when the record's status maps to closed."""
        issue = _created(self.tracker_json("POST", f"{project}/issues", json=fields), "issue")
        self.write_links(
            record, {"id": issue.get("id"), "number": issue.get("iid"), "url": issue.get("web_url")}
        )
        if mapped_state(self.status_mapping(), record.get("workflow_status")) == "closed":
            closed = self.tracker_json(
                "PUT",
                f"{project}/issues/{_segment(issue.get('iid'))}",
                json={"state_event": STATE_EVENTS["closed"]},
            )
            return closed or issue
        return issue

    def put_issue_labels(self, iid: Any, labels: list[str]) -> None:
        self.tracker_json(
            "PUT",
            f"{self.project_path()}/issues/{_segment(iid)}",
            json={"labels": ",".join(labels)},
        )
