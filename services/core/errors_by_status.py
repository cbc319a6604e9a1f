"""One rule for turning a third party's error answer into the error Aha! should see.

Every tracker meets the same statuses: refused credentials, a lockout, a missing
permission, a request it did not accept, a record that is gone, a failure of its
own. The rule is kept here once; a service says how it names itself, how to read
its 400 bodies (``describe``) and which permission a call needs. A tracker that
says what went wrong in its body, whatever the status (a code in a JSON or XML
answer, an error served with a 200), gives a ``classify`` function whose verdict
the rule follows instead of the status.
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

# The verdicts a service's ``classify`` may give an answer, whatever its status.
CREDENTIALS = "credentials"
PERMISSION = "permission"
GONE = "gone"
TOO_LARGE = "too_large"
FAILED = "failed"


class TooLarge(RemoteError):
    """The third party refused a file or a text as too large: a caller may warn and go on."""


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
    classify: Callable[[requests.Response], str | None] | None = None,
) -> None:
    """Raise for an answer that is not a success; return for one that is.

    401 and a lockout are configuration errors (the user must fix the account);
    another 403 names ``permission``; an answer that ``is_gone`` (by default 404 and
    410) raises ``gone`` so that a caller can recreate the record; a 400 is told in
    ``describe``'s words when it has any; anything else is a RemoteError with the method, path,
    status and ``excerpt`` of the body (by default its start; a service whose error bodies
    carry a message field quotes that). ``classify`` reads the answer first: its verdict
    (``CREDENTIALS``, ``PERMISSION``, ``GONE``, ``TOO_LARGE``, ``FAILED``) wins over the
    status, so that a 200 carrying an error raises too; None leaves the status to decide.
    """
    verdict = classify(response) if classify else None
    status = response.status_code
    if status < 400 and verdict is None:
        return
    what = f"{method.upper()} {path}"
    if verdict == CREDENTIALS or (verdict is None and status == 401):
        said = f": {excerpt(response)}" if verdict else ""
        raise ConfigurationError(f"{service} rejected the credentials ({status}) for {what}{said}")
    if verdict == TOO_LARGE:
        raise TooLarge(f"{service} refused {what} as too large: {excerpt(response)}")
    if verdict == PERMISSION or (verdict is None and status == 403):
        for header in lockout_headers:
            reason = response.headers.get(header)
            if reason:
                raise ConfigurationError(
                    f"{service} locked the account ({header}: {reason}); sign in to "
                    f"{service} in a browser to clear it, then try again"
                )
        needs = f": the account needs the {permission} permission" if permission else ""
        raise RemoteError(f"{service} refused {what} ({status}){needs}. {excerpt(response)}")
    if verdict is not None:
        said_gone = verdict == GONE
    elif is_gone:
        said_gone = is_gone(status, response.text or "")
    else:
        said_gone = status in GONE_STATUSES
    detail = describe(response) if status == 400 and describe and not said_gone else ""
    if detail:
        raise RemoteError(f"{service} did not accept {what}: {detail}")
    error = gone if said_gone else RemoteError
    raise error(f"{service}: {what} answered HTTP {status}: {excerpt(response)}")
