"""HaloITSM's REST API: authenticated JSON requests to ``<base_uri>/api``, and its pagination.

Halo pages a list when asked with ``pageinate=true``, ``page_size`` and ``page_no``
(counted from 1), and answers ``{"record_count": <total>, "<records>": [...]}``.
Endpoints that do not page answer a plain list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from services.core.errors import ConfigurationError, RemoteError
from services.core.kits.tracker import GONE_STATUSES, RemoteGone

if TYPE_CHECKING:
    import requests

    from services.core.http import HttpClient
    from services.halo_itsm.auth import HaloAuth

PAGE_SIZE = 100
_DETAIL_LIMIT = 500
# Halo's list answers carry the visible columns beside the records.
_NOT_RECORDS = frozenset({"columns"})


def _gone_status(status: int, body: str) -> bool:
    return status in GONE_STATUSES


class HaloApi:
    """JSON in and out; a token that HaloITSM refuses is renewed once and the request retried.

    An answer that ``is_gone`` says names a deleted record raises RemoteGone.
    """

    def __init__(
        self,
        http: HttpClient,
        auth: HaloAuth,
        is_gone: Callable[[int, str], bool] = _gone_status,
    ):
        self.http = http
        self.auth = auth
        self.is_gone = is_gone

    def url(self, path: str) -> str:
        """``path`` under ``<base_uri>/api``; the token never leaves that site."""
        return f"{self.auth.credentials.api_url}/{str(path).lstrip('/')}"

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> Any:
        method = method.upper()
        url = self.url(path)
        token = self.auth.access_token()
        response = self._send(method, url, token, params, body)
        if response.status_code == 401:
            self.http.logger.info("HaloITSM refused the access token; logging in again")
            response = self._send(method, url, self.auth.renew(token), params, body)
            if response.status_code == 401:
                raise ConfigurationError(
                    f"HaloITSM refused a new access token for {method} {url} (HTTP 401): "
                    "check the API application's login type and permissions"
                )
        return self._answer(method, url, response)

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any) -> Any:
        return self.request("POST", path, body=body)

    def paginate(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        limit: int | None = None,
    ) -> Iterator[Any]:
        """Every record of a list, page after page, up to ``limit`` records.

        ``page_size`` and ``page_no`` in ``params`` set the page size and the first page.
        """
        query = dict(params or {})
        size = int(query.pop("page_size", None) or PAGE_SIZE)
        page = int(query.pop("page_no", None) or 1)
        query.pop("pageinate", None)
        yielded, previous = 0, None
        while limit is None or yielded < limit:
            answer = self.get(
                path, {**query, "pageinate": "true", "page_size": size, "page_no": page}
            )
            records, total = page_records(answer, path)
            if not records or records == previous:  # an endpoint that ignores page_no
                return
            for record in records:
                yield record
                yielded += 1
                if yielded == limit:
                    return
            seen = (page - 1) * size + len(records)
            if isinstance(answer, list) or len(records) < size:
                return
            if total is not None and seen >= total:
                return
            previous, page = records, page + 1

    def _send(
        self,
        method: str,
        url: str,
        token: str,
        params: Mapping[str, Any] | None,
        body: Any,
    ) -> requests.Response:
        return self.http.request(
            method,
            url,
            params=_query(params),
            json=body,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )

    def _answer(self, method: str, url: str, response: requests.Response) -> Any:
        from services.core.http import json_or_text  # requests is loaded by now

        parsed = json_or_text(response)
        status = response.status_code
        if status < 400:
            return parsed
        detail = self.http.logger.redactor(_detail(parsed))
        if status == 403:
            raise ConfigurationError(
                f"HaloITSM denied {method} {url} (HTTP 403): the API application lacks "
                f"the permission{detail}"
            )
        error = RemoteGone if self.is_gone(status, response.text or "") else RemoteError
        raise error(f"HaloITSM answered HTTP {status} to {method} {url}{detail}")


def page_records(answer: Any, path: str = "") -> tuple[list, int | None]:
    """The records of one list answer, and the total that Halo reports, if any."""
    if isinstance(answer, list):
        return answer, None
    if not isinstance(answer, Mapping):
        return [], None
    lists = {
        str(key): value
        for key, value in answer.items()
        if isinstance(value, list) and key not in _NOT_RECORDS
    }
    named = str(path).rstrip("/").rsplit("/", 1)[-1].lower()
    records = next(
        (value for key, value in lists.items() if key.lower() in (named, named + "s")),
        next(iter(lists.values()), []),
    )
    try:
        total = int(answer["record_count"])
    except (KeyError, TypeError, ValueError):
        total = None
    return records, total


def _query(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Query values as Halo reads them: booleans as ``true`` and ``false``."""
    if not params:
        return None
    return {
        key: (str(value).lower() if isinstance(value, bool) else value)
        for key, value in params.items()
    }


def _detail(parsed: Any) -> str:
    """A short account of an error answer, for the exception text."""
    if parsed in (None, ""):
        return ""
    if isinstance(parsed, Mapping):
        message = parsed.get("message") or parsed.get("Message") or parsed.get("error")
        text = str(message) if message else str(parsed)
    else:
        text = str(parsed)
    if len(text) > _DETAIL_LIMIT:
        text = text[:_DETAIL_LIMIT] + "..."
    return f": {text}"
