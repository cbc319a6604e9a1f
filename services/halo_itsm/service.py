"""HaloITSM: features become tickets, requirements their child tickets, and ticket
statuses flow back to Aha! through HaloITSM's webhooks."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cached_property
from html import escape
from typing import TYPE_CHECKING, Any

from services.core import (
    ConfigurationError,
    MissingSetting,
    RemoteError,
    Service,
    install_button,
    internal,
    password,
    select,
    string,
)
from services.core.kits.tracker import GoneRecords
from services.halo_itsm.auth import (
    AUTH_TYPES,
    CLIENT_CREDENTIALS,
    DEFAULT_SCOPES,
    PASSWORD,
    HaloCredentials,
    normalize_base_uri,
)

if TYPE_CHECKING:
    from services.core.mash import Mash
    from services.halo_itsm.api import HaloApi


def ticket_types(meta_data: Any, data: Any) -> list[list[Any]]:
    """Answers /remote_collection for ``ticket_type``: the types ``installed`` found."""
    return [
        [entry.get("name") or f"Ticket type {entry.get('id')}", entry.get("id")]
        for entry in meta_data.get("ticket_types") or []
    ]


class HaloItsm(GoneRecords, Service):
    title = "HaloITSM"
    tracker_name = "HaloITSM"
    service_name = "halo_itsm"
    caption = "Send features to HaloITSM as tickets and follow their status"
    schema = (
        string(
            "base_uri",
            label_name="HaloITSM URL",
            description="The address of your HaloITSM, such as https://yourcompany.haloitsm.com.",
        ),
        select(
            "auth_type",
            collection=[
                ["Client ID and secret", CLIENT_CREDENTIALS],
                ["Username and password", PASSWORD],
            ],
            label_name="Authentication method",
            description="The authentication method of the HaloITSM API application.",
        ),
        string("client_id", label_name="Client ID"),
        password(
            "client_secret",
            label_name="Client secret",
            description="For client credentials; optional with a username and password.",
        ),
        string("username", description="For the username and password method."),
        password("password", description="For the username and password method."),
        string(
            "scopes",
            description="The permissions to ask for, separated by spaces (all when empty).",
        ),
        string("tenant", description="Your HaloITSM tenant, when your HaloITSM needs one."),
        install_button(),
        select(
            "ticket_type",
            collection=ticket_types,
            label_name="Ticket type",
            description="The type of the tickets that features and requirements become.",
        ),
        internal("status_mapping"),
    )
    white_listed = ("base_uri", "auth_type", "client_id", "scopes", "tenant", "ticket_type")

    def credentials(self) -> HaloCredentials:
        """The connection settings, each required one checked."""
        data = self.data
        base_uri = str(data.get("base_uri") or "").strip()
        if not base_uri:
            raise MissingSetting("The HaloITSM URL (base_uri) is not set")
        auth_type = str(
            data.get("auth_type") or (PASSWORD if data.get("username") else CLIENT_CREDENTIALS)
        )
        if auth_type not in AUTH_TYPES:
            raise ConfigurationError(
                f"Unknown authentication method {auth_type!r}: use "
                f"{CLIENT_CREDENTIALS} or {PASSWORD}"
            )
        required = ["client_id", "client_secret"]
        if auth_type == PASSWORD:
            required = ["client_id", "username", "password"]
        for name in required:
            if not str(data.get(name) or "").strip():
                field = self.field_by_name(name)
                label = (field and field.options.get("label_name")) or name.capitalize()
                raise MissingSetting(f"The {label} ({name}) is not set")
        return HaloCredentials(
            base_uri=normalize_base_uri(base_uri, "The HaloITSM URL (base_uri)"),
            client_id=str(data.client_id).strip(),
            auth_type=auth_type,
            client_secret=str(data.get("client_secret") or ""),
            username=str(data.get("username") or "").strip(),
            password=str(data.get("password") or ""),
            scopes=str(data.get("scopes") or "").strip() or DEFAULT_SCOPES,
            tenant=str(data.get("tenant") or "").strip(),
        )

    @cached_property
    def halo(self) -> HaloApi:
        """The HaloITSM API, through this service's guarded HTTP client."""
        from services.halo_itsm.api import HaloApi
        from services.halo_itsm.auth import HaloAuth

        return HaloApi(self.http, HaloAuth(self.credentials(), self.http), is_gone=self.is_gone)

    def receive_installed(self) -> None:
        """Log in, so that wrong credentials show at once, and keep the ticket types."""
        self.halo.auth.fetch()
        answer = self.halo.get("/TicketType")
        records = answer if isinstance(answer, list) else []
        if isinstance(answer, Mapping):
            records = next((v for v in answer.values() if isinstance(v, list)), [])
        self.meta_data.ticket_types = [
            {"id": entry.get("id"), "name": entry.get("name")}
            for entry in records
            if isinstance(entry, Mapping) and entry.get("id") is not None
        ]
        self.logger.info(f"Found {len(self.meta_data.ticket_types)} HaloITSM ticket types")

    def receive_create_feature(self) -> None:
        self.send_feature(self.payload.feature)

    def receive_update_feature(self) -> None:
        self.send_feature(self.payload.feature)

    def send_feature(self, feature: Mash) -> None:
        """The feature's ticket, then one child ticket per requirement."""
        if not feature:
            self.logger.warn("The event carries no feature; nothing to send to HaloITSM")
            return
        ticket_id = self.save_ticket("features", feature)
        for requirement in feature.get("requirements") or []:
            self.save_ticket("requirements", requirement, parent_id=ticket_id)

    def save_ticket(self, resource_type: str, record: Mash, parent_id: Any = None) -> Any:
        """Update the record's linked ticket, or create one when there is no link or the
        ticket is gone; returns its id."""
        ticket: dict[str, Any] = {
            "summary": record.get("name") or record.get("reference_num"),
            "details_html": ticket_details(record),
        }
        ticket_type = self.ticket_type()
        if ticket_type is not None:
            ticket["tickettype_id"] = ticket_type
        if parent_id is not None:
            ticket["parent_id"] = parent_id
        return self.create_or_update(
            self.get_integration_field(record.get("integration_fields"), "id"),
            update=lambda linked_id: self.update_ticket(linked_id, ticket, record),
            create=lambda: self.create_ticket(resource_type, ticket, record),
            what="ticket",
        )

    def update_ticket(self, linked_id: Any, ticket: dict[str, Any], record: Mash) -> Any:
        ticket_id = saved_ticket_id(
            self.halo.post("/Tickets", [{**ticket, "id": _halo_id(linked_id)}])
        )
        self.logger.info(f"Updated HaloITSM ticket {ticket_id} from {record.get('reference_num')}")
        return ticket_id

    def create_ticket(self, resource_type: str, ticket: dict[str, Any], record: Mash) -> Any:
        reference = record.get("reference_num")
        ticket_id = saved_ticket_id(self.halo.post("/Tickets", [ticket]))
        self.api.create_integration_fields(
            resource_type,
            reference,
            self.data.integration_id,
            {"id": str(ticket_id), "url": self.ticket_url(ticket_id)},
        )
        self.logger.info(f"Created HaloITSM ticket {ticket_id} from {reference}")
        return ticket_id

    def ticket_type(self) -> int | None:
        value = str(self.data.get("ticket_type") or "").strip()
        if not value:
            return None
        if not value.isdigit():
            raise ConfigurationError(
                f"The Ticket type (ticket_type) must be a HaloITSM ticket type id, not {value!r}"
            )
        return int(value)

    def ticket_url(self, ticket_id: Any) -> str:
        """The ticket's page in HaloITSM's agent view."""
        return f"{self.halo.auth.credentials.base_uri}/ticket?id={ticket_id}"

    def receive_webhook(self) -> None:
        """A ticket's new status becomes its Aha! record's workflow status."""
        ticket = webhook_ticket(self.payload)
        if ticket is None:
            self.logger.warn("The HaloITSM webhook carries no ticket; nothing to update")
            return
        ticket_id, status_id = ticket.get("id"), ticket.get("status_id")
        status = self.status_mapping().get(str(status_id))
        if not status:
            self.logger.info(
                f"HaloITSM status {status_id} of ticket {ticket_id} is not mapped to an "
                "Aha! status; skipping"
            )
            return
        records = self.linked_records(ticket_id)
        if not records:
            self.logger.info(f"HaloITSM ticket {ticket_id} is not linked to Aha!; skipping")
            return
        if len(records) > 1:
            self.logger.warn(
                f"HaloITSM ticket {ticket_id} is linked to {len(records)} Aha! records; "
                "none is updated"
            )
            return
        self.update_status(*records[0], status)

    def status_mapping(self) -> dict[str, str]:
        """HaloITSM status id -> Aha! workflow status (name or id)."""
        raw = self.data.get("status_mapping")
        if not raw:
            return {}
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except ValueError as error:
                raise ConfigurationError(
                    "The status mapping (status_mapping) is not a JSON object"
                ) from error
        if not isinstance(raw, Mapping):
            raise ConfigurationError("The status mapping (status_mapping) is not a JSON object")
        return {str(key): str(value) for key, value in raw.items() if value not in (None, "")}

    def linked_records(self, ticket_id: Any) -> list[tuple[str, Mash]]:
        """``(kind, record)`` for each Aha! feature or requirement linked to the ticket."""
        from services.core.aha_api import NotFound

        try:
            answer = self.api.search_integration_fields(self.data.integration_id, "id", ticket_id)
        except NotFound:
            return []
        found = []
        for result in answer.get("records") or []:
            for kind in ("feature", "requirement"):
                if result.get(kind):
                    found.append((kind, result[kind]))
                    break
        return found

    def update_status(self, kind: str, record: Mash, status: str) -> None:
        reference = record.get("reference_num") or record.get("id")
        current = record.get("workflow_status") or {}
        if status in (str(current.get("id")), str(current.get("name"))):
            self.logger.info(f"{reference} is already {current.get('name') or status}")
            return
        body = {kind: {"workflow_status": status}}
        if kind == "feature":
            self.api.update_feature(reference, body)
        else:
            self.api.put(f"api/v1/requirements/{reference}", body)
        self.logger.info(f"Set the status of {reference} to {status}")


