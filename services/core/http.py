"""Outbound HTTP for services: one requests.Session per service, guarded and logged.

Transport concerns live here, in the adapter and the connection classes, so that
service code only says what to send: the address guard runs on every request,
every redirect hop and every new socket; credentials never leave over plain http;
every request has a timeout that the event's time limit can only shorten.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util.retry import Retry

from services.core import address_guard
from services.core.errors import (
    ConfigurationError,
    InvalidUrlError,
    RemoteError,
    TimeLimitExceeded,
)
from services.core.logger import EventLogger

USER_AGENT = "aha-services-python/0.1 (+https://www.aha.io/)"
CONNECT_TIMEOUT = 25.0
READ_TIMEOUT = 310.0
RETRY_AFTER_CAP = 60.0
DOWNLOAD_LIMIT = 25 * 1024 * 1024
MAX_PAGES = 100
_LOGGED_BODY_LIMIT = 2000


class _PinnedConnectionMixin:
    """Checks the address at connect time and connects to exactly that address."""

    def _new_conn(self):  # type: ignore[no-untyped-def]
        addresses = address_guard.guard_host(self.host, self.port)
        if not addresses:
            return super()._new_conn()
        requested = self._dns_host
        self._dns_host = str(addresses[0])
        try:
            return super()._new_conn()
        finally:
            self._dns_host = requested


class _GuardedHTTPConnection(_PinnedConnectionMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_PinnedConnectionMixin, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class CappedRetry(Retry):
    """Honours Retry-After, but never waits longer than the cap."""

    def get_retry_after(self, response):  # type: ignore[no-untyped-def]
        seconds = super().get_retry_after(response)
        return None if seconds is None else min(seconds, RETRY_AFTER_CAP)


def retry_policy(attempts: int) -> Retry:
    """Bounded retries on 429 and 503, for any method, honouring Retry-After."""
    return CappedRetry(
        total=attempts,
        connect=0,
        read=0,
        status=attempts,
        status_forcelist=(429, 503),
        allowed_methods=None,
        backoff_factor=0.5,
        respect_retry_after_header=True,
        raise_on_status=False,
    )


class GuardedAdapter(HTTPAdapter):
    """Applies the address guard and the HTTPS-for-credentials rule to every hop."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _GuardedHTTPPool,
            "https": _GuardedHTTPSPool,
        }

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any):  # type: ignore[override]
        parts = address_guard.split_url(request.url or "")
        addresses = address_guard.guard_host(parts.hostname or "", parts.port)
        if parts.scheme == "http" and "Authorization" in request.headers:
            refuse_plain_http_credentials(parts.hostname or "", addresses)
        return super().send(request, *args, **kwargs)


def refuse_plain_http_credentials(host: str, addresses: list | None = None) -> None:
    """Credentials travel only over HTTPS, except to hosts the operator allowed."""
    if not address_guard.is_exempt(host, addresses):
        raise InvalidUrlError(
            f"Refusing to send credentials to {host} over plain http; use an https:// URL"
        )


# Header names that carry credentials besides Authorization (GitLab's PRIVATE-TOKEN,
# Redmine's X-Redmine-API-Key, ...).
_CREDENTIAL_HEADER = re.compile(r"(?i)auth|token|key|secret|password|signature")


class GuardedSession(requests.Session):
    """A Session that drops every credential header when a redirect changes host.

    requests itself drops only Authorization.
    """

    def rebuild_auth(self, prepared_request, response):  # type: ignore[no-untyped-def]
        super().rebuild_auth(prepared_request, response)
        if self.should_strip_auth(response.request.url, prepared_request.url):
            for name in [h for h in prepared_request.headers if _CREDENTIAL_HEADER.search(h)]:
                del prepared_request.headers[name]


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname, parts.port


