"""The Redmine service: issues for features and requirements, versions for releases."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

from services.core import (
    ConfigurationError,
    InvalidUrlError,
    RemoteError,
    address_guard,
    install_button,
    password,
    select,
    string,
)
from services.core.json_shapes import expect_shape
from services.core.kits.tracker import TrackerService, labelled
from services.redmine.textile import html_to_textile

PAGE_SIZE = 100
MAX_PROJECT_PAGES = 100
TEXT_FORMATTINGS = [["Textile", "textile"], ["Markdown (CommonMark)", "common_mark"]]
# Redmine answers 422 to an upload larger than its own attachment size limit.
UPLOAD_TOO_LARGE = 422


def projects(meta_data: Any, data: Any) -> list[list[Any]]:
    """The ``project`` select: every project, by name."""
    return labelled(meta_data.get("projects") or [], "name", "id")


def _in_redmine_order(key: str) -> Callable[[Any, Any], list[list[Any]]]:
    def collection(meta_data: Any, data: Any) -> list[list[Any]]:
        return [[item.get("name"), item.get("id")] for item in meta_data.get(key) or []]

    collection.__name__ = key
    return collection


def _caption(workspace_type: str) -> str:
    records = "activities" if workspace_type == "marketing_workspace" else "features"
    return f"Send {records} to the Redmine issue tracker"


def _redmine_id(value: Any) -> Any:
    """An id as Redmine's JSON holds it: a number when it is one."""
    return int(value) if isinstance(value, str) and value.isdigit() else value


def _segment(value: Any) -> str:
    return quote(str(value), safe="")


