"""GitHub Commit Hook: commits that name an Aha! feature or requirement add a comment to it."""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any

from services.core.kits.commit_hooks import (
    CommitHook,
    CommitNote,
    as_list,
    at,
    comment_body,
    dig,
    link,
)


class GithubCommitHook(CommitHook):
    title = "GitHub Commit Hook"
    service_name = "github_commit_hook"
    caption = "Create Aha! comments from GitHub commits"
    intake_signature = "github"

    def commit_notes(self, push: Any) -> Iterator[CommitNote]:
        """Distinct commits only: a commit already pushed to another branch was seen before."""
        repository = link(
            dig(push, "repository", "html_url") or dig(push, "repository", "url"),
            dig(push, "repository", "name") or dig(push, "repository", "full_name"),
        )
        for commit in as_list(at(push, "commits")):
            if not commit.get("distinct"):
                continue
            committer = _committer(commit)
            heading = (
                f"{committer} committed to {repository}:"
                if repository
                else f"{committer} committed:"
            )
            yield CommitNote(
                message=dig(commit, "message"),
                email=dig(commit, "committer", "email") or None,
                body=comment_body(
                    heading,
                    dig(commit, "message"),
                    link(dig(commit, "url"), dig(commit, "url") or dig(commit, "id")),
                ),
            )


def _committer(commit: Any) -> str:
    """``Name (email)`` as HTML, with whichever half GitHub sent."""
    name = dig(commit, "committer", "name")
    email = dig(commit, "committer", "email")
    if name and email:
        return f"{html.escape(name)} ({html.escape(email)})"
    return html.escape(name or email or "Someone")
