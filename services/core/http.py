"""Outbound HTTP for services: one requests.Session per service, guarded and logged.

Transport concerns live here, in the adapter, the connection classes and the
client's one loop, so that service code only says what to send: the address guard
runs on every request, every redirect hop and every new socket; credentials never
leave over plain http, on any hop; a write stays a write when it is redirected;
rate limits are waited out within the event's time; every request has a timeout
that the event's time limit can only shorten.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Mapping
from typing import Any

from services.core.lean_imports import lean_import

# requests without its character-set guessers: an answer's text is read in the charset
# it declares, else as UTF-8 (``HttpClient._send``), never guessed.
lean_import("requests")

import requests  # noqa: E402
from requests.adapters import HTTPAdapter  # noqa: E402
from requests.sessions import merge_setting  # noqa: E402
from requests.utils import select_proxy  # noqa: E402
from urllib3.connection import HTTPConnection, HTTPSConnection  # noqa: E402
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool  # noqa: E402
from urllib3.exceptions import MaxRetryError  # noqa: E402

from services.core import (  # noqa: E402
    address_guard,
    outbound_capture,
    pages,
    rate_limits,
    redirects,
    timing,
)
from services.core.errors import (  # noqa: E402
    ConfigurationError,
    InvalidUrlError,
    RemoteError,
    TimeLimitExceeded,
)
from services.core.json_shapes import JsonShape, expect_shape  # noqa: E402
from services.core.logger import EventLogger  # noqa: E402

USER_AGENT = "aha-services-python/0.1 (+https://www.aha.io/)"
CONNECT_TIMEOUT = 25.0
READ_TIMEOUT = 310.0
DOWNLOAD_LIMIT = 25 * 1024 * 1024
MAX_PAGES = 100
_LOGGED_BODY_LIMIT = 2000
_NOT_JSON_SHOWN = 200


class _PinnedConnectionMixin(HTTPConnection):
    """Checks the address at connect time and connects to exactly that address."""

    def _new_conn(self) -> socket.socket:
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


class GuardedAdapter(HTTPAdapter):
    """Applies the address guard and the HTTPS-for-credentials rule to every hop."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _GuardedHTTPPool,
            "https": _GuardedHTTPSPool,
        }

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        url = request.url or ""
        parts = address_guard.split_url(url)
        proxy = select_proxy(url, kwargs.get("proxies") or {})
        addresses = address_guard.guard_host(
            parts.hostname or "", parts.port, behind_proxy=bool(proxy)
        )
        if parts.scheme == "http" and carries_credential_header(request.headers):
            refuse_plain_http_credentials(parts.hostname or "", addresses)
        return super().send(request, *args, **kwargs)


