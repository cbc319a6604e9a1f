"""Files of Aha! records as work item attachments, once per file name."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from services.core import ConfigurationError, InvalidUrlError, RemoteError

if TYPE_CHECKING:
    from services.azure_devops.service import AzureDevOps

ATTACHED_FILE = "AttachedFile"
# Azure's answer to a file larger than its attachment limit.
TOO_LARGE = 413


def record_files(record: Any) -> list[Any]:
    """The description's files and the record's, those with a name and an address."""
    description = record.get("description") or {}
    files = [*(description.get("attachments") or []), *(record.get("attachments") or [])]
    return [f for f in files if f.get("file_name") and f.get("download_url")]


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
    for attachment in record_files(record):
        name = str(attachment["file_name"])
        if name in present:
            continue
        present.add(name)
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

    try:
        content = service.http.download(str(attachment["download_url"]))
    except (RemoteError, InvalidUrlError, ConfigurationError) as error:
        service.logger.warn(f"The file {name} was not sent to Azure DevOps: {error}")
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
    url = (json_body(response, service.tracker_name) or {}).get("url")
    if not url:
        raise RemoteError("Azure DevOps answered POST /_apis/wit/attachments without a url")
    return str(url)
