"""The Aha! API client, sending the request shapes of Aha!'s own Ruby client."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from services.core.errors import ConfigurationError, MissingSetting, RemoteError
from services.core.http import HttpClient, json_or_text
from services.core.mash import Mash, mash

API_URL_VARIABLE = "AHA_API_URL"
DEFAULT_URL_BASE = "https://aha.io/"
API_VERSION = "v1"
# How messages name Aha! ("rate limited by Aha!").
REMOTE_NAME = "Aha!"


class AhaApiError(RemoteError):
    """Aha! answered with an error status; the message reads ``METHOD URL => status ...``."""

    def __init__(
        self, method: str, url: str, status: int, body: Any, redact: Callable[[str], str] = str
    ):
        self.status = status
        self.body = body
        super().__init__(redact(f"{method} {url} => {status} {_error_text(body)}".rstrip()))


class BadRequest(AhaApiError): ...


class Unauthorized(AhaApiError): ...


class Forbidden(AhaApiError): ...


class NotFound(AhaApiError): ...


class NotAcceptable(AhaApiError): ...


class UnprocessableEntity(AhaApiError): ...


class InternalServerError(AhaApiError): ...


class NotImplemented(AhaApiError): ...


class BadGateway(AhaApiError): ...


class ServiceUnavailable(AhaApiError): ...


ERRORS_BY_STATUS: dict[int, type[AhaApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    406: NotAcceptable,
    422: UnprocessableEntity,
    500: InternalServerError,
    501: NotImplemented,
    502: BadGateway,
    503: ServiceUnavailable,
}


def _error_text(body: Any) -> str:
    """``message: errors`` from an Aha! error body, as Aha!'s Ruby client words it."""
    if not isinstance(body, Mapping):
        return ""
    message = str(body.get("error") or body.get("message") or "")
    errors = body.get("errors")
    details = ""
    if isinstance(errors, Mapping) and errors.get("message"):
        details = str(errors["message"])
    elif isinstance(errors, list) and errors:
        texts = [str(e.get("message", e)) if isinstance(e, Mapping) else str(e) for e in errors]
        details = ", ".join(texts)
    return ": ".join(part for part in (message, details) if part)


def api_root(api_url: str) -> str:
    """The root that ``api/v1/...`` paths join, from ``AHA_API_URL``.

    ``AHA_API_URL`` is the full base URL of the Aha! API, ``https://acme.aha.io/api/v1``;
    written without ``/api/v1`` (``https://acme.aha.io``) it means the same.
    """
    root = api_url.strip().rstrip("/")
    suffix = f"/api/{API_VERSION}"
    if root.lower().endswith(suffix):
        root = root[: -len(suffix)]
    return root + "/"


def api_base_url(domain: str | None, url_base: str | None = None) -> str:
    """``https://<domain>.aha.io/`` from the account, unless ``AHA_API_URL`` replaces it."""
    override = os.environ.get(API_URL_VARIABLE, "").strip()
    if override:
        return api_root(override)
    if not domain:
        raise MissingSetting(
            "The Aha! account domain (aha_account_domain) is not set, "
            f"and neither is {API_URL_VARIABLE}"
        )
    parts = urlsplit(str(url_base or DEFAULT_URL_BASE))
    if not parts.hostname:
        raise ConfigurationError(f"The Aha! API URL base {url_base!r} is not a URL")
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme or 'https'}://{domain}.{parts.hostname}{port}/"


def _segment(value: object) -> str:
    return quote(str(value), safe="")