class _Session(requests.Session):
    """requests' Session, without its reading of the whole environment for proxies on
    every request when there is no proxy setting to find (the usual case), and without
    ``~/.netrc``: requests adds the credentials it finds there for a request's host to
    any request without its own, so a URL that someone else typed into Aha! (a webhook)
    could collect the credentials of whoever runs the proxy."""

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        # ``trust_env`` gates only the .netrc lookup here; proxies and CA bundles are read
        # when the request is sent (merge_environment_settings), as before.
        trust_env, self.trust_env = self.trust_env, False
        try:
            return super().prepare_request(request)
        finally:
            self.trust_env = trust_env

    def merge_environment_settings(
        self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> Any:
        if not (self.trust_env and address_guard.no_proxy_settings()):
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        # What requests does then: no proxy to add, the CA bundle variables as always.
        if verify is True or verify is None:
            verify = (
                os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or verify
            )
        return {
            "proxies": merge_setting(proxies, self.proxies),
            "stream": merge_setting(stream, self.stream),
            "verify": merge_setting(verify, self.verify),
            "cert": merge_setting(cert, self.cert),
        }


def _new_adapter() -> GuardedAdapter:
    return GuardedAdapter(max_retries=0)


def carries_credential_header(headers: Mapping[str, Any]) -> bool:
    """Authorization, or any header named like a credential (PRIVATE-TOKEN, X-Api-Key, ...)."""
    return any(value and redirects.is_credential_header(name) for name, value in headers.items())


def refuse_plain_http_credentials(
    host: str, addresses: list | None = None, context: str = ""
) -> None:
    """Credentials travel only over HTTPS, except to hosts the operator allowed."""
    if not address_guard.is_exempt(host, addresses):
        where = f": {context}" if context else ""
        raise InvalidUrlError(
            f"Refusing to send credentials to {host} over plain http; use an https:// URL{where}"
        )


class HttpClient:
    """A service's outbound HTTP: one lazily built Session with guard, timeouts and logging.

    The client itself follows redirects (``services.core.redirects``) and waits out
    rate limits (``services.core.rate_limits``), so that every request, whoever sends
    it, is checked the same way on every hop and every attempt. ``remote_name`` is how
    messages name the third party ("rate limited by GitHub"); the host when empty.
    """

    def __init__(
        self,
        logger: EventLogger,
        *,
        verify: bool = True,
        headers: Mapping[str, str] | None = None,
        time_left: Callable[[], float | None] = lambda: None,
        timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT),
        remote_name: str = "",
    ):
        self.logger = logger
        self.verify = verify
        self.headers: dict[str, str] = dict(headers or {})
        self.time_left = time_left
        self.timeout = timeout
        self.remote_name = remote_name
        self._session: requests.Session | None = None
        self._owns_adapter = True

    @property
    def session(self) -> requests.Session:
        """A Session of this client's own (headers, cookies), on the connection pool that
        the event's helper thread keeps for the events it runs next: the guard still
        checks every request, and each pooled connection was checked when it opened."""
        if self._session is None:
            session = _Session()
            adapter = timing.thread_resource("http", _new_adapter)
            self._owns_adapter = adapter is None
            adapter = adapter or _new_adapter()
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.headers["User-Agent"] = USER_AGENT
            session.headers.update(self.headers)
            session.verify = self.verify
            self._session = session
        return self._session

    def close(self) -> None:
        """Close the connections, unless they are the helper thread's to reuse."""
        if self._session is not None:
            if self._owns_adapter:
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
        allow_redirects: bool = True,
        **kwargs: Any,
    ) -> requests.Response:
        """Send a request, following redirects and waiting out rate limits.

        ``sends_credentials`` marks a request that carries a secret (in a header or
        its body): never over plain http, and its body never to another origin.
        """
        method = method.upper()
        # Per request: a session-level False loses to REQUESTS_CA_BUNDLE in requests.
        kwargs.setdefault("verify", self.verify)
        response = self._send(method, url, sends_credentials, timeout, kwargs)
        moves: list[requests.Response] = []
        while allow_redirects and response.is_redirect:
            hop = self._hop(method, response, len(moves), sends_credentials, kwargs)
            response.close()
            moves.append(response)
            kwargs = redirects.options_for_hop(kwargs, hop, self.session.headers)
            sends_credentials = sends_credentials and hop.same_origin
            method, url = hop.method, hop.url
            response = self._send(method, url, sends_credentials, timeout, kwargs)
        response.history = moves
        return response

    def _hop(
        self,
        method: str,
        response: requests.Response,
        hops_done: int,
        sends_credentials: bool,
        options: Mapping[str, Any],
    ) -> redirects.Hop:
        """The next hop of a redirect, after the guard and the credential rules passed it."""
        redact = self.logger.redactor
        try:
            hop = redirects.next_hop(method, response, hops_done)
        except RemoteError as error:
            raise RemoteError(redact(str(error))) from None
        moved = redact(hop.moved)
        try:
            parts = address_guard.split_url(hop.url)
            addresses = address_guard.guard_host(parts.hostname or "", parts.port)
        except InvalidUrlError as error:
            raise InvalidUrlError(redact(f"{hop.moved}, which is refused: {error}")) from None
        # Credential headers are dropped on the way to another origin; a body cannot be,
        # nor a secret the new URL itself carries (an API key in its query).
        carried = redirects.has_body(options) or redact(hop.url) != hop.url
        if sends_credentials and (hop.same_origin or carried):
            if parts.scheme == "http":
                refuse_plain_http_credentials(parts.hostname or "", addresses, moved)
            if not hop.same_origin:
                raise RemoteError(
                    f"{moved}, which was not followed: the request carries credentials, "
                    "which never follow a redirect to another address; use the new address"
                )
        self.logger.info(moved)
        return hop

    def _send(
        self,
        method: str,
        url: str,
        sends_credentials: bool,
        timeout: float | tuple[float, float] | None,
        options: Mapping[str, Any],
    ) -> requests.Response:
        """One hop: sent, logged, and sent again while it is rate limited."""
        parts = address_guard.split_url(url)
        host = parts.hostname or ""
        if sends_credentials and parts.scheme == "http":
            refuse_plain_http_credentials(host)
        what = f"{method} {url}"
        policy = rate_limits.retry_policy()
        while True:
            timeouts = self._timeout(timeout, what)
            self.logger.debug(f"Sending {what}")
            started = time.monotonic()
            try:
                response = self.session.request(
                    method, url, timeout=timeouts, allow_redirects=False, **options
                )
            except requests.exceptions.RequestException as error:
                raise self._transport_error(error, host) from error
            except UnicodeEncodeError as error:  # http.client sends headers in Latin-1
                raise ConfigurationError(
                    f"A header for {host} holds characters HTTP headers cannot carry "
                    f"({error.reason}); check the settings for a key or token pasted with "
                    "other text",
                    error,
                ) from None
            elapsed, streamed = time.monotonic() - started, options.get("stream", False)
            if not declares_charset(response):  # UTF-8, never a guess nor text/*'s Latin-1
                response.encoding = "utf-8"
            self._log_response(response, elapsed, streamed)
            outbound_capture.capture(response, elapsed, streamed)
            wait = policy.wait_for(response.status_code, response.headers)
            if wait is None:
                return response
            try:
                policy = policy.increment(method, url, response=response.raw)
            except MaxRetryError:
                self.logger.warn(
                    f"Still rate limited by {self.remote_name or host} after "
                    f"{rate_limits.ATTEMPTS} attempts of {what}"
                )
                return response
            self._wait_out(wait, response, what, host)

    def _wait_out(self, wait: float, response: requests.Response, what: str, host: str) -> None:
        """Wait for a rate limit to pass, if the event has the time."""
        remote = self.remote_name or host
        try:
            rate_limits.check_wait(
                wait, self.time_left(), remote=remote, status=response.status_code, what=what
            )
        except RemoteError as error:
            raise RemoteError(self.logger.redactor(str(error))) from None
        finally:
            response.close()
        seconds = rate_limits.seconds_text(wait)
        self.logger.info(f"rate limited by {remote}, retrying in {seconds} s")
        rate_limits.sleep(wait)

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
        if isinstance(error, requests.exceptions.InvalidHeader):
            # A header value from the settings: a key pasted with a line break or blanks.
            return ConfigurationError(
                redact(f"A header for {host} is not valid; check the settings: {error}"), error
            )
        return RemoteError(redact(f"Request to {host} failed: {error}"), error)

    def _log_response(self, response: requests.Response, elapsed: float, streamed: bool) -> None:
        body = "<streamed>" if streamed else describe_body(response)
        line = (
            f"{response.request.method} {response.url} -- ({elapsed:.2f}s) "
            f"{response.status_code} {body}"
        )
        if 200 <= response.status_code < 400:  # a redirect followed says it moved, at info
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
        base_url: str | None = None,
        max_pages: int = MAX_PAGES,
        **kwargs: Any,
    ) -> list[Any]:
        """The items of a JSON list and of every page after it, all read from ``base_url``.

        The next page is the one ``Link: rel="next"`` (or ``X-Next-Page``) names, asked
        of the configured server whatever host the link says (``services.core.pages``);
        ``base_url`` defaults to the first URL's origin. ``check`` raises for a response
        that is not a success. The first request's query is part of each next link, so
        it is sent only once.
        """
        base = base_url or pages.origin(url)
        first_params = kwargs.get("params")
        items: list[Any] = []
        next_url: str | None = url
        read: set[str] = set()
        for pages_read in range(max_pages):
            if not next_url:
                return items
            if next_url in read:
                # A server whose links go round in circles would repeat the same items.
                self.logger.warn(
                    f"The next page of {url} is {next_url}, a page already read; "
                    f"stopped after {pages_read} pages"
                )
                return items
            read.add(next_url)
            response = self.get(next_url, **kwargs)
            read.add(response.url)
            check(response)
            page = json_body(response, self.remote_name or "The server")
            if not isinstance(page, list):
                raise RemoteError(f"Expected a list from {response.request.method} {next_url}")
            items.extend(page)
            try:
                next_url = pages.next_page_url(
                    response, base_url=base, first_url=url, first_params=first_params
                )
            except RemoteError as error:
                raise RemoteError(self.logger.redactor(str(error))) from None
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


def declares_charset(response: requests.Response) -> bool:
    """Whether the answer's ``Content-Type`` names its charset (requests reads a ``text/*``
    answer that does not as ISO-8859-1, which garbles the UTF-8 servers send)."""
    return "charset=" in response.headers.get("Content-Type", "").lower().replace(" ", "")


def json_body(
    response: requests.Response, remote: str = "The server", shape: JsonShape | None = None
) -> Any:
    """A response's JSON; a body that is not JSON (a proxy's login page, an HTML error),
    or not of the ``shape`` the caller reads (null aside), is the third party's failure:
    a RemoteError naming the request and what came, never an AttributeError later."""
    try:
        value = response.json()
    except ValueError:
        start = " ".join(response.text[:_NOT_JSON_SHOWN].split())
        raise RemoteError(
            f"{remote} answered {response.request.method} {response.url} "
            f"(HTTP {response.status_code}) with a body that is not JSON: {start!r}"
        ) from None
    if shape is not None and value is not None:
        request = f"{response.request.method} {response.url}"
        expect_shape(value, shape, f"{remote} answered {request} (HTTP {response.status_code})")
    return value


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
