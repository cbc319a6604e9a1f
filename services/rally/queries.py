"""Reading Rally collections: every page of a query, and refs turned into paths on the
configured server."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from services.core import RemoteError
from services.core.json_shapes import expect_shape

if TYPE_CHECKING:
    from services.rally.service import Rally

PAGE_SIZE = 200
MAX_PAGES = 100
_WSAPI_REF = re.compile(r"/webservice/v2\.[0-9x]+(/[^?#]*)", re.IGNORECASE)


def ref_path(ref: Any) -> str:
    """The path under the API base that a Rally ``_ref`` names. Only the path is kept, so
    that a request always goes to the configured server, whatever host the ref says."""
    text = str(ref or "")
    found = _WSAPI_REF.search(text)
    if found:
        return found.group(1)
    if text.startswith("/") and "//" not in text:
        return text.split("?", 1)[0]
    raise RemoteError(f"Rally answered a reference that is not one of its objects: {text[:200]}")


def object_id(ref: Any) -> str:
    """The last segment of a ref: the ObjectID (or UUID) of the object it names."""
    return ref_path(ref).rstrip("/").rsplit("/", 1)[-1]


def query_all(
    service: Rally, path: str, params: dict[str, Any] | None = None, *, page_size: int = PAGE_SIZE
) -> list[Any]:
    """Every result of a WSAPI query: pages of ``page_size`` from ``start=1`` until
    ``TotalResultCount`` results are read (the last page included)."""
    results: list[Any] = []
    start = 1
    for _ in range(MAX_PAGES):
        answer = service.tracker_json(
            "GET",
            path,
            params={**(params or {}), "pagesize": page_size, "start": start},
            shape="object",
        )
        said = f"Rally answered GET {path}: its QueryResult came"
        query = expect_shape((answer or {}).get("QueryResult") or {}, "object", said)
        page = expect_shape(query.get("Results") or [], "objects", f"{said} holding Results")
        results.extend(page)
        total = query.get("TotalResultCount")
        total = int(total) if isinstance(total, int | str) and str(total).isdigit() else 0
        start += page_size
        if not page or start > total:
            return results
    service.logger.warn(f"Stopped after {MAX_PAGES} pages of Rally's {path}")
    return results
