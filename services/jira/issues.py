"""Aha! features and requirements as Jira issues: fields as the issue type takes them,
versions, parents, epics for initiatives, files and rank."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from services.core import ConfigurationError, InvalidUrlError, RemoteError
from services.core.kits.issue_tracking import tag_list
from services.core.markup import reference_num_to_resource_type
from services.jira import text
from services.jira.attachments import send_files
from services.jira.fields import FieldMapping, estimate_fields
from services.jira.project_data import ProjectData
from services.jira.users import UserPicker
from services.jira.versions import Versions

if TYPE_CHECKING:
    from services.jira.service import Jira

NO_EDIT_PERMISSION = "do not have permission to edit"


def _segment(value: Any) -> str:
    return quote(str(value), safe="")


class IssueSync:
    """One event's sending of records to issues; the checks run when it is built."""

    def __init__(self, service: Jira):
        self.service = service
        self.data = service.data
        self.meta = service.meta_data
        project_data = ProjectData(service)
        self.project = project_data.ensure_project()
        self.key = str(self.project["key"])
        self.types = project_data.types_of(self.key) or []
        self.feature_type = self.issue_type(
            self.data.get("feature_issue_type"), "feature_issue_type"
        )
        self.requirement_type = self.issue_type(
            self.data.get("requirement_issue_type") or self.data.get("feature_issue_type"),
            "requirement_issue_type",
        )
        self.users = UserPicker(service)
        self.mapping = FieldMapping(service, self.users)
        self.versions = Versions(service, self.project)

    def issue_type(self, type_id: Any, setting: str) -> Any:
        if not type_id:
            raise ConfigurationError(f"No Jira issue type is chosen ({setting})")
        found = next((t for t in self.types if str(t.get("id")) == str(type_id)), None)
        if found is None:
            raise ConfigurationError(
                f"The issue type {type_id} ({setting}) is not one of project {self.key}'s; "
                "press 'Load project data' and choose it again"
            )
        return found

    def is_epic(self, issue_type: Any) -> bool:
        epic_name = self.meta.get("epic_name_field")
        return str(issue_type.get("name")).casefold() == "epic" or bool(
            epic_name and epic_name in (issue_type.get("fields") or [])
        )

    # --- events ---------------------------------------------------------------------------

    def version(self, feature: Any) -> Any:
        if self.service.flag("dont_send_releases"):
            return None
        return self.versions.version_for(feature.get("release"))

    def send_feature(self, feature: Any) -> None:
        version = self.version(feature)
        issue = self.send_issue(feature, "feature", version, None)
        for requirement in feature.get("requirements") or []:
            self.send_issue(requirement, "requirement", version, issue)

    def send_requirement(self, requirement: Any) -> None:
        feature = requirement.get("feature") or {}
        version = self.version(feature)
        parent_id = self.service.link(feature, "id")
        if parent_id:
            parent = {"id": parent_id, "key": self.service.link(feature, "key")}
        else:
            parent = self.send_issue(feature, "feature", version, None)
        self.send_issue(requirement, "requirement", version, parent)

    # --- one issue ------------------------------------------------------------------------

    def send_issue(self, record: Any, kind: str, version: Any, parent: Any) -> dict[str, Any]:
        """The record's issue, updated when linked, created when not or when it is gone."""
        return self.service.create_or_update(
            self.service.link(record, "id"),
            update=lambda issue_id: self.update(issue_id, record, kind, version, parent),
            create=lambda: self.create(record, kind, version, parent),
            what="issue",
        )

    def type_of(self, kind: str) -> Any:
        return self.feature_type if kind == "feature" else self.requirement_type

    def create(self, record: Any, kind: str, version: Any, parent: Any) -> dict[str, Any]:
        issue_type = self.type_of(kind)
        takes = set(issue_type.get("fields") or [])
        fields = self.fields(record, kind, takes, version, create=True)
        if version and "fixVersions" in takes:
            fields["fixVersions"] = [{"id": version.get("id")}]
        linked_to_parent = False
        if parent:
            parent_fields = self.parent_fields(issue_type, takes, parent, create=True)
            linked_to_parent = bool(parent_fields)
            fields.update(parent_fields)
        fields = {
            "project": {"key": self.key},
            "issuetype": {"id": str(issue_type.get("id"))},
            **fields,
        }
        answer = (
            self.service.tracker_json("POST", "/issue", json={"fields": fields}, shape="object")
            or {}
        )
        if not answer.get("id") or not answer.get("key"):
            raise RemoteError("Jira answered POST /issue without an issue id and key")
        issue = {"id": str(answer["id"]), "key": answer["key"]}
        self.service.write_links(record, {**issue, "url": self.browse_url(issue["key"])})
        self.service.logger.info(f"Created Jira issue {issue['key']}")
        if parent and not linked_to_parent:
            self.relate(parent, issue)
        send_files(self.service, issue["id"], record, created=True)
        self.rank(record, issue)
        return issue

    def update(
        self, issue_id: Any, record: Any, kind: str, version: Any, parent: Any
    ) -> dict[str, Any]:
        path = f"/issue/{_segment(issue_id)}"
        editable = set(
            (self.service.tracker_json("GET", f"{path}/editmeta", shape="object") or {}).get(
                "fields"
            )
            or {}
        )
        fields = self.fields(record, kind, editable, version, create=False)
        if parent:
            fields.update(self.parent_fields(self.type_of(kind), editable, parent, create=False))
        body: dict[str, Any] = {"fields": fields}
        if version and "fixVersions" in editable:
            body["update"] = {"fixVersions": [{"set": [{"id": version.get("id")}]}]}
        issue = {"id": str(issue_id), "key": self.service.link(record, "key") or str(issue_id)}
        try:
            self.service.tracker_request("PUT", path, json=body)
        except RemoteError as error:
            if NO_EDIT_PERMISSION not in str(error).lower():
                raise
            self.service.logger.warn(
                f"Jira's workflow does not let this account edit {issue['key']}; it was not updated"
            )
            return issue
        self.service.logger.info(f"Updated Jira issue {issue['key']}")
        send_files(self.service, issue_id, record, created=False)
        return issue

    def browse_url(self, key: str) -> str:
        return f"{self.service.server_url()}/browse/{key}"

    # --- fields ---------------------------------------------------------------------------

    def fields(
        self, record: Any, kind: str, takes: set[str], version: Any, *, create: bool
    ) -> dict[str, Any]:
        """Every field the record fills that the screen (``takes``) has."""
        summary = text.summary(record)
        fields: dict[str, Any] = {"summary": summary, "description": text.description(record)}
        if self.service.flag("send_tags"):
            fields["labels"] = [text.label(tag) for tag in tag_list(record.get("tags"))]
        optional = {
            self.meta.get("aha_reference_field"): record.get("url"),
            self.meta.get("epic_name_field"): summary,
            self.meta.get("aha_position_field"): record.get("position"),
        }
        fields.update({k: v for k, v in optional.items() if k and v is not None})
        if kind == "feature" and record.get("due_date"):
            fields["duedate"] = record.get("due_date")
        fields.update(estimate_fields(record, takes, self.meta.get("story_points_field")))
        fields.update(self.user_fields(record, takes, create=create))
        if kind == "feature" and self.service.flag("send_initiatives"):
            fields.update(self.initiative_fields(record.get("initiative"), takes))
        fields = {k: v for k, v in fields.items() if k in takes or k == "summary"}
        fields.update(self.mapping.values(record, kind, takes))
        return fields

    def user_fields(self, record: Any, takes: set[str], *, create: bool) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        assignee = record.get("assigned_to_user")
        if "assignee" in takes and assignee and not assignee.get("default_assignee"):
            found = self.users.find(assignee, "assignee")
            if found:
                fields["assignee"] = found
        reporter = record.get("created_by_user")
        if create and "reporter" in takes and reporter:
            found = self.users.find(reporter, "reporter")
            if found:
                fields["reporter"] = found
        return fields

    def parent_fields(
        self, issue_type: Any, takes: set[str], parent: Any, *, create: bool
    ) -> dict[str, Any]:
        """How a requirement's issue hangs under its feature's, when Jira has a field for it;
        empty when an issue link must do instead."""
        reference = {"key": parent["key"]} if parent.get("key") else {"id": parent["id"]}
        if issue_type.get("subtask"):
            return {"parent": reference} if create else {}
        if not self.is_epic(self.feature_type):
            return {}
        if "parent" in takes:
            return {"parent": reference}
        epic_link = self.meta.get("epic_link_field")
        if epic_link and epic_link in takes and parent.get("key"):
            return {epic_link: parent["key"]}
        return {}

    def relate(self, parent: Any, issue: Any) -> None:
        self.service.tracker_request(
            "POST",
            "/issueLink",
            json={
                "type": {"name": "Relates"},
                "inwardIssue": {"id": str(parent["id"])},
                "outwardIssue": {"id": issue["id"]},
            },
        )

    # --- initiatives ----------------------------------------------------------------------

    def initiative_fields(self, initiative: Any, takes: set[str]) -> dict[str, Any]:
        """The feature as a child of its initiative's Epic, created when not linked yet."""
        epic_link = self.meta.get("epic_link_field")
        field = "parent" if "parent" in takes else epic_link if epic_link in takes else None
        if not initiative or not field:
            return {}
        key = self.service.link(initiative, "key") or self.create_epic(initiative)
        if not key:
            return {}
        return {"parent": {"key": key}} if field == "parent" else {field: key}

    def create_epic(self, initiative: Any) -> Any:
        epic_type = next((t for t in self.types if self.is_epic(t) and not t.get("subtask")), None)
        if epic_type is None:
            self.service.logger.warn(
                f"Project {self.key} has no Epic type; the initiative {initiative.get('name')} "
                "was not sent"
            )
            return None
        takes = set(epic_type.get("fields") or [])
        fields = {
            "project": {"key": self.key},
            "issuetype": {"id": str(epic_type.get("id"))},
            "summary": text.summary(initiative),
        }
        if "description" in takes:
            fields["description"] = text.description(initiative)
        epic_name = self.meta.get("epic_name_field")
        if epic_name and epic_name in takes:
            fields[epic_name] = text.summary(initiative)
        answer = (
            self.service.tracker_json("POST", "/issue", json={"fields": fields}, shape="object")
            or {}
        )
        if not answer.get("key"):
            raise RemoteError("Jira answered POST /issue without an issue key")
        self.service.api.create_integration_fields(
            "initiatives",
            initiative.get("reference_num"),
            self.data.get("integration_id"),
            {
                "id": str(answer.get("id")),
                "key": answer["key"],
                "url": self.browse_url(answer["key"]),
            },
        )
        return answer["key"]

    # --- rank -----------------------------------------------------------------------------

    def rank(self, record: Any, issue: Any) -> None:
        """Best effort: next to the neighbour Aha! names; a failure is only a debug line."""
        try:
            answer = self.service.api.adjacent_integration_fields(
                reference_num_to_resource_type(record.get("reference_num")),
                record.get("reference_num"),
                self.data.get("integration_id"),
            )
            neighbours = answer.get("items") or answer.get("adjacent_fields") or [answer]
            neighbour = neighbours[0] or {}
            other = self.service.get_integration_field(neighbour.get("integration_fields"), "key")
            other = other or self.service.get_integration_field(
                neighbour.get("integration_fields"), "id"
            )
            if not other:
                return
            side = "rankAfterIssue" if neighbour.get("direction") == "before" else "rankBeforeIssue"
            response = self.service.http.request(
                "PUT",
                f"{self.service.server_url()}/rest/agile/1.0/issue/rank",
                json={"issues": [issue["key"]], side: str(other)},
                sends_credentials=True,
                **self.service.tracker_request_options(),
            )
            if response.status_code >= 300:
                self.service.logger.debug(
                    f"Jira issue {issue['key']} was not ranked: HTTP {response.status_code}"
                )
        except (RemoteError, ConfigurationError, InvalidUrlError) as error:
            self.service.logger.debug(f"Jira issue {issue['key']} was not ranked: {error}")
