"""Where the next page of a list is: always on the configured server.

A server behind a proxy often names another scheme or host in its
``Link: rel="next"`` (and GitLab's ``X-Next-Page`` says the same as a number).
The next page is requested on the configured base URL: the link's path and query,
when that path lies under the base URL's path; a link elsewhere is a RemoteError
that names it. Nothing is ever sent to the origin a link names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlencode, urljoin, urlsplit, urlunsplit

from services.core.errors import RemoteError

if TYPE_CHECKING:
    import requests


def _under(path: str, base_path: str) -> bool:
    """``path`` is ``base_path`` or below it, with no dot segment to climb out."""
    segments = unquote(path).split("/")
    if "." in segments or ".." in segments:
        return False
    base = base_path.rstrip("/")
    return not base or path == base or path.startswith(base + "/")


def origin(url: str) -> str:
    """``scheme://host:port/`` of a URL."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/", "", ""))


def on_base(link: str, base_url: str) -> str:
    """The link's path and query on the base URL's origin."""
    parts, base = urlsplit(link), urlsplit(base_url)
    if not _under(parts.path, base.path):
        raise RemoteError(
            f"The next page link {link} is outside {base_url}, so it was not followed"
        )
    return urlunsplit((base.scheme, base.netloc, parts.path, parts.query, ""))


def with_page(url: str, params: Mapping[str, Any] | None, page: str) -> str:
    """``url`` with the first request's query and ``page`` set to the given number."""
    parts = urlsplit(url)
    query = {**dict(parse_qsl(parts.query, keep_blank_values=True)), **dict(params or {})}
    query["page"] = page
    return urlunsplit(parts._replace(query=urlencode(query, doseq=True)))


def next_page_url(
    response: requests.Response,
    *,
    base_url: str,
    first_url: str,
    first_params: Mapping[str, Any] | None,
) -> str | None:
    """The URL of the page after ``response``, on the base URL; None after the last page."""
    link = response.links.get("next", {}).get("url")
    if link:
        return on_base(urljoin(response.url or first_url, link), base_url)
    page = str(response.headers.get("X-Next-Page") or "").strip()
    if not page:
        return None
    if not page.isdigit():
        raise RemoteError(f"The next page of {first_url} is not a page number: {page!r}")
    return with_page(first_url, first_params, page)
