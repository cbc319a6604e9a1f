"""ConnectALL: tells ConnectALL's PUSH service that an Aha! feature or release changed.

ConnectALL reads the record itself, through the application link's Aha! connection,
and synchronises it along that link; the push only names the record that changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit, urlunsplit

from services.core import (
    ConfigurationError,
    RemoteError,
    Service,
    install_button,
    password,
    select,
    string,
)

if TYPE_CHECKING:
    import requests

DEFAULT_PORT = 7070
PUSH_PATH = "/SyncService/push"
ORIGINS = ("source", "destination")
AUTH_METHODS = ("basic", "api_key")
_ACCEPT_JSON = {"Accept": "application/json"}
_BODY_LIMIT = 500


@dataclass(frozen=True)
class PushSettings:
    """The validated configuration one push needs."""

    base_url: str
    app_link_name: str
    origin: str
    project: str
    auth_method: str
    username: str = ""
    password: str = ""
    api_key: str = ""

    @property
    def push_url(self) -> str:
        return self.base_url + PUSH_PATH


def server_base_url(server_url: str) -> str:
    """The ConnectALL address without a trailing slash, with port 7070 when none is given.

    ConnectALL's REST listener runs on its own port (7070 unless its administrator
    changed it), so a bare host name almost never means port 80 or 443.
    """
    text = server_url.strip()
    if "://" not in text:
        raise ConfigurationError("The Server URL needs a scheme: start it with https://")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as error:
        raise ConfigurationError(f"The Server URL is not a valid URL: {error}", error) from error
    if parts.scheme.lower() not in ("http", "https"):
        raise ConfigurationError(
            f"The Server URL must start with https:// (or http://), not {parts.scheme}://"
        )
    if not parts.hostname:
        raise ConfigurationError("The Server URL has no host name")
    if parts.username is not None or parts.password is not None:
        raise ConfigurationError(
            "The Server URL must not contain credentials; "
            "use the Username and Password or API key settings"
        )
    if parts.query or parts.fragment:
        raise ConfigurationError("The Server URL must not contain a query (?) or fragment (#)")
    netloc = parts.netloc if port is not None else f"{parts.netloc.rstrip(':')}:{DEFAULT_PORT}"
    return urlunsplit((parts.scheme.lower(), netloc, parts.path.rstrip("/"), "", ""))


class Connectall(Service):
    title = "ConnectALL"
    caption = "Push feature and release changes to a ConnectALL application link"
    schema = (
        string(
            "server_url",
            label="Server URL",
            description="Address of ConnectALL's REST service, e.g. "
            "https://connectall.example.com:7070. Port 7070 is used when none is given.",
        ),
        string(
            "app_link_name",
            label="App link name",
            description="Name of the ConnectALL application link (automation) that "
            "synchronises Aha! records. Its Sync Type must be PUSH.",
        ),
        select(
            "origin",
            collection=[
                ["Source: Aha! is on the left side of the application link", "source"],
                ["Destination: Aha! is on the right side of the application link", "destination"],
            ],
            label="Origin",
            description="Which side of the application link Aha! is configured on.",
        ),
        string(
            "project",
            label="Project",
            description="Optional. The project to synchronise, for application links that "
            "map several projects.",
        ),
        select(
            "auth_method",
            collection=[["Username and password", "basic"], ["API key", "api_key"]],
            label="Authentication method",
            description="How this integration signs in to ConnectALL.",
        ),
        string(
            "username", label="Username", description="ConnectALL user, for username and password."
        ),
        password(
            "password", label="Password", description="Its password, for username and password."
        ),
        password(
            "api_key", label="API key", description="ConnectALL API key, for the API key method."
        ),
        install_button(),
    )
    white_listed = ("server_url", "app_link_name", "origin", "project", "auth_method")

    def receive_installed(self) -> None:
        """Check the settings and that ConnectALL answers, without pushing any record."""
        settings = self.push_settings()
        parts = urlsplit(settings.base_url)
        if parts.scheme == "http":
            # The GET carries no credentials, but every push will: refuse now, not later.
            from services.core.http import refuse_plain_http_credentials

            refuse_plain_http_credentials(parts.hostname or "")
        response = self.http_get(settings.push_url, headers=_ACCEPT_JSON)
        self.logger.info(
            f"ConnectALL at {settings.base_url} is reachable (HTTP {response.status_code} "
            f"to GET {PUSH_PATH}). Credentials and the application link are checked by "
            "ConnectALL when the first feature or release is pushed."
        )

    def receive_create_feature(self) -> None:
        self.push("feature")

    def receive_update_feature(self) -> None:
        self.push("feature")

    def receive_create_release(self) -> None:
        self.push("release")

    def receive_update_release(self) -> None:
        self.push("release")

    def push(self, kind: str) -> None:
        """Push the payload's feature or release by its reference number."""
        settings = self.push_settings()
        reference = self.reference_num(kind)
        response = self._send(settings, reference)
        self._handle_answer(response, reference)

    def reference_num(self, kind: str) -> str:
        record = self.payload.get(kind)
        reference = record.get("reference_num") if isinstance(record, Mapping) else None
        if not reference or not str(reference).strip():
            raise ConfigurationError(
                f"The {self.event} event has no {kind} reference number "
                f"(payload.{kind}.reference_num); nothing was sent to ConnectALL"
            )
        return str(reference).strip()

    def push_settings(self) -> PushSettings:
        """The settings, checked: each missing one is named, before anything is sent."""
        server_url = self._setting("server_url")
        if not server_url:
            raise ConfigurationError("Set the Server URL (server_url) of your ConnectALL server")
        base_url = server_base_url(server_url)
        app_link_name = self._setting("app_link_name")
        if not app_link_name:
            raise ConfigurationError("Set the App link name (app_link_name) to synchronise")
        origin = self._setting("origin").lower()
        if origin not in ORIGINS:
            raise ConfigurationError(
                "Set the Origin (origin) to source or destination"
                + (f", not {origin!r}" if origin else "")
            )
        method = self._auth_method()
        common = {
            "base_url": base_url,
            "app_link_name": app_link_name,
            "origin": origin,
            "project": self._setting("project"),
            "auth_method": method,
        }
        if method == "api_key":
            api_key = self._setting("api_key")
            if not api_key:
                raise ConfigurationError("The API key method needs the API key (api_key)")
            return PushSettings(**common, api_key=api_key)
        username, secret = self._setting("username"), self._setting("password", strip=False)
        missing = [
            name for name, value in (("username", username), ("password", secret)) if not value
        ]
        if missing:
            raise ConfigurationError(
                f"Username and password authentication needs the {' and '.join(missing)}"
            )
        return PushSettings(**common, username=username, password=secret)

    def _setting(self, name: str, *, strip: bool = True) -> str:
        value = self.data.get(name)
        text = "" if value is None else str(value)
        return text.strip() if strip else text

    def _auth_method(self) -> str:
        method = self._setting("auth_method").lower()
        if not method:
            # A form saved before the choice was made: an API key alone says which one.
            only_key = self._setting("api_key") and not self._setting("username")
            return "api_key" if only_key else "basic"
        if method not in AUTH_METHODS:
            raise ConfigurationError(
                f"Set the Authentication method (auth_method) to basic or api_key, not {method!r}"
            )
        return method

    def _send(self, settings: PushSettings, reference: str) -> requests.Response:
        if settings.auth_method == "api_key":
            segments = [settings.app_link_name, settings.origin, settings.project, reference]
            path = "".join(f"/{quote(segment, safe='')}" for segment in segments if segment)
            return self.http_post(
                settings.push_url + path,
                params={"apikey": settings.api_key},
                headers=_ACCEPT_JSON,
                sends_credentials=True,
            )
        body = {"appLinkName": settings.app_link_name, "origin": settings.origin, "id": reference}
        if settings.project:
            body["project"] = settings.project
        return self.http_post(
            settings.push_url,
            json=body,
            auth=(settings.username, settings.password),
            headers=_ACCEPT_JSON,
            sends_credentials=True,
        )

    def _handle_answer(self, response: requests.Response, reference: str) -> None:
        status = response.status_code
        message = connectall_message(response)
        if status == 201:
            self.logger.info(
                f"ConnectALL: {message}" if message else f"ConnectALL queued {reference}"
            )
            return
        if status == 400:
            reason = message or body_text(response) or "no reason given"
            raise ConfigurationError(f"ConnectALL refused {reference}: {reason}")
        hint = " (check the credentials)" if status in (401, 403) else ""
        body = body_text(response) or "(empty body)"
        raise RemoteError(f"ConnectALL answered HTTP {status}{hint} for {reference}: {body}")


def connectall_message(response: requests.Response) -> str:
    """The ``Message`` of ConnectALL's JSON answer; empty when it has none."""
    try:
        answer = response.json()
    except ValueError:
        return ""
    if isinstance(answer, Mapping) and answer.get("Message"):
        return str(answer["Message"]).strip()[:_BODY_LIMIT]
    return ""


def body_text(response: requests.Response) -> str:
    """The body for an error text, shortened."""
    text = response.text.strip()
    return text if len(text) <= _BODY_LIMIT else text[:_BODY_LIMIT] + "..."
