"""The base of two-way trackers (GitHub Issues, GitLab Issues, Trello, Redmine, ...).

What every tracker does the same way lives here once: requests relative to a base
URL with errors mapped by status, links kept in integration fields, create or
update (never duplicate, recreate what is gone), the text of a record cut to the
tracker's limits, and finding the Aha! record a tracker webhook speaks of.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar
from urllib.parse import urlsplit

from services.core.errors import ConfigurationError, InvalidUrlError, RemoteError
from services.core.errors_by_status import body_excerpt, raise_for_status
from services.core.markup import display_name, html_to_markdown, reference_num_to_resource_type
from services.core.service import Service
from services.core.text_limits import TextLimits

if TYPE_CHECKING:
    import requests

    from services.core.json_shapes import JsonShape
    from services.core.mash import Mash

T = TypeVar("T")
# What trackers answer for a record that was deleted (410) or is not there (404).
GONE_STATUSES = frozenset({404, 410})
# The records a tracker webhook may change; a release sharing an issue number does not count.
WEBHOOK_RECORD_KINDS = ("feature", "requirement")


def _github_markdown(html: str) -> str:
    return html_to_markdown(html, github=True)


class RemoteGone(RemoteError):
    """The tracker says the linked object is gone: deleted, moved away, or never there."""


class GoneRecords:
    """Whether an answer means "gone", decided once for every tracker, and the
    create-or-update that recreates what is gone.

    A tracker whose API says "gone" in other words (a body-coded error) extends
    ``is_gone``; every create-or-update path then treats that answer like a 404.
    """

    # How messages name the tracker: "GitHub refused the credentials ...".
    tracker_name: ClassVar[str] = "The tracker"
    logger: Any

    def is_gone(self, status: int, body: str) -> bool:
        """Whether an error answer says that the object asked for no longer exists."""
        return status in GONE_STATUSES

    def create_or_update(
        self, linked_id: Any, *, update: Callable[[Any], T], create: Callable[[], T], what: str
    ) -> T:
        """Update the linked object; create it when there is no link, or when it is gone."""
        if linked_id:
            try:
                return update(linked_id)
            except RemoteGone:
                self.logger.warn(
                    f"The linked {what} {linked_id} is gone from {self.tracker_name}; "
                    "creating it again"
                )
        return create()


def _tag_names(tags: Any) -> set[str]:
    """Tags as a set of names, whether a list (of names or ``{name}``) or ``"a,b"``."""
    if isinstance(tags, str):
        tags = tags.split(",")
    if not isinstance(tags, list | tuple):
        return set()
    names = (tag.get("name") if isinstance(tag, Mapping) else tag for tag in tags)
    return {str(name).strip() for name in names if name is not None and str(name).strip()}


def already_holds(record: Mapping[str, Any], name: str, value: Any) -> bool:
    """Whether the record already holds ``value`` in ``name``: a status given by id or
    name, tags in any order, anything else as text. A value the record does not
    carry counts as a change."""
    if name not in record:
        return False
    current = record.get(name)
    if name == "tags":
        return _tag_names(current) == _tag_names(value)
    if isinstance(current, Mapping) and not isinstance(value, Mapping):
        return value is not None and str(value) in {
            str(current.get(key)) for key in ("id", "name") if current.get(key) is not None
        }
    if current == value:
        return True
    return (
        not isinstance(value, Mapping | list)
        and current is not None
        and (str(current) == str(value))
    )


def http_address(value: Any, what: str, example: str) -> str:
    """An http(s) address from a setting, without a trailing slash, its path kept (a
    server's context path); else a ConfigurationError: "<what> must be an http(s) address
    such as <example>"."""
    url = str(value or "").strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(f"{what} must be an http(s) address such as {example}")
    return url


def tracker_url(base_url: str, path: str) -> str:
    """``path`` appended to the base, whatever slashes either has."""
    return f"{str(base_url).rstrip('/')}/{str(path).lstrip('/')}"


def record_files(record: Any) -> list[Any]:
    """The description's files and the record's that can be downloaded, each name once."""
    description = record.get("description") or {}
    named: dict[str, Any] = {}
    for attachment in [*(description.get("attachments") or []), *(record.get("attachments") or [])]:
        if attachment.get("file_name") and attachment.get("download_url"):
            named.setdefault(str(attachment["file_name"]), attachment)
    return list(named.values())


def files_missing(record: Any, present: Callable[[], Iterable[str]] | None) -> list[Any]:
    """The record's files whose names the tracker's object lacks. ``present`` (the names it
    holds) is asked only when there are files; None for an object just created."""
    files = record_files(record)
    if not files or present is None:
        return files
    held = {str(name) for name in present()}
    return [f for f in files if str(f["file_name"]) not in held]


def labelled(items: Iterable[Mapping[str, Any]], label: str, value: str) -> list[list[Any]]:
    """``[label, value]`` pairs for a select, sorted by label case-insensitively."""
    pairs = [[item.get(label), item.get(value)] for item in items or []]
    return sorted(pairs, key=lambda pair: str(pair[0] or "").casefold())


class TrackerService(GoneRecords, TextLimits, Service):
    """A service that mirrors Aha! records into a tracker and reads its webhooks back."""

    abstract: ClassVar[bool] = True

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

    def tracker_json(
        self, method: str, path: str, *, shape: JsonShape | None = None, **kwargs: Any
    ) -> Any:
        """The JSON answer of ``tracker_request``; None for an empty body. With ``shape``,
        an answer of another shape is a RemoteError naming it (``http.json_body``)."""
        from services.core.http import json_body

        response = self.tracker_request(method, path, **kwargs)
        if not response.content.strip():
            return None
        return json_body(response, self.tracker_name, shape)

    def tracker_pages(self, path: str, **kwargs: Any) -> list[Any]:
        """Every item of a list and of the pages its ``Link: rel="next"`` header names."""
        options = self._options(kwargs)
        return self.http.get_all_pages(
            tracker_url(self.base_url(), path),
            base_url=self.base_url(),
            check=lambda response: self.check_tracker_response(response, "GET", path),
            **options,
        )

    # What a call needs, by method, when the tracker refuses it with a 403.
    permissions: ClassVar[Mapping[str, str]] = {
        "GET": "read",
        "POST": "create",
        "PUT": "edit",
        "PATCH": "edit",
        "DELETE": "delete",
    }

    def check_tracker_response(self, response: requests.Response, method: str, path: str) -> None:
        """The core's one rule (``services.core.errors_by_status``): 401 and a lockout are
        configuration errors, another 403 names the permission the call needs, what
        ``is_gone`` says is gone raises RemoteGone, anything else a RemoteError."""
        raise_for_status(
            response,
            service=self.tracker_name,
            method=method,
            path=path,
            describe=self.describe_bad_request,
            permission=self.permissions.get(method.upper(), "administer"),
            gone=RemoteGone,
            is_gone=self.is_gone,
            excerpt=self.error_excerpt,
            classify=self.classify_response,
        )

    def error_excerpt(self, response: requests.Response) -> str:
        """What an error message quotes of an error answer: by default the body's start."""
        return body_excerpt(response)

    def classify_response(self, response: requests.Response) -> str | None:
        """What an answer means when the tracker says it in its body (a code, an error in a
        200): a verdict of ``services.core.errors_by_status``; None lets the status decide."""
        return None

    def describe_bad_request(self, response: requests.Response) -> str:
        """What a 400 answer says was wrong; empty: its body is quoted as it is."""
        return ""

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

    # --- text ------------------------------------------------------------------------------

    @staticmethod
    def record_title(record: Any) -> str:
        return display_name(record)

    @staticmethod
    def attachment_lines(record: Any) -> list[str]:
        """``file_name (download_url)`` for the description's and the record's attachments;
        the half that is there when the other is missing, nothing when both are."""
        description = record.get("description") or {}
        attachments = [*(description.get("attachments") or []), *(record.get("attachments") or [])]
        lines = []
        for attachment in attachments:
            name = str(attachment.get("file_name") or "").strip()
            url = str(attachment.get("download_url") or "").strip()
            if name and url:
                lines.append(f"{name} ({url})")
            elif name or url:
                lines.append(name or url)
        return lines

    @staticmethod
    def created_from_aha(record: Any) -> str:
        """``Created from Aha! <url>``; empty when the record has no URL to point at."""
        url = record.get("url")
        return f"Created from Aha! {url}" if url else ""

    def record_text(
        self,
        record: Any,
        *,
        field: str,
        convert: Callable[[str], str] = _github_markdown,
    ) -> str:
        """The description converted from HTML and its attachments, cut to ``field``'s
        limit, then where it came from."""
        description = record.get("description") or {}
        parts = [convert(description.get("body") or ""), "\n".join(self.attachment_lines(record))]
        text = "\n\n".join(part for part in parts if part)
        return self.fit_text(field, text, url=record.get("url"), keep=self.created_from_aha(record))

    def fetch_file(self, attachment: Any) -> bytes | None:
        """A record's file, downloaded through the address guard; None, after a warning
        naming it, when it cannot be fetched (refused, too large, gone), so that the
        event goes on with the other files."""
        name = attachment.get("file_name")
        try:
            return self.http.download(str(attachment.get("download_url")))
        except (RemoteError, InvalidUrlError, ConfigurationError) as error:
            self.logger.warn(f"The file {name} was not sent to {self.tracker_name}: {error}")
            return None

    # --- webhooks --------------------------------------------------------------------------

    def find_linked_record(
        self, field: str, value: Any, *, named: str | None = None
    ) -> tuple[str, Mash] | None:
        """The one feature or requirement linked by ``field`` = ``value``, with its kind.

        None, after one warning naming the value (or ``named``: the tracker's object in
        its own words), when no record or several are linked.
        """
        answer = self.api.search_integration_fields(self.data.get("integration_id"), field, value)
        matches = [
            (kind, result[kind])
            for result in answer.get("records") or []
            for kind in WEBHOOK_RECORD_KINDS
            if result.get(kind)
        ]
        what = named or f"{field} {value}"
        if not matches:
            self.logger.warn(f"{what} is not linked to a record in Aha!; nothing changed")
            return None
        if len(matches) > 1:
            self.logger.warn(f"{len(matches)} Aha! records are linked to {what}; none was changed")
            return None
        return matches[0]

    def update_linked_record(self, kind: str, record: Any, changes: Mapping[str, Any]) -> Any:
        """PUT the changes to the record's own path on the configured Aha! base.

        Only the path of the record's ``resource`` URL is used, so the token goes
        nowhere a payload names. Nothing is sent when nothing changed: a value the
        record already holds is no change (the tracker's echo of what Aha! sent it).
        """
        changes = {k: v for k, v in changes.items() if not already_holds(record, k, v)}
        if not changes:
            self.logger.debug(f"No change for {kind} {record.get('reference_num')}")
            return None
        return self.api.put(record.get("resource"), {kind: dict(changes)})
