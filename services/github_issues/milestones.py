"""Aha! releases as GitHub milestones: reuse the linked one, else one of the same title."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from services.github_issues.service import GithubIssues


def due_on(release: Any) -> str | None:
    """The release date as GitHub's timestamp; None when the release has none."""
    date = release.get("release_date")
    return f"{date}T00:00:00Z" if date else None


def milestone_state(release: Any) -> str:
    return "closed" if release.get("released") else "open"


class Milestones:
    """The milestones of the configured repository."""

    def __init__(self, service: GithubIssues):
        self.service = service

    def find_or_attach(self, release: Any) -> dict[str, Any]:
        """The linked milestone when GitHub still has it, else one found or made and linked."""
        return self.service.create_or_update(
            self.service.link(release, "number"),
            update=self.fetch,
            create=lambda: self.attach(release),
            what="milestone",
        )

    def update_or_attach(self, release: Any) -> dict[str, Any]:
        """The linked milestone brought up to date, else one found or made and linked."""
        return self.service.create_or_update(
            self.service.link(release, "number"),
            update=lambda number: self.update(number, release),
            create=lambda: self.attach(release),
            what="milestone",
        )

    def fetch(self, number: Any) -> dict[str, Any]:
        return self.service.github_object("GET", self.service.repo_path("milestones", number))

    def title(self, release: Any) -> str:
        return self.service.fit_title("milestone_title", str(release.get("name") or ""))

    def update(self, number: Any, release: Any) -> dict[str, Any]:
        body = {
            "title": self.title(release),
            "due_on": due_on(release),
            "state": milestone_state(release),
        }
        return self.service.github_object(
            "PATCH", self.service.repo_path("milestones", number), json=body
        )

    def attach(self, release: Any) -> dict[str, Any]:
        milestone = self.titled(self.title(release)) or self.create(release)
        self.service.write_links(
            release, {"number": milestone.get("number"), "url": milestone.get("html_url")}
        )
        return milestone

    def titled(self, title: Any) -> dict[str, Any] | None:
        """The open or closed milestone with this title; an exact match wins over another case."""
        milestones = self.service.tracker_pages(
            self.service.repo_path("milestones"), params={"state": "all"}
        )
        titles = [(m, str(m.get("title") or "")) for m in milestones if isinstance(m, dict)]
        exact = [m for m, text in titles if text == str(title)]
        folded = [m for m, text in titles if text.casefold() == str(title).casefold()]
        matches = exact or folded
        return matches[0] if matches else None

    def create(self, release: Any) -> dict[str, Any]:
        description = self.service.fit_text(
            "milestone_description", "", keep=self.service.created_from_aha(release)
        )
        body = {
            "title": self.title(release),
            "description": description,
            "due_on": due_on(release),
            "state": milestone_state(release),
        }
        return self.service.github_object("POST", self.service.repo_path("milestones"), json=body)
