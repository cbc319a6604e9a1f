"""The GitHub Issues service: its settings, its events, and how it talks to GitHub."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from services.core import (
    ConfigurationError,
    MissingSetting,
    RemoteError,
    boolean,
    callback_url,
    install_button,
    internal,
    password,
    select,
    string,
)
from services.core.kits.issue_tracking import issue_body, mapped_state, status_mapping
from services.core.kits.tracker import TrackerService, labelled
from services.core.schema import switched_on
from services.github_issues.issues import Issues
from services.github_issues.milestones import Milestones
from services.github_issues.webhook import IssueEvent, issue_event

DEFAULT_SERVER_URL = "https://api.github.com"
ISSUE_PER_REQUIREMENT = "issue-issue"
CHECKLIST = "issue-checklist"
MAPPINGS = (
    ["Feature -> Issue, Requirement -> Issue", ISSUE_PER_REQUIREMENT],
    ["Feature -> Issue, Requirement -> Checklist item", CHECKLIST],
)


def repositories(meta_data: Any, data: Any) -> list[list[Any]]:
    """The repositories ``installed`` found, as ``[full_name, full_name]`` pairs."""
    repos = [repo for repo in (meta_data.get("repos") or []) if isinstance(repo, Mapping)]
    return labelled(repos, "full_name", "full_name")


class GithubIssues(TrackerService):
    title = "GitHub Issues"
    caption = "Send features to GitHub Issues"
    tracker_name = "GitHub"
    intake_signature = "github"
    # GitHub refuses (422) a longer title or body; milestones take the same.
    field_limits = {
        "title": 256,
        "body": 65_536,
        "milestone_title": 256,
        "milestone_description": 65_536,
    }
    schema = (
        string("username", description="Your GitHub user name."),
        password(
            "password",
            description="A GitHub personal access token with access to the repository's issues.",
        ),
        string(
            "server_url",
            label="Server URL",
            description=(
                "For GitHub Enterprise Server, its API address, such as "
                "https://github.example.com/api/v3. "
                f"Leave it empty for github.com ({DEFAULT_SERVER_URL})."
            ),
        ),
        install_button(),
        select("repository", collection=repositories),
        select(
            "mapping",
            collection=MAPPINGS,
            description="How Aha! features and requirements map to GitHub issues and checklists.",
        ),
        internal("status_mapping"),
        boolean(
            "add_status_labels",
            description='Show the Aha! status as an "Aha!:<status>" label on each issue.',
        ),
        callback_url(
            description="Add this URL as a webhook for Issues events on the GitHub repository."
        ),
    )
    white_listed = ("username", "server_url", "repository", "mapping")

    # --- talking to GitHub -----------------------------------------------------------------

    def base_url(self) -> str:
        return str(self.data.get("server_url") or "").strip() or DEFAULT_SERVER_URL

    def tracker_request_options(self) -> dict[str, Any]:
        token = self.data.get("password")
        if not token:
            raise MissingSetting(
                "GitHub Issues: the Password setting (password: a personal access token) is not set"
            )
        return {
            "auth": (str(self.data.get("username") or ""), str(token)),
            "headers": {"Accept": "application/vnd.github+json"},
        }

    def repository(self) -> str:
        """The ``owner/name`` setting; missing or malformed, a configuration error."""
        name = str(self.data.get("repository") or "").strip()
        if not name:
            raise MissingSetting("GitHub Issues: the Repository setting (repository) is not set")
        owner, _, repo = name.partition("/")
        if not owner or not repo or "/" in repo:
            raise ConfigurationError(
                f"GitHub Issues: the Repository setting {name!r} is not of the form owner/name"
            )
        return name

    def repo_path(self, *segments: Any) -> str:
        """``/repos/<owner>/<name>/<segments...>``, each segment escaped."""
        parts = [*self.repository().split("/"), *(str(s) for s in segments)]
        return "/repos/" + "/".join(quote(part, safe="") for part in parts)

    def github_object(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """The JSON object GitHub answers; anything else is a remote error."""
        answer = self.tracker_json(method, path, **kwargs)
        if not isinstance(answer, dict):
            raise RemoteError(f"GitHub: {method} {path} did not answer with a JSON object")
        return answer

    # --- settings ----------------------------------------------------------------------------

    @property
    def adds_status_labels(self) -> bool:
        return switched_on(self.data.get("add_status_labels"))

    @property
    def checklist(self) -> bool:
        return self.data.get("mapping") == CHECKLIST

    def status_mapping(self) -> dict[str, str]:
        """``{"open"|"closed": <Aha! status id>}``; empty when nothing is mapped."""
        return status_mapping(self.data.get("status_mapping"))

    def issue_state_for(self, record: Any) -> str | None:
        """The issue state that the record's Aha! status maps to, when exactly one does."""
        return mapped_state(self.status_mapping(), record.get("workflow_status"))

    # --- events ------------------------------------------------------------------------------

    def receive_installed(self) -> None:
        repos = self.tracker_pages("/user/repos", params={"per_page": 100})
        self.meta_data.repos = [
            {"full_name": repo.get("full_name")} for repo in repos if isinstance(repo, Mapping)
        ]

    def receive_create_release(self) -> None:
        self.repository()
        Milestones(self).find_or_attach(self.payload.release)

    def receive_update_release(self) -> None:
        self.repository()
        Milestones(self).update_or_attach(self.payload.release)

    def receive_create_feature(self) -> None:
        self.send_feature(self.payload.feature)

    def receive_update_feature(self) -> None:
        self.send_feature(self.payload.feature)

    def send_feature(self, feature: Any) -> None:
        """The release's milestone, then the feature's issue, then its requirements."""
        self.repository()
        milestone = Milestones(self).find_or_attach(feature.release) if feature.release else None
        number = milestone.get("number") if milestone else None
        issues = Issues(self)
        issues.send(feature, number, self.issue_body(feature, with_checklist=self.checklist))
        if self.checklist:
            return
        for requirement in feature.get("requirements") or []:
            issues.send(requirement, number, self.issue_body(requirement, with_checklist=False))

    def issue_body(self, record: Any, *, with_checklist: bool) -> str:
        return issue_body(record, with_checklist=with_checklist, limit=self.field_limits["body"])

    def receive_webhook(self) -> None:
        repository = self.repository()
        event = issue_event(self.payload)
        if event is None:
            self.logger.info("Ignoring a webhook that is not a GitHub issues or pull_request event")
            return
        sender = str((event.get("repository") or {}).get("full_name") or "")
        if sender.casefold() != repository.casefold():
            self.logger.info(f"Ignoring an event of {sender}, not of {repository}")
            return
        found = self.find_linked_record("number", event.issue.get("number"))
        if found:
            IssueEvent(self, event, *found).apply()
