"""Files of Aha! records attached to bugs, once per file name, as base64 in JSON."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from services.core.errors_by_status import TooLarge
from services.core.kits.tracker import files_missing

if TYPE_CHECKING:
    from services.bugzilla.service import Bugzilla


def attachment_path(bug_id: Any) -> str:
    return f"/bug/{quote(str(bug_id), safe='')}/attachment"


def bug_file_names(service: Bugzilla, bug_id: Any) -> set[str]:
    """The names of the files already on a bug."""
    answer = service.call("GET", attachment_path(bug_id), params={"exclude_fields": "data"}) or {}
    return {
        str(a.get("file_name"))
        for a in (answer.get("bugs") or {}).get(str(bug_id)) or []
        if a.get("file_name")
    }


def send_files(service: Bugzilla, bug_id: Any, record: Any, *, created: bool) -> None:
    """On a new bug every file; on an existing one those whose names it lacks."""
    present = None if created else lambda: bug_file_names(service, bug_id)
    for attachment in files_missing(record, present):
        upload(service, bug_id, attachment, str(attachment["file_name"]))


def upload(service: Bugzilla, bug_id: Any, attachment: Any, name: str) -> None:
    """Downloaded through the address guard; a file that cannot be fetched, or that Bugzilla
    finds too large, is a warning and the others still go."""
    content = service.fetch_file(attachment)
    if content is None:
        return
    body = {
        "ids": [int(bug_id) if str(bug_id).isdigit() else bug_id],
        "file_name": name,
        "summary": name,
        "content_type": attachment.get("content_type") or "application/octet-stream",
        "data": base64.b64encode(content).decode("ascii"),
    }
    try:
        service.call("POST", attachment_path(bug_id), json=body)
    except TooLarge as error:
        service.logger.warn(f"The file {name} was not attached to Bugzilla bug {bug_id}: {error}")
