"""Files of Aha! records as work item attachments, once per file name."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from services.core import RemoteError
from services.core.kits.tracker import files_missing

if TYPE_CHECKING:
    from services.azure_devops.service import AzureDevOps

ATTACHED_FILE = "AttachedFile"
# Azure's answer to a file larger than its attachment limit.
TOO_LARGE = 413


def attached_names(work_item: Any) -> set[str]:
    """The names of the files already attached to a work item."""
    return {
        str((relation.get("attributes") or {}).get("name"))
        for relation in work_item.get("relations") or []
        if relation.get("rel") == ATTACHED_FILE and (relation.get("attributes") or {}).get("name")
    }


def attachment_ops(service: AzureDevOps, record: Any, present: set[str]) -> list[dict[str, Any]]:
    """Uploads the files whose names the work item lacks; the patch operations that
    attach them. A file that cannot be sent is a warning, not a failed event."""
    ops = []
    for attachment in files_missing(record, lambda: present):
        name = str(attachment["file_name"])
        url = upload(service, attachment, name)
        if url:
            ops.append(
                {
                    "op": "add",
                    "path": "/relations/-",
                    "value": {"rel": ATTACHED_FILE, "url": url, "attributes": {"name": name}},
                }
            )
    return ops


def upload(service: AzureDevOps, attachment: Any, name: str) -> str | None:
    """The attachment's address in Azure; None, after a warning, when it was not sent."""
    from services.core.http import json_body

    content = service.fetch_file(attachment)
    if content is None:
        return None
    response = service.tracker_request(
        "POST",
        "/_apis/wit/attachments",
        params={"fileName": name},
        data=content,
        headers={"Content-Type": "application/octet-stream"},
        accept=(TOO_LARGE,),
    )
    if response.status_code == TOO_LARGE:
        service.logger.warn(f"The file {name} is larger than Azure DevOps takes; it was not sent")
        return None
    url = (json_body(response, service.tracker_name, "object") or {}).get("url")
    if not url:
        raise RemoteError("Azure DevOps answered POST /_apis/wit/attachments without a url")
    return str(url)
