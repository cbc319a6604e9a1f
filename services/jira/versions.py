"""Aha! releases as Jira versions: found by link or by name, else created."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from services.core import RemoteError
from services.core.text_limits import cut_title
from services.jira.text import SUMMARY_LIMIT

if TYPE_CHECKING:
    from collections.abc import Mapping

    from services.jira.service import Jira

ALREADY_EXISTS = "already exists"


def _segment(value: Any) -> str:
    return quote(str(value), safe="")


class Versions:
    """The versions of one project, read at most once per event."""

    def __init__(self, service: Jira, project: Mapping[str, Any]):
        self.service = service
        self.key = str(project.get("key"))
        self._listed: list[Any] | None = None

    def name(self, release: Any) -> str:
        return cut_title(str(release.get("name") or "").strip(), SUMMARY_LIMIT)

    def body(self, release: Any) -> dict[str, Any]:
        return {
            "name": self.name(release),
            "releaseDate": release.get("release_date") or None,
            "released": bool(release.get("released")),
        }

    def version_for(self, release: Any) -> Any:
        """The release's version, ``{id, name}``: the linked one while Jira has it, else the
        project's version of that name, else a new one."""
        if not release:
            return None
        linked = self.service.link(release, "id")
        if linked:
            response = self.service.tracker_request(
                "GET", f"/version/{_segment(linked)}", accept=(404,)
            )
            if response.status_code != 404:
                return response.json()
            self.service.logger.warn(f"The linked Jira version {linked} is gone; finding another")
        version = self.by_name(release) or self.create(release)
        self.service.write_links(release, {"id": version.get("id"), "url": self.url(version)})
        return version

    def update(self, release: Any) -> Any:
        """The linked version renamed and re-dated; created (or found) when it is gone."""
        return self.service.create_or_update(
            self.service.link(release, "id"),
            update=lambda version_id: self.service.tracker_json(
                "PUT", f"/version/{_segment(version_id)}", json=self.body(release)
            ),
            create=lambda: self.version_for(release),
            what="version",
        )

    def url(self, version: Any) -> str:
        return f"{self.service.server_url()}/browse/{self.key}/fixforversion/{version.get('id')}"

    def listed(self, *, again: bool = False) -> list[Any]:
        if self._listed is None or again:
            self._listed = (
                self.service.tracker_json(
                    "GET", f"/project/{_segment(self.key)}/versions", shape="objects"
                )
                or []
            )
        return self._listed

    def by_name(self, release: Any, *, again: bool = False) -> Any:
        wanted = self.name(release).casefold()
        return next(
            (v for v in self.listed(again=again) if str(v.get("name")).casefold() == wanted), None
        )

    def create(self, release: Any) -> Any:
        url = release.get("url")
        body = {
            **self.body(release),
            "description": f"Created from Aha! {url}" if url else "",
            "project": self.key,
        }
        try:
            version = self.service.tracker_json("POST", "/version", json=body, shape="object") or {}
        except RemoteError as error:
            # Another event created it meanwhile: link that one.
            found = self.by_name(release, again=True) if ALREADY_EXISTS in str(error) else None
            if found is None:
                raise
            return found
        if not version.get("id"):
            raise RemoteError("Jira answered POST /version without a version id")
        self.service.logger.info(f"Created Jira version {version.get('name')}")
        return version
