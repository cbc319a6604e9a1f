"""Aha! releases as Rally releases: created once, then renamed and re-dated."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from services.core import RemoteError
from services.core.kits.tracker import RemoteGone

if TYPE_CHECKING:
    from services.rally.service import Rally

ONE_DAY = datetime.timedelta(days=1)


def _date(value: Any) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(str(value or "")[:10])
    except ValueError:
        return None


def rally_date(day: datetime.date) -> str:
    """A day as Rally's date-time fields take it: its midnight in UTC."""
    return f"{day.isoformat()}T00:00:00+00:00"


def release_dates(release: Any, today: datetime.date | None = None) -> tuple[str, str]:
    """``(ReleaseStartDate, ReleaseDate)``: Rally's release ends the day after Aha!'s
    release date (so that its last day is included), and never starts after that day."""
    release_day = _date(release.get("release_date")) or today or datetime.date.today()
    start = _date(release.get("start_date")) or release_day
    end = release_day + ONE_DAY
    return rally_date(min(start, end - ONE_DAY)), rally_date(end)


class Releases:
    def __init__(self, service: Rally):
        self.service = service

    def send(self, release: Any) -> Any:
        """The release's Rally release, updated when linked, created when not or gone."""
        return self.service.create_or_update(
            self.service.link(release, "id"),
            update=lambda release_id: self.update(release_id, release),
            create=lambda: self.create(release),
            what="release",
        )

    def fields(self, release: Any) -> dict[str, Any]:
        start, end = release_dates(release)
        theme = (release.get("theme") or {}).get("body") or ""
        fields = {
            "Name": self.service.fit_title("Name", str(release.get("name") or "")),
            "Project": f"/project/{self.service.data.get('project')}",
            "ReleaseDate": end,
            "ReleaseStartDate": start,
            "Theme": self.service.fit_text("Theme", theme, url=release.get("url")),
        }
        workspace = self.service.workspace_ref()
        if workspace:
            fields["Workspace"] = workspace
        return fields

    def create(self, release: Any) -> str:
        body = {"Release": {**self.fields(release), "State": "Planning"}}
        answer = self.service.write("PUT", "/release/create", body) or {}
        created = (answer.get("CreateResult") or {}).get("Object") or {}
        if not created.get("ObjectID"):
            raise RemoteError("Rally answered PUT /release/create without an ObjectID")
        release_id = str(created["ObjectID"])
        self.service.write_links(
            release, {"id": release_id, "url": self.service.detail_url("release", release_id)}
        )
        self.service.logger.info(f"Created Rally release {release_id}")
        return release_id

    def update(self, release_id: Any, release: Any) -> str:
        """Name, dates and theme; the State stays what Rally's users made it."""
        path = f"/release/{quote(str(release_id), safe='')}"
        self.service.write("POST", path, {"Release": self.fields(release)})
        self.service.logger.info(f"Updated Rally release {release_id}")
        return str(release_id)

    def exists(self, release_id: Any) -> bool:
        """Whether Rally still has the release (one deleted there is not set on stories)."""
        try:
            self.service.tracker_json("GET", f"/release/{quote(str(release_id), safe='')}")
        except RemoteGone:
            return False
        return True
