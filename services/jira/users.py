"""Aha! users as Jira users, through Jira's user picker: the one person an e-mail names."""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from services.jira.service import Jira

_BOLD = re.compile(r"<strong>(.*?)</strong>", re.I | re.S)
_TAG = re.compile(r"<[^>]*>")
MARK = "\x00"
# The matched text is the whole e-mail only when no e-mail character goes on after it:
# "<strong>bob@acme.test</strong>.uk" is somebody else.
_WHOLE = re.compile(f"(?<![\\w.@+-]){MARK}(?!\\.?[\\w@+-])")


def _marked(user: Any, wanted: str) -> list[bool]:
    """For each bold run of the entry's ``html`` that reads ``wanted``: whether it stands
    alone, not the start or the end of a longer address."""
    found = []
    source = str(user.get("html") or "")
    for run in _BOLD.finditer(source):
        if html.unescape(run.group(1)).strip().casefold() != wanted:
            continue
        marked = source[: run.start()] + MARK + source[run.end() :]
        found.append(bool(_WHOLE.search(html.unescape(_TAG.sub("", marked)))))
    return found


def _matches(user: Any, wanted: str) -> bool:
    """Whether a picker entry is the whole e-mail (or name): Jira marks the matched text
    in bold in ``html``; on Server ``name`` or ``key`` may equal it."""
    wanted = wanted.casefold()
    plain = [str(user.get(k) or "").casefold() for k in ("name", "key", "displayName")]
    return any(_marked(user, wanted)) or wanted in plain


def _someone_else(user: Any, wanted: str) -> bool:
    """Whether the entry shows ``wanted`` only as part of a longer address."""
    marks = _marked(user, wanted.casefold())
    return bool(marks) and not any(marks)


def reference(user: Any) -> dict[str, Any]:
    """How Jira names a user in a field: ``accountId`` on Cloud, ``name`` on Server."""
    if user.get("accountId"):
        return {"accountId": user["accountId"]}
    return {"name": user.get("name")}


class UserPicker:
    """Looks users up once per event."""

    def __init__(self, service: Jira):
        self.service = service
        self._found: dict[str, Any] = {}

    def find(self, aha_user: Any, role: str) -> dict[str, Any] | None:
        """The Jira user for an Aha! user, by e-mail then by name; None when not found
        (or when several people match and none exactly)."""
        if not aha_user:
            return None
        for query in (aha_user.get("email"), aha_user.get("name")):
            if not query:
                continue
            query = str(query)
            if query not in self._found:
                self._found[query] = self.pick(query, role)
            if self._found[query] is not None:
                return self._found[query]
        return None

    def pick(self, query: str, role: str) -> dict[str, Any] | None:
        answer = (
            self.service.tracker_json(
                "GET", "/user/picker", params={"query": query}, shape="object"
            )
            or {}
        )
        users = answer.get("users") or []
        if not users:
            return None
        matching = [user for user in users if _matches(user, query)]
        if len(matching) == 1:
            return reference(matching[0])
        if len(users) == 1 and not _someone_else(users[0], query):
            return reference(users[0])
        self.service.logger.warn(
            f"Jira's user picker found {len(users)} "
            f"{'person' if len(users) == 1 else 'people'} for the {role} {query} and none "
            f"exactly; the {role} is left unset"
        )
        return None