class Redmine(TrackerService):
    """Issues for features and requirements (a requirement's parent is its feature's issue),
    versions for releases; links kept in integration fields, attachments uploaded once."""

    title = "Redmine"
    caption = _caption
    tracker_name = "Redmine"
    # Redmine's validations: an issue subject of 255 characters, a version name of 60 and a
    # version description of 255. An issue description has no limit of Redmine's own.
    field_limits = {"subject": 255, "version_name": 60, "version_description": 255}
    schema = (
        string(
            "redmine_url", description="Address of your Redmine, e.g. https://redmine.example.com"
        ),
        password(
            "api_key",
            description="API access key of the Redmine user who creates the issues "
            "(My account, API access key).",
        ),
        install_button(),
        select(
            "project",
            collection=projects,
            description="Redmine project that this Aha! workspace will integrate with.",
        ),
        select(
            "tracker",
            collection=_in_redmine_order("trackers"),
            description="Redmine tracker that new issues should use. When none is chosen, "
            "Redmine uses the project's default tracker.",
        ),
        select(
            "issue_priority",
            collection=_in_redmine_order("issue_priorities"),
            description="Default issue priority.",
        ),
        select(
            "text_formatting",
            collection=TEXT_FORMATTINGS,
            description="The text formatting your Redmine uses (Administration, Settings, "
            "General). Textile unless you changed it.",
        ),
    )
    white_listed = ("redmine_url", "project", "tracker", "issue_priority", "text_formatting")

    # --- connection ------------------------------------------------------------------------

    def base_url(self) -> str:
        url = str(self.data.get("redmine_url") or "").strip()
        if not url:
            raise ConfigurationError("The Redmine URL (redmine_url) is not set")
        return url.rstrip("/")

    def tracker_request_options(self) -> dict[str, Any]:
        api_key = self.data.get("api_key")
        if not api_key:
            raise ConfigurationError("The Redmine API key (api_key) is not set")
        # The key travels in a header of its own: refuse it over plain http like Authorization.
        return {"headers": {"X-Redmine-API-Key": str(api_key)}}

    def check_connection(self) -> None:
        """Refuse an unusable Redmine URL or API key before files are downloaded for it."""
        from services.core.http import refuse_plain_http_credentials

        self.tracker_request_options()
        parts = address_guard.split_url(self.base_url())
        addresses = address_guard.guard_host(parts.hostname or "", parts.port)
        if parts.scheme == "http":
            refuse_plain_http_credentials(parts.hostname or "", addresses)

    def require_settings(self, *names: str) -> None:
        """Fail before any write when a setting the event needs is empty."""
        for name in names:
            if not self.data.get(name):
                raise ConfigurationError(
                    f"The Redmine {name} is not set; choose one in the settings"
                )

    # --- events ----------------------------------------------------------------------------

    def receive_installed(self) -> None:
        self.meta_data.projects = self.all_projects()
        self.meta_data.trackers = self._named("/trackers.json", "trackers")
        self.meta_data.issue_priorities = self._named(
            "/enumerations/issue_priorities.json", "issue_priorities"
        )

    def receive_create_release(self) -> None:
        self.send_release(self.payload.release)

    def receive_update_release(self) -> None:
        self.send_release(self.payload.release)

    def receive_create_feature(self) -> None:
        self.send_feature(self.payload.feature)

    def receive_update_feature(self) -> None:
        self.send_feature(self.payload.feature)

    # --- lists -----------------------------------------------------------------------------

    def all_projects(self) -> list[dict[str, Any]]:
        """Every project, page by page, until Redmine's ``total_count`` is reached."""
        found: list[dict[str, Any]] = []
        for _ in range(MAX_PROJECT_PAGES):
            answer = self.tracker_json(
                "GET",
                "/projects.json",
                params={"limit": PAGE_SIZE, "offset": len(found)},
                shape="object",
            )
            page = _members(answer, "projects", "GET /projects.json")
            found.extend({"id": p.get("id"), "name": p.get("name")} for p in page)
            total = (answer or {}).get("total_count")
            # Without a total_count (an old Redmine), a short page is the last one.
            last = len(found) >= total if isinstance(total, int) else len(page) < PAGE_SIZE
            if not page or last:
                return found
        self.logger.warn(f"Stopped listing Redmine projects after {len(found)}")
        return found

    def _named(self, path: str, key: str) -> list[dict[str, Any]]:
        answer = self.tracker_json("GET", path, shape="object")
        items = _members(answer, key, f"GET {path}")
        return [{"id": item.get("id"), "name": item.get("name")} for item in items]

    # --- versions --------------------------------------------------------------------------

    def send_release(self, release: Any) -> None:
        """A release's version, updated when linked, created when not (or gone)."""
        self.require_settings("project")
        self.create_or_update(
            self.link(release, "id"),
            update=lambda version_id: self.update_version(version_id, release),
            create=lambda: self.create_version(release),
            what="version",
        )

    def version_body(self, release: Any) -> dict[str, Any]:
        return {
            "version": {
                "name": self.fit_title("version_name", str(release.get("name") or "")),
                "due_date": release.get("release_date"),
                "description": self.fit_text(
                    "version_description", "", keep=self.created_from_aha(release)
                ),
            }
        }

    def create_version(self, release: Any) -> Any:
        path = f"/projects/{_segment(self.data.project)}/versions.json"
        answer = (
            self.tracker_json("POST", path, json=self.version_body(release), shape="object") or {}
        )
        version = answer.get("version") or {}
        if not version.get("id"):
            raise RemoteError(f"Redmine answered POST {path} without a version id")
        self.write_links(
            release,
            {
                "id": version["id"],
                "name": version.get("name"),
                "url": f"{self.base_url()}/versions/{version['id']}",
            },
        )
        return version["id"]

    def update_version(self, version_id: Any, release: Any) -> Any:
        path = f"/versions/{_segment(version_id)}.json"
        self.tracker_request("PUT", path, json=self.version_body(release))
        self.logger.info(f"Updated Redmine version {version_id}")
        return version_id

    def ensure_version(self, release: Any) -> Any:
        """The version a feature's issues go in: the linked one while Redmine has it,
        else a new one."""
        if not release:
            return None
        return self.create_or_update(
            self.link(release, "id"),
            update=self.existing_version,
            create=lambda: self.create_version(release),
            what="version",
        )

    def existing_version(self, version_id: Any) -> Any:
        """The linked version's id, once Redmine has shown that it still has it."""
        self.tracker_json("GET", f"/versions/{_segment(version_id)}.json")
        return version_id

    # --- issues ----------------------------------------------------------------------------

    def send_feature(self, feature: Any) -> None:
        """The release's version, the feature's issue, then one issue per requirement."""
        self.require_settings("project")
        version_id = self.ensure_version(feature.get("release"))
        parent_id = self.send_issue(feature, version_id)
        for requirement in feature.get("requirements") or []:
            self.send_issue(requirement, version_id, parent_id=parent_id)

    def send_issue(self, record: Any, version_id: Any, parent_id: Any = None) -> Any:
        return self.create_or_update(
            self.link(record, "id"),
            update=lambda issue_id: self.update_issue(issue_id, record, version_id, parent_id),
            create=lambda: self.create_issue(record, version_id, parent_id),
            what="issue",
        )

    def issue_body(
        self, record: Any, version_id: Any, parent_id: Any, uploads: list[dict[str, Any]]
    ) -> dict[str, Any]:
        fields = {
            "project_id": _redmine_id(self.data.project),
            # Without a chosen tracker, Redmine takes the project's default one.
            "tracker_id": _redmine_id(self.data.get("tracker") or None),
            "priority_id": _redmine_id(self.data.get("issue_priority") or None),
            "subject": self.fit_title("subject", self.record_title(record)),
            "description": self.issue_description(record),
            "fixed_version_id": _redmine_id(version_id),
            "parent_issue_id": _redmine_id(parent_id),
            "uploads": uploads or None,
        }
        return {key: value for key, value in fields.items() if value is not None}

    def issue_description(self, record: Any) -> str:
        """The description in the chosen text formatting, attachments, and the Aha! link."""
        if self.data.get("text_formatting") == "common_mark":
            return self.record_text(record, field="description")
        return self.record_text(record, field="description", convert=html_to_textile)

    def create_issue(self, record: Any, version_id: Any, parent_id: Any) -> Any:
        uploads = self.upload_attachments(record, already_there=())
        body = self.issue_body(record, version_id, parent_id, uploads)
        answer = (
            self.tracker_json("POST", "/issues.json", json={"issue": body}, shape="object") or {}
        )
        issue_id = (answer.get("issue") or {}).get("id")
        if not issue_id:
            raise RemoteError("Redmine answered POST /issues.json without an issue id")
        self.write_links(record, {"id": issue_id, "url": f"{self.base_url()}/issues/{issue_id}"})
        return issue_id

    def update_issue(self, issue_id: Any, record: Any, version_id: Any, parent_id: Any) -> Any:
        path = f"/issues/{_segment(issue_id)}.json"
        issue = (
            self.tracker_json("GET", path, params={"include": "attachments"}, shape="object") or {}
        )
        names = [a.get("filename") for a in (issue.get("issue") or {}).get("attachments") or []]
        body = self.issue_body(
            record, version_id, parent_id, self.upload_attachments(record, names)
        )
        body.pop("priority_id", None)  # the priority is chosen in Redmine once the issue exists
        self.tracker_request("PUT", path, json={"issue": body})
        self.logger.info(f"Updated Redmine issue {issue_id}")
        return issue_id

    # --- attachments -----------------------------------------------------------------------

    def upload_attachments(self, record: Any, already_there: Iterable[str]) -> list[dict[str, Any]]:
        """Upload tokens for the record's files whose names the issue does not hold yet."""
        self.check_connection()
        description = record.get("description") or {}
        seen = set(already_there)
        uploads = []
        for attachment in [
            *(description.get("attachments") or []),
            *(record.get("attachments") or []),
        ]:
            name = attachment.get("file_name")
            if not name or name in seen or not attachment.get("download_url"):
                continue
            seen.add(name)
            token = self.upload(attachment)
            if token:
                uploads.append(
                    {
                        "token": token,
                        "filename": name,
                        "content_type": attachment.get("content_type"),
                    }
                )
        return uploads

    def upload(self, attachment: Any) -> Any:
        """Redmine's token for one file; None, after a warning, for a file it cannot take."""
        from services.core.http import json_body

        name = attachment.get("file_name")
        try:
            content = self.http.download(attachment.get("download_url"))
        except (RemoteError, InvalidUrlError, ConfigurationError) as error:
            self.logger.warn(f"Attachment {name} was not sent to Redmine: {error}")
            return None
        response = self.tracker_request(
            "POST",
            "/uploads.json",
            data=content,
            headers={"Content-Type": "application/octet-stream"},
            accept=(UPLOAD_TOO_LARGE,),
        )
        if response.status_code == UPLOAD_TOO_LARGE:
            self.logger.warn(f"Attachment {name} was refused by Redmine: {response.text[:500]}")
            return None
        answer = json_body(response, self.tracker_name) if response.content.strip() else {}
        token = (answer.get("upload") or {}).get("token")
        if not token:
            raise RemoteError("Redmine answered POST /uploads.json without an upload token")
        return token


def _members(answer: Any, key: str, request: str) -> list[dict[str, Any]]:
    """The objects listed under ``key`` of an answer."""
    items = (answer or {}).get(key) or []
    return expect_shape(items, "objects", f"Redmine answered {request} with its {key}")
