"""The Trello service: credentials, cards for features, checklist items for requirements.

A card moved to another list sets the linked feature's status, through the
list -> status mapping kept in ``feature_status_mapping``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote

from services.core import (
    ConfigurationError,
    MissingSetting,
    RemoteError,
    callback_url,
    install_button,
    internal,
    oauth_button,
    select,
    string,
)
from services.core.kits.tracker import TrackerService
from services.core.markup import html_to_markdown, html_to_plain
from services.trello.attachments import CardAttachments
from services.trello.selects import board_lists, boards, open_lists

DEFAULT_API_URL = "https://api.trello.com/1"
CHECKLIST_NAME = "Requirements"
POSITIONS = ("top", "bottom")
DEFAULT_POSITION = "bottom"
# Cards are due at the end of a working day (UTC) of the release date.
DUE_TIME = "T17:00:00.000Z"
# Trello answers 400 with one of these plain-text bodies for an id it does not know,
# as it does for a card or checklist item that was deleted.
GONE_BODIES = ("invalid id", "invalid objectid", "could not find")
REQUIRED_SETTINGS = {
    "board": "The Trello board (board) is not set: choose one in the integration settings",
    "list_for_new_features": (
        "The Trello list for new features (list_for_new_features) is not set: "
        "choose one in the integration settings"
    ),
}


def _segment(value: Any) -> str:
    return quote(str(value), safe="")


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@dataclass
class Card:
    """A card being synchronised in this event, and what was learned about it."""

    id: str
    created: bool
    checklist_id: str | None = None


class Trello(TrackerService):
    """Cards for features, checklist items for requirements, statuses from card moves."""

    title = "Trello"
    caption = "Send features to a Trello board"
    tracker_name = "Trello"
    # Trello refuses longer card names, descriptions, checklist item names and comments.
    field_limits = {"name": 16_384, "desc": 16_384, "check_item_name": 16_384, "comment": 16_384}
    schema = (
        oauth_button(
            request_token_url="https://trello.com/1/OAuthGetRequestToken",
            access_token_url="https://trello.com/1/OAuthGetAccessToken",
            authorize_url="https://trello.com/1/OAuthAuthorizeToken",
            parameters={"name": "Aha! Integration", "scope": "read,write", "expiration": "never"},
        ),
        string(
            "api_url",
            label_name="API URL",
            description=f"The Trello API address. Leave it empty to use {DEFAULT_API_URL}.",
        ),
        install_button(),
        select("board", collection=boards),
        select("list_for_new_features", collection=board_lists),
        select(
            "create_features_at",
            collection=[["Top", "top"], ["Bottom", "bottom"]],
            description="Where new cards go in their list. Bottom when not chosen.",
        ),
        internal("feature_status_mapping"),
        callback_url(),
    )
    white_listed = ("api_url", "board", "list_for_new_features", "create_features_at")
    # The OAuth 1 access token and secret the Authenticate button stores in the settings.
    secret_settings = ("oauth_token", "oauth_secret")

    # --- talking to Trello ------------------------------------------------------------------

    def base_url(self) -> str:
        return str(self.data.get("api_url") or "").strip() or DEFAULT_API_URL

    def tracker_request_options(self) -> dict[str, Any]:
        """OAuth 1 credentials in the Authorization header, never in the URL."""
        key, token = self.data.get("oauth_key"), self.data.get("oauth_token")
        if not key or not token:
            raise MissingSetting(
                "Trello is not authenticated (oauth_key or oauth_token is missing): "
                "use the Authenticate button"
            )
        return {
            "headers": {"Authorization": f'OAuth oauth_consumer_key="{key}", oauth_token="{token}"'}
        }

    def is_gone(self, status: int, body: str) -> bool:
        """404 and 410, and Trello's 400 for an id that names nothing (any more)."""
        return super().is_gone(status, body) or (
            status == 400 and body.strip().lower().startswith(GONE_BODIES)
        )

    # --- events -----------------------------------------------------------------------------

    def receive_installed(self) -> None:
        answer = self.tracker_json(
            "GET", "/members/me/boards", params={"lists": "open"}, shape="objects"
        )
        if not isinstance(answer, list):
            raise RemoteError("Trello: GET /members/me/boards did not answer a list of boards")
        self.meta_data.boards = [
            {"id": board.get("id"), "name": board.get("name"), "lists": open_lists(board)}
            for board in answer
        ]

    def receive_create_feature(self) -> None:
        self.sync_feature(self.payload.get("feature"))

    def receive_update_feature(self) -> None:
        self.sync_feature(self.payload.get("feature"))

    def receive_webhook(self) -> None:
        """A card moved to a mapped list sets the linked record's status."""
        action_data = (self.payload.get("action") or {}).get("data") or {}
        model = self.payload.get("model") or {}
        card_id = (action_data.get("card") or {}).get("id") or model.get("id")
        list_id = (action_data.get("listAfter") or {}).get("id") or model.get("idList")
        if not card_id or not list_id:
            self.logger.info("The Trello webhook names no card in a list; nothing to do")
            return
        status = self.status_mapping().get(str(list_id))
        if not status:
            self.logger.info(f"Trello list {list_id} is not mapped to an Aha! status")
            return
        found = self.find_linked_record("id", card_id)
        if found is None:
            return
        kind, record = found
        current = (record.get("workflow_status") or {}).get("id")
        changes = {} if str(current) == str(status) else {"workflow_status": status}
        self.update_linked_record(kind, record, changes)

    # --- features -----------------------------------------------------------------------------

    def check_settings(self) -> None:
        """The board and list are needed before anything is written."""
        for name, message in REQUIRED_SETTINGS.items():
            if not self.data.get(name):
                raise MissingSetting(message)

    def sync_feature(self, feature: Any) -> None:
        """The feature's card, its attachments, then each requirement's checklist item."""
        if not feature:
            self.logger.warn("The event carries no feature; nothing was sent to Trello")
            return
        self.check_settings()
        card = self.create_or_update(
            self.link(feature, "id"),
            update=lambda card_id: self.update_card(card_id, feature),
            create=lambda: self.create_card(feature),
            what="card",
        )
        files = CardAttachments(self, card.id)
        files.upload_missing(feature)
        for requirement in feature.get("requirements") or []:
            self.sync_requirement(card, requirement)
            files.upload_missing(requirement)

    def card_fields(self, feature: Any) -> dict[str, Any]:
        description = (feature.get("description") or {}).get("body")
        return {
            "name": self.fit_title("name", self.record_title(feature)),
            "desc": self.fit_text(
                "desc", html_to_markdown(description, github=True), url=feature.get("url")
            ),
            "due": self.due(feature),
        }

    def due(self, feature: Any) -> str | None:
        """5 pm UTC on the release date; none for a parking lot or a release without a date."""
        release = feature.get("release") or {}
        day = str(release.get("release_date") or "")[:10]
        if release.get("parking_lot") or not day:
            return None
        try:
            date.fromisoformat(day)
        except ValueError:
            self.logger.warn(f"The release date {day!r} is not a date; the card gets no due date")
            return None
        return day + DUE_TIME

    def position(self) -> str:
        chosen = str(self.data.get("create_features_at") or "").lower()
        return chosen if chosen in POSITIONS else DEFAULT_POSITION

    def update_card(self, card_id: Any, feature: Any) -> Card:
        self.tracker_json("GET", f"/cards/{_segment(card_id)}")
        self.tracker_json("PUT", f"/cards/{_segment(card_id)}", json=self.card_fields(feature))
        return Card(str(card_id), created=False)

    def create_card(self, feature: Any) -> Card:
        fields = self.card_fields(feature)
        body = {
            "name": fields["name"],
            "desc": fields["desc"],
            "idList": self.data.get("list_for_new_features"),
            "pos": self.position(),
            "due": fields["due"],
        }
        answer = self.tracker_json("POST", "/cards", json=body, shape="object") or {}
        card_id = answer.get("id")
        if not card_id:
            raise RemoteError("Trello: POST /cards answered no card id")
        self.write_links(feature, {"id": card_id, "url": answer.get("url")})
        origin = self.created_from_aha(feature)
        if origin:
            self.tracker_request(
                "POST",
                f"/cards/{_segment(card_id)}/actions/comments",
                json={"text": self.fit_text("comment", "", keep=origin)},
            )
        self.watch_card(card_id)
        return Card(str(card_id), created=True)

    def watch_card(self, card_id: str) -> None:
        """A Trello webhook on the card, so that its moves come back; failing is not fatal."""
        url = self.data.get("callback_url")
        if not url:
            return
        try:
            self.tracker_request("POST", "/webhooks", json={"callbackURL": url, "idModel": card_id})
        except (RemoteError, ConfigurationError) as error:
            self.logger.warn(f"Could not create the Trello webhook for card {card_id}: {error}")

    # --- requirements ---------------------------------------------------------------------------

    def check_item_name(self, requirement: Any) -> str:
        """``<name>. <description text>`` on one line, within Trello's limit."""
        description = (requirement.get("description") or {}).get("body")
        parts = [
            _one_line(str(requirement.get("name") or "")),
            _one_line(html_to_plain(description)),
        ]
        name = ". ".join(part for part in parts if part) or str(
            requirement.get("reference_num") or "Requirement"
        )
        return self.fit_title("check_item_name", name)

    def sync_requirement(self, card: Card, requirement: Any) -> None:
        name = self.check_item_name(requirement)
        # Items linked before the card was created again belong to the vanished card.
        linked = None if card.created else self.link(requirement, "id")
        self.create_or_update(
            linked,
            update=lambda item_id: self.tracker_json(
                "PUT",
                f"/cards/{_segment(card.id)}/checkItem/{_segment(item_id)}",
                json={"name": name},
            ),
            create=lambda: self.create_check_item(card, requirement, name),
            what="checklist item",
        )

    def create_check_item(self, card: Card, requirement: Any, name: str) -> None:
        checklist_id = self.requirements_checklist(card)
        item = self.tracker_json(
            "POST", f"/checklists/{_segment(checklist_id)}/checkItems", json={"name": name}
        )
        item_id = (item or {}).get("id")
        if not item_id:
            raise RemoteError("Trello: POST /checkItems answered no checklist item id")
        self.write_links(requirement, {"id": item_id, "checklist_id": checklist_id})

    def requirements_checklist(self, card: Card) -> str:
        """The id of the card's "Requirements" checklist, created when the card has none."""
        if card.checklist_id is None:
            checklists = (
                self.tracker_json("GET", f"/cards/{_segment(card.id)}/checklists", shape="objects")
                or []
            )
            found = next((c for c in checklists if c.get("name") == CHECKLIST_NAME), None)
            if found is None:
                found = self.tracker_json(
                    "POST", "/checklists", json={"idCard": card.id, "name": CHECKLIST_NAME}
                )
            if not (found or {}).get("id"):
                raise RemoteError("Trello: the Requirements checklist has no id")
            card.checklist_id = str(found["id"])
        return card.checklist_id

    # --- statuses -------------------------------------------------------------------------------

    def status_mapping(self) -> dict[str, Any]:
        """Trello list id -> Aha! status id, as the settings keep it (a mapping or JSON)."""
        mapping = self.data.get("feature_status_mapping")
        if isinstance(mapping, str):
            try:
                mapping = json.loads(mapping)
            except ValueError:
                mapping = None
        if not isinstance(mapping, Mapping):
            return {}
        return {str(key): value for key, value in mapping.items() if value}
