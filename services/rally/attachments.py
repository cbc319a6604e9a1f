"""Files of Aha! records attached to Rally objects, once per file name."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from services.core import RemoteError
from services.core.kits.tracker import files_missing
from services.rally.queries import query_all

if TYPE_CHECKING:
    from services.rally.service import Rally


class Attachments:
    def __init__(self, service: Rally):
        self.service = service

    def send(self, path: str, object_id: Any, record: Any, *, created: bool) -> None:
        """Every file the object lacks by name; a new object lacks them all."""
        present = None if created else lambda: self.names(path)
        for attachment in files_missing(record, present):
            self.upload(object_id, attachment, str(attachment["file_name"]))

    def names(self, path: str) -> set[str]:
        found = query_all(self.service, f"{path}/Attachments", {"fetch": "Name"})
        return {str(a.get("Name")) for a in found if a.get("Name")}

    def upload(self, object_id: Any, attachment: Any, name: str) -> None:
        """Downloaded through the address guard; a file that cannot be read (too large,
        refused, gone) is a warning, and the others are still sent."""
        content = self.service.fetch_file(attachment)
        if content is None:
            return
        workspace = self.service.workspace_ref()
        extra = {"Workspace": workspace} if workspace else {}
        answer = self.service.write(
            "PUT",
            "/attachmentcontent/create",
            {"AttachmentContent": {"Content": base64.b64encode(content).decode(), **extra}},
        )
        content_id = (((answer or {}).get("CreateResult") or {}).get("Object") or {}).get(
            "ObjectID"
        )
        if not content_id:
            raise RemoteError("Rally answered PUT /attachmentcontent/create without an ObjectID")
        self.service.write(
            "PUT",
            "/attachment/create",
            {
                "Attachment": {
                    "Artifact": f"/artifact/{object_id}",
                    "Content": f"/attachmentcontent/{content_id}",
                    "ContentType": attachment.get("content_type") or "application/octet-stream",
                    "Name": name,
                    "Size": len(content),
                    **extra,
                }
            },
        )
        self.service.logger.info(f"Attached {name} to Rally object {object_id}")
