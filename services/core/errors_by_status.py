"""One rule for turning a third party's error answer into the error Aha! should see.

Every tracker meets the same statuses: refused credentials, a lockout, a missing
permission, a request it did not accept, a record that is gone, a failure of its
own. The rule is kept here once; a service says how it names itself, how to read
its 400 bodies (``describe``) and which permission a call needs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from services.core.errors import ConfigurationError, RemoteError

if TYPE_CHECKING:
    import requests

ERROR_BODY_LIMIT = 500
# Headers by which a server says it locked the account (Atlassian's CAPTCHA lockout).
LOCKOUT_HEADERS = ("X-Authentication-Denied-Reason",)
GONE_STATUSES = (404, 410)


def body_excerpt(response: requests.Response, limit: int = ERROR_BODY_LIMIT) -> str:
    """The answer's text, stripped and cut to ``limit`` characters."""
    text = (response.text or "").strip()
    return text if len(text) <= limit else text[:limit] + "..."


def raise_for_status(
    response: requests.Response,
    *,
    service: str,
    method: str,
    path: str,
    describe: Callable[[requests.Response], str] | None = None,
    permission: str = "",
    gone: type[RemoteError] = RemoteError,
    is_gone: Callable[[int, str], bool] | None = None,
    lockout_headers: Iterable[str] = LOCKOUT_HEADERS,
    excerpt: Callable[[requests.Response], str] = body_excerpt,
) -> None:
    """Raise for an answer that is not a success; return for one that is.

    401 and a lockout are configuration errors (the user must fix the account);
    another 403 names ``permission``; an answer that ``is_gone`` (by default 404 and
    410) raises ``gone`` so that a caller can recreate the record; a 400 is told in
    ``describe``'s words when it has any; anything else is a RemoteError with the method, path,
    status and ``excerpt`` of the body (by default its start; a service whose error bodies
    carry a message field quotes that).
    """
    status = response.status_code
    if status < 400:
        return
    what = f"{method.upper()} {path}"
    if status == 401:
        raise ConfigurationError(f"{service} rejected the credentials (401) for {what}")
    if status == 403:
        for header in lockout_headers:
            reason = response.headers.get(header)
            if reason:
                raise ConfigurationError(
                    f"{service} locked the account ({header}: {reason}); sign in to "
                    f"{service} in a browser to clear it, then try again"
                )
        needs = f": the account needs the {permission} permission" if permission else ""
        raise RemoteError(f"{service} refused {what} (403){needs}. {excerpt(response)}")
    said_gone = is_gone(status, response.text or "") if is_gone else status in GONE_STATUSES
    detail = describe(response) if status == 400 and describe and not said_gone else ""
    if detail:
        raise RemoteError(f"{service} did not accept {what}: {detail}")
    error = gone if said_gone else RemoteError
    raise error(f"{service}: {what} answered HTTP {status}: {excerpt(response)}")
