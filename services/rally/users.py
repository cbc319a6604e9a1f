"""Rally users by e-mail (for Owner) and e-mail by user (for webhooks), once per event."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from services.core.kits.tracker import RemoteGone
from services.rally.queries import ref_path

if TYPE_CHECKING:
    from services.rally.service import Rally


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Users:
    def __init__(self, service: Rally):
        self.service = service
        self._refs: dict[str, str | None] = {}

    def ref_for_email(self, email: Any) -> str | None:
        """The ref of the user whose e-mail address or user name is ``email``; None when
        there is none."""
        email = str(email or "").strip()
        if not email:
            return None
        if email not in self._refs:
            wanted = _quoted(email)
            answer = self.service.tracker_json(
                "GET",
                "/user",
                params={
                    "query": f"((EmailAddress = {wanted}) OR (UserName = {wanted}))",
                    "fetch": "ObjectID,EmailAddress,UserName",
                },
            )
            results = ((answer or {}).get("QueryResult") or {}).get("Results") or []
            self._refs[email] = ref_path(results[0].get("_ref")) if results else None
        return self._refs[email]

    def owner(self, record: Any) -> str | None:
        """The Owner of a record's object: its assignee (unless Aha!'s default one), else
        its creator; None when neither is a Rally user."""
        assignee = record.get("assigned_to_user") or {}
        if assignee and not assignee.get("default_assignee"):
            found = self.ref_for_email(assignee.get("email"))
            if found:
                return found
        return self.ref_for_email((record.get("created_by_user") or {}).get("email"))

    def email_of(self, user_id: Any) -> str | None:
        """The e-mail address of a user named by ObjectID or UUID; None when Rally has none."""
        try:
            answer = self.service.tracker_json(
                "GET", f"/user/{quote(str(user_id), safe='')}", params={"fetch": "EmailAddress"}
            )
        except RemoteGone:
            return None
        return ((answer or {}).get("User") or {}).get("EmailAddress") or None
