"""Aha! comments as comments on the linked Jira issue."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from services.core.text_limits import text_length
from services.jira.text import TEXT_LIMIT, wiki_text

if TYPE_CHECKING:
    from services.jira.service import Jira


def comment_body(comment: Any) -> str:
    """Who wrote it and where, a blank line, then the comment as wiki markup."""
    user = (comment.get("user") or {}).get("name") or "someone"
    url = comment.get("url") or ""
    header = (
        f"Comment added by {user} in [Aha!|{url}]" if url else f"Comment added by {user} in Aha!"
    )
    room = TEXT_LIMIT - text_length(header) - 2
    return f"{header}\n\n" + wiki_text(comment.get("body"), room, url)


def send_comment(service: Jira, comment: Any, commentable: Any) -> None:
    """Posted to the issue the commented record is linked to; nothing when it is not linked."""
    issue_id = service.link(commentable or {}, "id")
    if not issue_id:
        service.logger.info("The commented record is not linked to a Jira issue; comment not sent")
        return
    path = f"/issue/{quote(str(issue_id), safe='')}/comment"
    service.tracker_json("POST", path, json={"body": comment_body(comment)})
    service.logger.info(f"Added a comment to Jira issue {issue_id}")