class AhaApi:
    """JSON in and out as mashes; errors by status; rate limits waited out by the client."""

    def __init__(
        self,
        http: HttpClient,
        *,
        domain: str | None = None,
        url_base: str | None = None,
        token: str | None = None,
    ):
        self.http = http
        self.http.remote_name = REMOTE_NAME
        self.domain = domain
        self.url_base = url_base
        self.token = token
        http.logger.redactor.add(token)

    @property
    def base_url(self) -> str:
        return api_base_url(self.domain, self.url_base)

    def url(self, path: str) -> str:
        """Join a path to the API base; a full URL keeps only its path, so the token stays home."""
        parts = urlsplit(str(path))
        relative = parts.path.lstrip("/")
        if parts.query:
            relative += "?" + parts.query
        return self.base_url + relative

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> Mash:
        url = self.url(path)
        if not self.token:
            raise MissingSetting("The Aha! API token (aha_api_token) is not set")
        response = self.http.request(
            method,
            url,
            params=dict(params or {}) or None,
            json=body,
            headers={
                "Authorization": f"Bearer {self.token}",
                "Accept": "application/json",
            },
        )
        parsed = json_or_text(response)
        if response.status_code >= 400:
            error_class = ERRORS_BY_STATUS.get(response.status_code, AhaApiError)
            raise error_class(
                method.upper(),
                response.url or url,
                response.status_code,
                parsed,
                self.http.logger.redactor,
            )
        if isinstance(parsed, Mapping):
            return mash(parsed)
        return mash({"items": parsed}) if isinstance(parsed, list) else mash()

    def get(self, path: str, **params: Any) -> Mash:
        return self.request("GET", path, params=params)

    def delete(self, path: str, **params: Any) -> Mash:
        return self.request("DELETE", path, params=params)

    def post(self, path: str, body: Any = None) -> Mash:
        return self.request("POST", path, body=body)

    def put(self, path: str, body: Any = None) -> Mash:
        return self.request("PUT", path, body=body)

    def patch(self, path: str, body: Any = None) -> Mash:
        return self.request("PATCH", path, body=body)

    def paginate(
        self,
        path: str,
        key: str | None = None,
        *,
        per_page: int = 100,
        limit: int | None = None,
        page: int = 1,
        **params: Any,
    ) -> Iterator[Mash]:
        """Every record of a paginated list, from ``page`` on, up to ``limit`` records."""
        yielded = 0
        while limit is None or yielded < limit:
            answer = self.get(path, page=page, per_page=per_page, **params)
            records = answer.get(key) if key else _single_list(answer)
            for record in records or []:
                yield record
                yielded += 1
                if yielded == limit:
                    return
            pagination = answer.get("pagination")
            if not isinstance(pagination, Mapping):  # none, or none understood: one page
                return
            total_pages = _whole_number(pagination.get("total_pages"), 0)
            current = max(page, _whole_number(pagination.get("current_page"), page))
            if not records or current >= total_pages:
                return
            page = current + 1

    def _v1(self, *segments: object) -> str:
        return "/".join(["api", API_VERSION, *(_segment(s) for s in segments)])

    def create_integration_fields(
        self,
        resource_type: str,
        resource_id: object,
        integration_id: object,
        fields: Mapping[str, Any],
    ) -> Mash:
        body = {"integration_fields": [{"name": k, "value": v} for k, v in fields.items()]}
        return self.post(
            self._v1(resource_type, resource_id, "integrations", integration_id, "fields"), body
        )

    def create_integration_field(
        self,
        resource_type: str,
        resource_id: object,
        integration_id: object,
        name: str,
        value: Any,
    ) -> Mash:
        body = {"integration_field": {"name": name, "value": value}}
        return self.post(
            self._v1(resource_type, resource_id, "integrations", integration_id, "fields"), body
        )

    def integration_field(
        self, resource_type: str, resource_id: object, integration_id: object, field_name: str
    ) -> Mash:
        return self.get(
            self._v1(
                resource_type, resource_id, "integrations", integration_id, "fields", field_name
            )
        )

    def search_integration_fields(
        self, integration_id: object, field_name: str, field_value: object
    ) -> Mash:
        return self.get(
            self._v1("integrations", integration_id, "fields", field_name, "value", field_value)
        )

    def adjacent_integration_fields(
        self, resource_type: str, resource_id: object, integration_id: object
    ) -> Mash:
        return self.get(
            self._v1(resource_type, resource_id, "integrations", integration_id, "adjacent_fields")
        )

    def create_comment(
        self,
        commentable_type: str,
        commentable_id: object,
        email: str | None,
        body: str,
        **options: Any,
    ) -> Mash:
        comment = {**options, "user_email": email, "body": body}
        return self.post(
            self._v1(commentable_type, commentable_id, "comments"), {"comment": comment}
        )

    def comments(self, commentable_type: str, commentable_id: object, **params: Any) -> Mash:
        return self.get(self._v1(commentable_type, commentable_id, "comments"), **params)

    def feature(self, reference: object, **params: Any) -> Mash:
        return self.get(self._v1("features", reference), **params)

    def create_feature(self, name: str, description: str, **options: Any) -> Mash:
        return self.post(
            self._v1("features"), {**options, "name": name, "description": description}
        )

    def update_feature(self, reference: object, body: Mapping[str, Any]) -> Mash:
        return self.put(self._v1("features", reference), dict(body))

    def create_idea(self, product_id: object, name: str, description: str, **options: Any) -> Mash:
        body = {**options, "name": name, "description": description}
        return self.post(self._v1("products", product_id, "ideas"), body)

    def integration_candidates(self, **params: Any) -> Mash:
        return self.get(self._v1("integration_candidates"), **params)

    def user(self, user_id: object) -> Mash:
        return self.get(self._v1("users", user_id))


def _single_list(answer: Mash) -> list:
    lists = [
        value for key, value in answer.items() if key != "pagination" and isinstance(value, list)
    ]
    return lists[0] if len(lists) == 1 else []


def _whole_number(value: Any, default: int) -> int:
    """A page number as Aha! writes it (a number, or digits); ``default`` for anything
    else, so that a page the answer names wrongly never sends the walk back."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    digits = isinstance(value, str) and value.isascii() and value.isdigit()
    return int(value) if digits else default
