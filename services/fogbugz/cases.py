"""Features as cases and requirements as their subcases: a linked case that FogBugz
still finds is edited with what changed, anything else is created; files go once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from services.core import RemoteError
from services.core.kits.issue_tracking import tag_list
from services.core.kits.tracker import files_missing
from services.core.markup import html_to_plain
from services.fogbugz import answers
from services.fogbugz.service import CASE_COLUMNS

if TYPE_CHECKING:
    from services.fogbugz.service import Fogbugz


class CaseSync:
    """One event's cases, in the chosen project."""

    def __init__(self, service: Fogbugz):
        self.service = service

    def send(self, record: Any, parent: Any = None) -> Any:
        """The record's case number, after its case and its requirements' are sent."""
        found = self.service.search(self.service.link(record, "number"))
        params = self.case_params(record, parent)
        if found:
            number = found.get("ixBug")
            self.edit(number, found, params, record)
        else:
            number = self.create(params, record)
        for requirement in record.get("requirements") or []:
            self.send(requirement, parent=number)
        return number

    def case_params(self, record: Any, parent: Any) -> dict[str, Any]:
        description = record.get("description") or {}
        params: dict[str, Any] = {
            "sTitle": self.service.fit_title("sTitle", self.service.record_title(record)),
            "sEvent": html_to_plain(description.get("body")),
            "ixProject": self.service.data.get("projects"),
            "cols": CASE_COLUMNS,
        }
        tags = tag_list(record.get("tags"))
        if tags:
            params["sTags"] = ",".join(tags)
        if parent:
            params["ixBugParent"] = parent
        return params

    def create(self, params: dict[str, Any], record: Any) -> Any:
        root = self.service.command("new", params, self.files(record, present=()))
        number = (answers.case(root) or {}).get("ixBug")
        if not number:
            raise RemoteError("FogBugz answered new without a case number")
        self.service.write_links(record, {"number": number, "url": self.service.case_url(number)})
        return number

    def edit(self, number: Any, found: dict[str, Any], params: dict[str, Any], record: Any) -> None:
        """Only what changed of the title and the text, with the files the case lacks."""
        if found.get("sTitle") == params["sTitle"]:
            del params["sTitle"]
        if found.get("sLatestTextSummary") == params["sEvent"]:
            del params["sEvent"]
        params["ixBug"] = number
        self.service.command("edit", params, self.files(record, present=found["file_names"]))
        self.service.logger.info(f"Updated FogBugz case {number}")

    def files(self, record: Any, present: Any) -> list[tuple[str, tuple[str, bytes, str]]]:
        """``File1``..``FileN`` for the files whose names no event of the case holds; a file
        that cannot be downloaded is a warning."""
        parts: list[tuple[str, tuple[str, bytes, str]]] = []
        for attachment in files_missing(record, lambda: present):
            name = str(attachment["file_name"])
            content = self.service.fetch_file(attachment)
            if content is None:
                continue
            content_type = attachment.get("content_type") or "application/octet-stream"
            parts.append((f"File{len(parts) + 1}", (name, content, content_type)))
        return parts
