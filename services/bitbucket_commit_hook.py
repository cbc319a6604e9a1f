"""Bitbucket Commit Hook: commits that name an Aha! feature or requirement add a comment to it."""

from __future__ import annotations

import html
import re
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

# "Name <address>", the shape of a commit's raw author; the name may be quoted or absent.
_NAMED_ADDRESS = re.compile(r"^\s*(?P<name>.*?)\s*<(?P<address>[^<>\s]+@[^<>\s]+)>\s*$")
_BARE_ADDRESS = re.compile(r"^\s*(?P<address>[^<>\s]+@[^<>\s]+)\s*$")


def parse_author(raw: str) -> tuple[str | None, str | None]:
    """(display name, email address) from a git author such as ``Ada Lovelace <ada@example.com>``.

    A raw author without an address is all name; a bare address has no name.
    """
    named = _NAMED_ADDRESS.match(raw)
    if named:
        name = named["name"].strip()
        if len(name) > 1 and name[0] == name[-1] == '"':
            name = name[1:-1].replace('\\"', '"')
        return name or None, named["address"]
    bare = _BARE_ADDRESS.match(raw)
    if bare:
        return None, bare["address"]
    return raw.strip() or None, None


class BitbucketCommitHook(CommitHook):
    title = "Bitbucket Commit Hook"
    service_name = "bitbucket_commit_hook"
    caption = "Create Aha! comments from Bitbucket commits"

    def commit_notes(self, push: Any) -> Iterator[CommitNote]:
        """Every commit of every change (branch or tag) in the push."""
        for change in as_list(at(push, "push", "changes")):
            for commit in as_list(change.get("commits")):
                name, email = parse_author(dig(commit, "author", "raw"))
                yield CommitNote(
                    message=dig(commit, "message"),
                    email=email,
                    body=comment_body(
                        f"{html.escape(name or email or 'Someone')} committed:",
                        dig(commit, "message"),
                        link(dig(commit, "links", "html", "href"), dig(commit, "hash")),
                    ),
                )
