"""The base of two-way trackers (GitHub Issues, GitLab Issues, Trello, Redmine, ...).

What every tracker does the same way lives here once: requests relative to a base
URL with errors mapped by status, links kept in integration fields, create or
update (never duplicate, recreate what vanished), the text of a record, and
finding the Aha! record a tracker webhook speaks of.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from services.core.errors import ConfigurationError, RemoteError
from services.core.markup import display_name, html_to_markdown, reference_num_to_resource_type
from services.core.service import Service

if TYPE_CHECKING:
    import requests

    from services.core.mash import Mash

T = TypeVar("T")
ERROR_BODY_LIMIT = 500
# The records a tracker webhook may change; a release sharing an issue number does not count.
WEBHOOK_RECORD_KINDS = ("feature", "requirement")


def _github_markdown(html: str) -> str:
    return html_to_markdown(html, github=True)


class RemoteNotFound(RemoteError):
    """The tracker answered 404: the object is gone, or was never there."""


def tracker_url(base_url: str, path: str) -> str:
    """``path`` appended to the base, whatever slashes either has."""
    return f"{str(base_url).rstrip('/')}/{str(path).lstrip('/')}"


def labelled(items: Iterable[Mapping[str, Any]], label: str, value: str) -> list[list[Any]]:
    """``[label, value]`` pairs for a select, sorted by label case-insensitively."""
    pairs = [[item.get(label), item.get(value)] for item in items or []]
    return sorted(pairs, key=lambda pair: str(pair[0] or "").casefold())


class TrackerService(Service):
    """A service that mirrors Aha! records into a tracker and reads its webhooks back."""

    abstract: ClassVar[bool] = True
    # How messages name the tracker: "GitHub refused the credentials ...".
    tracker_name: ClassVar[str] = "The tracker"

    # --- talking to the tracker ---------------------------------------------------------

    def remote(self) -> str:
        return self.tracker_name

    def base_url(self) -> str:
        """The tracker's API base URL, from the settings or the documented default."""
        raise NotImplementedError

    def tracker_request_options(self) -> dict[str, Any]:
        """Headers or auth that every request to the tracker carries."""
        return {}

    def _options(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        options = self.tracker_request_options()
        headers = {**options.get("headers", {}), **kwargs.pop("headers", {})}
        # Every request carries the tracker's credentials, in whatever header it uses:
        # never over plain http, except to a host AHA_SERVICES_ALLOWED_HOSTS names.
        options = {"sends_credentials": True, **options, **kwargs}
        if headers:
            options["headers"] = headers
        return options

    def tracker_request(
        self, method: str, path: str, *, accept: Iterable[int] = (), **kwargs: Any
    ) -> requests.Response:
        """A request to ``path`` under the base URL; an error status raises, unless the
        caller ``accept``s it to handle it itself."""
        options = self._options(kwargs)
        response = self.http.request(method, tracker_url(self.base_url(), path), **options)
        if response.status_code not in accept:
            self.check_tracker_response(response, method.upper(), path)
        return response

    def tracker_json(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON answer of ``tracker_request``; None for an empty body."""
        response = self.tracker_request(method, path, **kwargs)
        return response.json() if response.content.strip() else None

    def tracker_pages(self, path: str, **kwargs: Any) -> list[Any]:
        """Every item of a list and of the pages its ``Link: rel="next"`` header names."""
        options = self._options(kwargs)
        return self.http.get_all_pages(
            tracker_url(self.base_url(), path),
            base_url=self.base_url(),
            check=lambda response: self.check_tracker_response(response, "GET", path),
            **options,
        )

    def check_tracker_response(self, response: requests.Response, method: str, path: str) -> None:
        """401: the credentials (a configuration error); 404: RemoteNotFound; else RemoteError."""
        status = response.status_code
        if status < 400:
            return
        if status == 401:
            raise ConfigurationError(
                f"{self.tracker_name} refused the credentials (HTTP 401) for {method} {path}"
            )
        body = (response.text or "").strip()
        if len(body) > ERROR_BODY_LIMIT:
            body = body[:ERROR_BODY_LIMIT] + "..."
        error = RemoteNotFound if status == 404 else RemoteError
        raise error(f"{self.tracker_name}: {method} {path} answered HTTP {status}: {body}")

    # --- links -----------------------------------------------------------------------------

    def link(self, record: Any, name: str) -> Any:
        """The value of this integration's field ``name`` on an Aha! record."""
        return self.get_integration_field(record.get("integration_fields"), name)

    def write_links(self, record: Any, fields: Mapping[str, Any]) -> None:
        """Every link field of one record, in one call to Aha!."""
        reference = record.get("reference_num")
        self.api.create_integration_fields(
            reference_num_to_resource_type(reference),
            reference,
            self.data.get("integration_id"),
            dict(fields),
        )

    def create_or_update(
        self, linked_id: Any, *, update: Callable[[Any], T], create: Callable[[], T], what: str
    ) -> T:
        """Update the linked object; create it when there is no link, or when it vanished."""
        if linked_id:
            try:
                return update(linked_id)
            except RemoteNotFound:
                self.logger.warn(
                    f"The linked {what} {linked_id} is gone from {self.tracker_name}; "
                    "creating it again"
                )
        return create()

    # --- text ------------------------------------------------------------------------------

    @staticmethod
    def record_title(record: Any) -> str:
        return display_name(record)

    @staticmethod
    def attachment_lines(record: Any) -> list[str]:
        """``file_name (download_url)`` for the description's and the record's attachments."""
        description = record.get("description") or {}
        attachments = [*(description.get("attachments") or []), *(record.get("attachments") or [])]
        return [f"{a.get('file_name')} ({a.get('download_url')})" for a in attachments]

    @staticmethod
    def created_from_aha(record: Any) -> str:
        return f"Created from Aha! {record.get('url')}"

    def record_text(
        self,
        record: Any,
        *,
        convert: Callable[[str], str] = _github_markdown,
        with_origin: bool = True,
    ) -> str:
        """The description converted from HTML, its attachments, and where it came from."""
        description = record.get("description") or {}
        parts = [convert(description.get("body") or "")]
        parts.append("\n".join(self.attachment_lines(record)))
        if with_origin:
            parts.append(self.created_from_aha(record))
        return "\n\n".join(part for part in parts if part)

    # --- webhooks --------------------------------------------------------------------------

    def find_linked_record(self, field: str, value: Any) -> tuple[str, Mash] | None:
        """The one feature or requirement linked by ``field`` = ``value``, with its kind.

        None, after a warning naming the value, when no record or several are linked.
        """
        answer = self.api.search_integration_fields(self.data.get("integration_id"), field, value)
        matches = [
            (kind, result[kind])
            for result in answer.get("records") or []
            for kind in WEBHOOK_RECORD_KINDS
            if result.get(kind)
        ]
        if not matches:
            self.logger.warn(f"{field} {value} is not linked to a record in Aha!; nothing changed")
            return None
        if len(matches) > 1:
            self.logger.warn(
                f"{len(matches)} Aha! records are linked to {field} {value}; none was changed"
            )
            return None
        return matches[0]

    def update_linked_record(self, kind: str, record: Any, changes: Mapping[str, Any]) -> Any:
        """PUT the changes to the record's own path on the configured Aha! base.

        Only the path of the record's ``resource`` URL is used, so the token goes
        nowhere a payload names. Nothing is sent when nothing changed.
        """
        if not changes:
            self.logger.debug(f"No change for {kind} {record.get('reference_num')}")
            return None
        return self.api.put(record.get("resource"), {kind: dict(changes)})
