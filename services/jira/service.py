"""The Jira service: its settings, its connection, and its events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from services.core import ConfigurationError, password, string, switched_on
from services.core.kits.tracker import TrackerService, http_address
from services.jira import schema
from services.jira.errors import describe_400, refuse_anonymous
from services.jira.project_data import ProjectData
from services.jira.text import FIELD_LIMITS
from services.jira.webhook import JiraWebhook

if TYPE_CHECKING:
    import requests

    from services.jira.issues import IssueSync

API_PATH = "/rest/api/2"
# What a call needs, by method, when Jira answers 403 without a lockout.
PERMISSIONS = {
    "GET": "Browse projects",
    "POST": "Create issues",
    "PUT": "Edit issues",
    "DELETE": "Delete issues",
}


class Jira(TrackerService):
    """Features and requirements as Jira issues, releases as versions, statuses back by
    webhook; over Jira's REST API v2 with Basic authentication."""

    title = "Jira"
    service_name = "jira"
    caption = schema.caption
    tracker_name = "Jira"
    permissions = PERMISSIONS
    field_limits = FIELD_LIMITS
    schema = (
        schema.SERVER_URL,
        string(
            "username",
            description="The Jira user's e-mail address (Jira Cloud) or user name (Server).",
        ),
        password(
            "password",
            description="An API token (Jira Cloud: id.atlassian.com, Security, API tokens) "
            "or the password (Server, Data Center).",
        ),
        *schema.project_fields(),
    )
    white_listed: ClassVar[tuple[str, ...]] = (
        "server_url",
        "username",
        "project",
        "feature_issue_type",
        "requirement_issue_type",
        "send_initiatives",
        "send_tags",
        "dont_send_releases",
    )

    # --- connection ------------------------------------------------------------------------

    def server_url(self) -> str:
        """The site's address without a trailing slash, its context path kept."""
        return http_address(
            self.data.get("server_url"),
            "The Jira server URL (server_url)",
            "https://acme.atlassian.net",
        )

    def base_url(self) -> str:
        return self.server_url() + API_PATH

    def tracker_request_options(self) -> dict[str, Any]:
        username, secret = self.data.get("username"), self.data.get("password")
        if not username:
            raise ConfigurationError("The Jira username (username) is not set")
        if not secret:
            raise ConfigurationError("The Jira password or API token (password) is not set")
        return {"auth": (str(username), str(secret)), "headers": {"Accept": "application/json"}}

    def require_connection(self) -> None:
        """Every setting a request needs, checked before the first one is sent."""
        self.server_url()
        self.tracker_request_options()

    def tracker_request(
        self, method: str, path: str, *, accept: Any = (), **kwargs: Any
    ) -> requests.Response:
        response = super().tracker_request(method, path, accept=accept, **kwargs)
        refuse_anonymous(response)
        return response

    def check_tracker_response(self, response: requests.Response, method: str, path: str) -> None:
        refuse_anonymous(response)
        super().check_tracker_response(response, method, path)

    def describe_bad_request(self, response: requests.Response) -> str:
        return describe_400(response, self.meta_data.get("fields") or {}, self.sent_from_mapping)

    @property
    def sent_from_mapping(self) -> Mapping[str, list[tuple[str, Any]]]:
        """Jira field id -> the ``(Aha! field, value)`` pairs the field mapping sent in it."""
        return self.__dict__.setdefault("_sent_from", {})

    def remember_sent(self, jira_field: str, aha_field: str, value: Any) -> None:
        """Note what the field mapping sent, so that a refused option can name its Aha! field."""
        self.__dict__.setdefault("_sent_from", {}).setdefault(jira_field, []).append(
            (aha_field, value)
        )

    def flag(self, name: str) -> bool:
        return switched_on(self.data.get(name))

    # --- events ----------------------------------------------------------------------------

    def receive_installed(self) -> None:
        self.require_connection()
        ProjectData(self).load()

    def receive_configured(self) -> None:
        self.require_connection()
        if self.payload.get("field") not in (None, "", "attribute_project"):
            self.logger.info(f"Nothing to do when {self.payload.get('field')} is configured")
            return
        ProjectData(self).load()
        project = self.data.get("project")
        self.meta_data.configuration = {
            "attribute_project": {
                "project": project,
                "message": f"Loaded configuration for project {project}"
                if project
                else "Loaded the Jira projects; choose one",
                "success": True,
            }
        }

    def receive_create_feature(self) -> None:
        self.issues().send_feature(self.payload.get("feature") or {})

    def receive_update_feature(self) -> None:
        self.issues().send_feature(self.payload.get("feature") or {})

    def receive_create_requirement(self) -> None:
        self.issues().send_requirement(self.payload.get("requirement") or {})

    def receive_update_requirement(self) -> None:
        self.issues().send_requirement(self.payload.get("requirement") or {})

    def receive_create_release(self) -> None:
        self.send_release(update=False)

    def receive_update_release(self) -> None:
        self.send_release(update=True)

    def receive_create_comment(self) -> None:
        from services.jira.comments import send_comment

        self.require_connection()
        send_comment(self, self.payload.get("comment") or {}, self.payload.get("commentable"))

    def receive_webhook(self) -> None:
        JiraWebhook(self).apply(self.payload)

    # --- parts -----------------------------------------------------------------------------

    def issues(self) -> IssueSync:
        from services.jira.issues import IssueSync

        self.require_connection()
        return IssueSync(self)

    def send_release(self, *, update: bool) -> None:
        from services.jira.versions import Versions

        self.require_connection()
        if self.flag("dont_send_releases"):
            self.logger.info("Releases are not sent to Jira (dont_send_releases)")
            return
        project = ProjectData(self).ensure_project()
        versions = Versions(self, project)
        release = self.payload.get("release") or {}
        if update:
            versions.update(release)
        else:
            versions.version_for(release)
