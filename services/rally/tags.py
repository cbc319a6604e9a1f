"""Aha! tags as Rally tags: found by name in the workspace, created when missing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from services.core.kits.issue_tracking import tag_list
from services.rally.queries import query_all, ref_path

if TYPE_CHECKING:
    from services.rally.service import Rally


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def name_query(names: list[str]) -> str:
    """Rally's query language nests each OR in parentheses: ``(((A) OR (B)) OR (C))``."""
    query = f"(Name = {_quoted(names[0])})"
    for name in names[1:]:
        query = f"({query} OR (Name = {_quoted(name)}))"
    return query


class Tags:
    def __init__(self, service: Rally):
        self.service = service

    def refs(self, record: Any) -> list[dict[str, str]]:
        """``[{_ref}]`` of the record's tags; empty when it has none (which clears them)."""
        names = list(dict.fromkeys(str(tag) for tag in tag_list(record.get("tags")) if tag))
        if not names:
            return []
        params = {"query": name_query(names), "fetch": "Name", **self.service.workspace_params()}
        found = {
            str(tag.get("Name") or tag.get("_refObjectName")).casefold(): ref_path(tag.get("_ref"))
            for tag in query_all(self.service, "/tag", params)
        }
        refs = []
        for name in names:
            ref = found.get(name.casefold()) or self.create(name)
            refs.append({"_ref": ref})
        return refs

    def create(self, name: str) -> str:
        answer = self.service.write(
            "PUT", "/tag/create", {"Tag": {"Name": name}}, self.service.workspace_params()
        )
        created = ((answer or {}).get("CreateResult") or {}).get("Object") or {}
        self.service.logger.info(f"Created Rally tag {name}")
        return ref_path(created.get("_ref") or f"/tag/{created.get('ObjectID')}")
