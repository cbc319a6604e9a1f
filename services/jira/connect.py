"""Jira via Connect: the Jira service, authenticated as an Atlassian Connect app.

Each request carries ``Authorization: JWT <token>``, signed (HS256) with the shared
secret Jira gave the app when it was installed, and bound to the request by its
query string hash. Atlassian gives that secret only to the app's own servers: the
service needs a Connect app of your own; without its secret, use ``jira``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from services.core import ConfigurationError, password, string
from services.core.jwt import encode_hs256, query_string_hash
from services.jira import schema
from services.jira.service import Jira

if TYPE_CHECKING:
    from collections.abc import Callable

    import requests

DEFAULT_APP_KEY = "io.aha.connect"
TOKEN_LIFETIME = 180


def connect_caption(workspace_type: str) -> str:
    records = "activities" if workspace_type == "marketing_workspace" else "features"
    return f"Send {records} to Jira Cloud through an Atlassian Connect app"


class ConnectJwt:
    """Signs each request, on each hop, for its own method, path and query (requests calls
    an ``auth`` object with the prepared request)."""

    def __init__(self, app_key: str, secret: str, base_path: str, clock: Callable[[], float]):
        self.app_key, self.secret, self.base_path, self.clock = app_key, secret, base_path, clock

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        parts = urlsplit(request.url or "")
        path = parts.path
        if self.base_path and path.startswith(self.base_path):
            path = path[len(self.base_path) :]
        now = int(self.clock())
        claims = {
            "iss": self.app_key,
            "iat": now,
            "exp": now + TOKEN_LIFETIME,
            "qsh": query_string_hash(request.method or "GET", path, parts.query),
        }
        request.headers["Authorization"] = f"JWT {encode_hs256(claims, self.secret)}"
        return request


class JiraConnect(Jira):
    title = "Jira via Connect"
    service_name = "jira_connect"
    schema = (
        schema.SERVER_URL,
        password(
            "shared_secret",
            description="The shared secret Jira sent your Connect app when it was installed.",
        ),
        string("app_key", description=f"Your Connect app's key (default {DEFAULT_APP_KEY})."),
        *schema.project_fields(),
    )
    white_listed = (*(name for name in Jira.white_listed if name != "username"), "app_key")

    caption = connect_caption

    def receive_webhook(self) -> None:
        """Refused like every event without the secret: nothing could have been linked."""
        self.tracker_request_options()
        super().receive_webhook()

    def tracker_request_options(self) -> dict[str, Any]:
        secret = self.data.get("shared_secret")
        if not secret:
            raise ConfigurationError(
                "The Connect app's shared secret (shared_secret) is not set. Atlassian gives "
                "it only to the servers of the Connect app that was installed; without an app "
                "of your own, use the Jira integration with an API token instead"
            )
        app_key = str(self.data.get("app_key") or DEFAULT_APP_KEY)
        base_path = urlsplit(self.server_url()).path.rstrip("/")
        return {
            "auth": ConnectJwt(app_key, str(secret), base_path, time.time),
            "headers": {"Accept": "application/json"},
        }
