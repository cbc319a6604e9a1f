"""Rally's webhook moving the linked Aha! record: name, description, tags, owner, planned
dates and state.

The message's ``state`` holds every attribute of the changed object by its UUID; they
are read by name. Only the owner is asked of Rally (its e-mail, on the configured
server); no address in the message is ever called.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from contextlib import suppress
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.core.kits.issue_tracking import tag_list
from services.core.mash import mash
from services.rally.queries import object_id
from services.rally.users import Users

if TYPE_CHECKING:
    from services.rally.service import Rally

MISSING = object()


def webhook_body(payload: Mapping[str, Any]) -> Any:
    """Rally's message: the payload itself, or JSON (text or object) under ``webhook`` or
    ``payload``."""
    for key in ("webhook", "payload"):
        body = payload.get(key)
        if isinstance(body, str):
            try:
                body = json.loads(body)
            except ValueError:
                return None
        if isinstance(body, Mapping) and body:
            return mash(body)
    return payload


def attributes_by_name(message: Any) -> dict[str, Any]:
    """``{attribute name: value}`` of a message's ``state``."""
    state = message.get("state") if isinstance(message, Mapping) else None
    if not isinstance(state, Mapping):
        return {}
    return {
        str(entry["name"]): entry.get("value")
        for entry in state.values()
        if isinstance(entry, Mapping) and entry.get("name")
    }


def value_name(value: Any) -> Any:
    """A state or schedule state: a name, or an object with one."""
    return value.get("name") if isinstance(value, Mapping) else value


def local_date(value: Any, zone: str | None) -> str | None:
    """A Rally date-time (UTC) as the day it is in the workspace's time zone."""
    text = str(value or "").strip()
    if not text:
        return None
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text[:10] or None
    if zone and moment.tzinfo is not None:
        with suppress(ZoneInfoNotFoundError, ValueError):
            moment = moment.astimezone(ZoneInfo(zone))
    return moment.date().isoformat()


class RallyWebhook:
    def __init__(self, service: Rally):
        self.service = service

    def apply(self, payload: Mapping[str, Any]) -> None:
        logger = self.service.logger
        body = webhook_body(payload)
        attributes = attributes_by_name((body or {}).get("message"))
        rally_id = attributes.get("ObjectID")
        if not rally_id:
            logger.info("Ignoring a Rally webhook without an object's ObjectID")
            return
        found = self.service.find_linked_record("id", str(rally_id))
        if found is None:
            return
        kind, record = found
        self.service.update_linked_record(kind, record, self.changes(kind, record, attributes))

    def changes(self, kind: str, record: Any, attributes: Mapping[str, Any]) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        name = attributes.get("Name")
        if name and name != record.get("name"):
            changes["name"] = name
        description = attributes.get("Description")
        if description is not None and description != (record.get("description") or {}).get("body"):
            changes["description"] = description
        if self.service.flag("send_tags") and "Tags" in attributes:
            tags = [value_name(tag) for tag in attributes.get("Tags") or [] if value_name(tag)]
            if sorted(tags) != sorted(tag_list(record.get("tags"))):
                changes["tags"] = tags
        email = self.owner_email(attributes.get("Owner"))
        current = (record.get("assigned_to_user") or {}).get("email")
        if email and str(email).casefold() != str(current or "").casefold():
            changes["assigned_to_user"] = {"email": email}
        if kind == "feature":
            zone = self.time_zone()
            for rally_field, aha_field in (
                ("PlannedStartDate", "start_date"),
                ("PlannedEndDate", "due_date"),
            ):
                day = local_date(attributes.get(rally_field), zone)
                if day and day != record.get(aha_field):
                    changes[aha_field] = day
        status = self.status(kind, attributes)
        if status and str(status) != str((record.get("workflow_status") or {}).get("id") or ""):
            changes["workflow_status"] = str(status)
        return changes

    def owner_email(self, owner: Any) -> str | None:
        """The owner's e-mail, read from Rally by the owner's id; None when there is no owner."""
        if not isinstance(owner, Mapping):
            return None
        user_id = owner.get("id") or (object_id(owner.get("ref")) if owner.get("ref") else None)
        if not user_id:
            return None
        self.service.require_connection()
        return Users(self.service).email_of(user_id)

    def status(self, kind: str, attributes: Mapping[str, Any]) -> Any:
        mapping = self.service.data.get(f"{kind}_status_mapping")
        if not isinstance(mapping, Mapping):
            return None
        for field in ("State", "ScheduleState"):
            state = value_name(attributes.get(field))
            if state and mapping.get(str(state)):
                return mapping.get(str(state))
        return None

    def time_zone(self) -> str | None:
        chosen = str(self.service.data.get("workspace") or "")
        for workspace in self.service.meta_data.get("workspaces") or []:
            if str(workspace.get("ObjectID")) == chosen:
                configuration = (workspace.get("Configuration") or {}).get(
                    "WorkspaceConfiguration"
                ) or {}
                return configuration.get("TimeZone") or None
        return None
