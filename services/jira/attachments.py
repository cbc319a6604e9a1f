"""Files of Aha! records attached to Jira issues, once per file name."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from services.core import ConfigurationError, InvalidUrlError, RemoteError
from services.core.kits.tracker import files_missing

if TYPE_CHECKING:
    from services.jira.service import Jira


def issue_file_names(service: Jira, issue_id: Any) -> set[str]:
    """The names of the files already on an issue."""
    path = f"/issue/{quote(str(issue_id), safe='')}"
    issue = service.tracker_json("GET", path, params={"fields": "attachment"}, shape="object") or {}
    return {
        str(a.get("filename"))
        for a in (issue.get("fields") or {}).get("attachment") or []
        if a.get("filename")
    }


def send_files(service: Jira, issue_id: Any, record: Any, *, created: bool) -> None:
    """On a new issue every file; on an existing one those whose names it lacks."""
    present = None if created else lambda: issue_file_names(service, issue_id)
    for attachment in files_missing(record, present):
        upload(service, issue_id, attachment, str(attachment["file_name"]))


def upload(service: Jira, issue_id: Any, attachment: Any, name: str) -> None:
    """Downloaded through the address guard, sent as multipart; a failure is a warning."""
    try:
        content = service.http.download(str(attachment["download_url"]))
        service.tracker_request(
            "POST",
            f"/issue/{quote(str(issue_id), safe='')}/attachments",
            files={
                "file": (
                    name,
                    content,
                    attachment.get("content_type") or "application/octet-stream",
                )
            },
            headers={"X-Atlassian-Token": "no-check"},
        )
    except (RemoteError, InvalidUrlError, ConfigurationError) as error:
        service.logger.warn(f"The file {name} was not attached to Jira issue {issue_id}: {error}")
