"""Files of Aha! records attached to a Trello card, once per file name."""

from __future__ import annotations

import posixpath
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from services.core import RemoteError
from services.core.kits.tracker import TrackerService


class CardAttachments:
    """The names of the files on one card, read once per event, and uploads of the others."""

    def __init__(self, service: TrackerService, card_id: str):
        self.service = service
        self.card_id = card_id
        self.path = f"/cards/{quote(card_id, safe='')}/attachments"
        self._names: set[str] | None = None

    def names(self) -> set[str]:
        """The file names already on the card: its attachments' names and file names."""
        if self._names is None:
            names: set[str] = set()
            for item in self.service.tracker_json("GET", self.path, shape="objects") or []:
                names.update(filter(None, (item.get("name"), item.get("fileName"))))
                path = urlsplit(str(item.get("url") or "")).path
                if path:
                    names.add(unquote(posixpath.basename(path)))
            self._names = names
        return self._names

    def upload_missing(self, record: Any) -> None:
        """Each of the record's files not yet on the card, by name; a failed file is skipped."""
        description = record.get("description") or {}
        attachments = [*(description.get("attachments") or []), *(record.get("attachments") or [])]
        attachments = [a for a in attachments if a.get("file_name") and a.get("download_url")]
        if not attachments:
            return
        names = self.names()
        for attachment in attachments:
            name = str(attachment["file_name"])
            if name not in names and self.upload(attachment, name):
                names.add(name)

    def upload(self, attachment: Any, name: str) -> bool:
        """Download through the address guard, size-limited, then upload as multipart."""
        logger = self.service.logger
        content = self.service.fetch_file(attachment)
        if content is None:
            return False
        content_type = attachment.get("content_type") or "application/octet-stream"
        try:
            self.service.tracker_request(
                "POST",
                self.path,
                files={"file": (name, content, content_type)},
                data={"name": name},
            )
        except RemoteError as error:
            logger.warn(f"Could not attach {name} to Trello card {self.card_id}: {error}")
            return False
        return True