class HttpClient:
    """A service's outbound HTTP: one lazily built Session with guard, timeouts and logging."""

    def __init__(
        self,
        logger: EventLogger,
        *,
        verify: bool = True,
        headers: Mapping[str, str] | None = None,
        retries: int = 0,
        time_left: Callable[[], float | None] = lambda: None,
        timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT),
    ):
        self.logger = logger
        self.verify = verify
        self.headers: dict[str, str] = dict(headers or {})
        self.retries = retries
        self.time_left = time_left
        self.timeout = timeout
        self._session: requests.Session | None = None

    @property
    def session(self) -> requests.Session:
        if self._session is None:
            session = GuardedSession()
            adapter = GuardedAdapter(max_retries=retry_policy(self.retries))
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.headers["User-Agent"] = USER_AGENT
            session.headers.update(self.headers)
            session.verify = self.verify
            self._session = session
        return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def _timeout(
        self, timeout: float | tuple[float, float] | None, what: str
    ) -> tuple[float, float]:
        connect, read = self.timeout
        if isinstance(timeout, tuple):
            connect, read = timeout
        elif timeout is not None:
            connect, read = min(connect, timeout), timeout
        left = self.time_left()
        if left is not None:
            if left <= 0:
                raise TimeLimitExceeded(f"The event's time limit was reached before {what}")
            connect, read = min(connect, left), min(read, left)
        return connect, read

    def request(
        self,
        method: str,
        url: str,
        *,
        sends_credentials: bool = False,
        timeout: float | tuple[float, float] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """Send a request; ``sends_credentials`` marks a body that carries a secret."""
        method = method.upper()
        parts = address_guard.split_url(url)
        host = parts.hostname or ""
        if sends_credentials and parts.scheme == "http":
            refuse_plain_http_credentials(host)
        what = f"{method} {url}"
        timeouts = self._timeout(timeout, what)
        self.logger.debug(f"Sending {what}")
        started = time.monotonic()
        try:
            # Per request: a session-level False loses to REQUESTS_CA_BUNDLE in requests.
            kwargs.setdefault("verify", self.verify)
            response = self.session.request(method, url, timeout=timeouts, **kwargs)
        except requests.exceptions.RequestException as error:
            raise self._transport_error(error, host) from error
        self._log_response(response, time.monotonic() - started, kwargs.get("stream", False))
        return response

    def _transport_error(self, error: requests.exceptions.RequestException, host: str) -> Exception:
        """A service error for a failed request; its text (which may quote the URL) redacted."""
        redact = self.logger.redactor
        if isinstance(error, requests.exceptions.SSLError):
            return ConfigurationError(redact(f"TLS error talking to {host}: {error}"), error)
        if isinstance(error, requests.exceptions.ConnectTimeout):
            return ConfigurationError(redact(f"Timed out connecting to {host}: {error}"), error)
        if isinstance(error, requests.exceptions.ConnectionError):
            return ConfigurationError(redact(f"Could not connect to {host}: {error}"), error)
        if isinstance(error, requests.exceptions.Timeout):
            return RemoteError(redact(f"Timed out waiting for {host}: {error}"), error)
        if isinstance(error, requests.exceptions.InvalidURL):
            return InvalidUrlError(redact(f"URL is empty or invalid: {error}"), error)
        return RemoteError(redact(f"Request to {host} failed: {error}"), error)

    def _log_response(self, response: requests.Response, elapsed: float, streamed: bool) -> None:
        body = "<streamed>" if streamed else describe_body(response)
        line = (
            f"{response.request.method} {response.url} -- ({elapsed:.2f}s) "
            f"{response.status_code} {body}"
        )
        if 200 <= response.status_code < 300:
            self.logger.debug(line)
        else:
            self.logger.info(line)

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", url, **kwargs)

    def get_all_pages(
        self,
        url: str,
        *,
        check: Callable[[requests.Response], None],
        max_pages: int = MAX_PAGES,
        **kwargs: Any,
    ) -> list[Any]:
        """The items of a JSON list and of every page its ``Link: rel="next"`` header names.

        ``check`` raises for a response that is not a success; the query of the first
        request is part of each next link, so it is sent only once.
        """
        items: list[Any] = []
        next_url: str | None = url
        for _ in range(max_pages):
            if not next_url:
                return items
            response = self.get(next_url, **kwargs)
            check(response)
            page = response.json()
            if not isinstance(page, list):
                raise RemoteError(f"Expected a list from {response.request.method} {next_url}")
            items.extend(page)
            next_url = response.links.get("next", {}).get("url")
            if next_url and _origin(next_url) != _origin(url):
                # The credentials this request carries must not follow a link elsewhere.
                raise RemoteError(f"The next page of {url} is on another host: {next_url}")
            kwargs.pop("params", None)
        if next_url:
            self.logger.warn(f"Stopped after {max_pages} pages of {url}")
        return items

    def download(self, url: str, *, max_bytes: int = DOWNLOAD_LIMIT, **kwargs: Any) -> bytes:
        """A file's bytes, through the address guard, refusing more than ``max_bytes``."""
        response = self.get(url, stream=True, **kwargs)
        with response:
            if not 200 <= response.status_code < 300:
                raise RemoteError(f"Downloading {url} answered HTTP {response.status_code}")
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise RemoteError(f"The file at {url} is larger than {max_bytes} bytes")
            chunks, size = [], 0
            for chunk in response.iter_content(64 * 1024):
                size += len(chunk)
                if size > max_bytes:
                    raise RemoteError(f"The file at {url} is larger than {max_bytes} bytes")
                chunks.append(chunk)
        return b"".join(chunks)

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", url, **kwargs)


def json_or_text(response: requests.Response) -> Any:
    """A response body as parsed JSON, or as text when it is not JSON; None when empty."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text


def describe_body(response: requests.Response) -> str:
    """A response body for a log line: text shortened, binary as its size."""
    content_type = response.headers.get("Content-Type", "")
    if content_type.startswith("text/") or "json" in content_type or "xml" in content_type:
        text = response.text
        if len(text) > _LOGGED_BODY_LIMIT:
            text = text[:_LOGGED_BODY_LIMIT] + f"... ({len(response.content)} bytes)"
        return text
    return f"<binary: {len(response.content)} bytes>"
