"""What the commit hooks share: Aha! references in commit messages become comments on records.

A hook service turns each commit of a push into a ``CommitNote`` (the message to search, the
author's email, the HTML comment); this module finds the references and posts the comments.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

from services.core.errors import RemoteError
from services.core.markup import reference_num_to_resource_type
from services.core.mash import mash
from services.core.schema import callback_url
from services.core.service import Service
from services.core.webhook_body import carried_body

# A feature (PROD-2) or a requirement (PROD-2-1) reference, as Aha! numbers them.
REFERENCE = re.compile(r"[A-Z][A-Z0-9]*-[0-9]+(?:-[0-9]+)?")


@dataclass(frozen=True)
class CommitNote:
    """One commit, ready to be posted on every record its message refers to."""

    message: str
    email: str | None
    body: str


def references(message: object) -> list[str]:
    """The references in a commit message, each once, in the order they first appear."""
    return list(dict.fromkeys(REFERENCE.findall(str(message or ""))))


def at(value: Any, *path: str) -> Any:
    """The value at ``path`` in nested objects, or None when a step is missing or not an object."""
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def dig(value: Any, *path: str) -> str:
    """The text at ``path`` in nested objects, or ``""`` when it is missing or not text."""
    found = at(value, *path)
    return found if isinstance(found, str) else ""


def link(url: str, text: str) -> str:
    """An escaped HTML link; a URL that is not http(s) is left out, so only the text shows."""
    label = html.escape(text or url)
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        return label
    return f'<a href="{html.escape(url, quote=True)}">{label}</a>'


def comment_body(heading: str, message: str, commit_line: str) -> str:
    """The comment's HTML: who committed where, the message verbatim, and the commit.

    ``heading`` and ``commit_line`` are HTML already; the message is escaped here.
    """
    return "\n".join(
        (
            f"<p>{heading}</p>",
            f"<pre>{html.escape(message.rstrip())}</pre>",
            f"<p>Commit: {commit_line}</p>",
        )
    )


def push_body(event_payload: Mapping[str, Any]) -> Any:
    """The push a webhook carried in ``payload``, as JSON text or an object; None when blank.

    A payload without a ``payload`` key is taken to be the push itself.
    """
    try:
        raw = carried_body(event_payload)
    except ValueError as error:
        raise RemoteError(f"The push body is not valid JSON: {error}") from error
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise RemoteError(f"The push body is a {_json_type(raw)}, not a JSON object")
    return mash(raw)


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, bool):
        return "boolean"
    return "number" if isinstance(value, int | float) else type(value).__name__


def as_list(value: Any) -> list[Any]:
    """``value`` when it is a list of objects, its objects only; anything else reads as empty."""
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


class CommitHook(Service):
    """Comments on the Aha! features and requirements that pushed commits refer to."""

    abstract: ClassVar[bool] = True
    schema = (callback_url(),)

    def commit_notes(self, push: Any) -> Iterable[CommitNote]:
        """The commits of a push that should be looked at, as notes."""
        raise NotImplementedError

    def receive_webhook(self) -> None:
        push = push_body(self.payload)
        if push is None:
            self.logger.warn("The webhook carried an empty push body")
            return
        commits = comments = 0
        for note in self.commit_notes(push):
            commits += 1
            comments += self.comment_on_references(note)
        self.logger.info(f"Added {comments} comment(s) from {commits} commit(s)")

    def comment_on_references(self, note: CommitNote) -> int:
        """Posts the note on each record its message refers to; returns how many were found."""
        from services.core.aha_api import NotFound

        posted = 0
        for reference in references(note.message):
            resource_type = reference_num_to_resource_type(reference)
            try:
                self.api.create_comment(resource_type, reference, note.email, note.body)
            except NotFound:
                # Text shaped like a reference (UTF-8, ISO-9001) need not name a record.
                self.logger.warn(f"No record found for reference: {reference}")
            else:
                posted += 1
        return posted