def ticket_details(record: Mash) -> str:
    """The record's description, and a link back to it in Aha!."""
    description = record.get("description") or {}
    body = description.get("body") if isinstance(description, Mapping) else str(description)
    reference = escape(str(record.get("reference_num") or ""))
    url = record.get("url")
    link = f'<p>Aha! record: <a href="{escape(str(url))}">{reference}</a></p>' if url else ""
    return f"{body or ''}{link}"


def saved_ticket_id(answer: Any) -> Any:
    """The id of the ticket HaloITSM saved; it answers the ticket, or a list of them."""
    ticket = answer[0] if isinstance(answer, list) and answer else answer
    if not isinstance(ticket, Mapping) or ticket.get("id") in (None, "", 0):
        raise RemoteError("HaloITSM did not answer with the saved ticket")
    return ticket["id"]


def webhook_ticket(payload: Mash) -> Mapping[str, Any] | None:
    """The ticket of a webhook body: its ``ticket`` member, or the body itself."""
    ticket = payload.get("ticket")
    if isinstance(ticket, Mapping) and ticket.get("id") is not None:
        return ticket
    if payload.get("id") is not None and "status_id" in payload:
        return payload
    return None


def _halo_id(value: Any) -> Any:
    text = str(value).strip()
    return int(text) if text.isdigit() else text
