"""``aha-services aha login``: an Aha! OAuth token for the command line.

The OAuth 2 authorization-code flow against the account's ``/oauth/authorize`` and
``/oauth/token``: the browser signs the user in at Aha!, Aha! redirects it to a
one-shot server on ``http://127.0.0.1:<port>/callback``, and the code it carries is
exchanged for a token. oauthlib (the engine of requests-oauthlib) writes the token
requests and reads the answers; the project's guarded ``HttpClient`` sends them, so
the address guard, timeouts, redacted logging and the https-for-credentials rule
apply as everywhere else: plain ``http://`` only to hosts that
``AHA_SERVICES_ALLOWED_HOSTS`` names, with no process-wide switch.
"""

from __future__ import annotations

import html
import os
import secrets
import threading
import time
import webbrowser
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from services.core.aha_api import API_URL_VARIABLE
from services.core.cli.token_store import TokenStore, is_expired
from services.core.entities import required_environment
from services.core.errors import ConfigurationError, MissingSetting, RemoteError
from services.core.http import HttpClient, refuse_plain_http_credentials
from services.core.logger import EventLogger

CALLBACK_PATH = "/callback"
LOOPBACK = "127.0.0.1"
DEFAULT_WAIT = 300.0
_TOKEN_HEADERS = {
    "Accept": "application/json",
    "Content-Type": "application/x-www-form-urlencoded",
}


def account_url() -> str:
    """The Aha! account's address: ``AHA_API_URL``'s origin, or ``https://<AHA_DOMAIN>.aha.io``."""
    override = os.environ.get(API_URL_VARIABLE, "").strip()
    if override:
        parts = urlsplit(override)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError(f"{API_URL_VARIABLE} must be an http(s) address")
        return f"{parts.scheme}://{parts.netloc}".lower()
    domain = os.environ.get("AHA_DOMAIN", "").strip()
    if not domain:
        raise MissingSetting(f"AHA_DOMAIN (or {API_URL_VARIABLE}) is not set")
    return f"https://{domain.lower()}.aha.io"


@dataclass(frozen=True)
class OAuthApp:
    """The OAuth application registered in Aha!, and the account it signs in to."""

    account: str
    client_id: str
    client_secret: str = field(repr=False)

    @classmethod
    def from_environment(cls) -> OAuthApp:
        """``AHA_CLIENT_ID`` and ``AHA_CLIENT_SECRET``, for the account of ``account_url()``."""
        return cls(
            account_url(),
            required_environment("AHA_CLIENT_ID"),
            required_environment("AHA_CLIENT_SECRET"),
        )

    @property
    def authorize_url(self) -> str:
        return f"{self.account}/oauth/authorize"

    @property
    def token_url(self) -> str:
        return f"{self.account}/oauth/token"


def _http(*secret_values: str) -> HttpClient:
    http = HttpClient(EventLogger("services.aha"))
    for secret in secret_values:
        http.logger.redactor.add(secret)
    return http


def request_token(app: OAuthApp, body: str, http: HttpClient | None = None) -> dict[str, Any]:
    """POST a token request to Aha! and read its answer (a new token or an OAuth error)."""
    from oauthlib.oauth2 import MissingTokenError, OAuth2Error, WebApplicationClient

    http = http or _http(app.client_secret)
    response = http.post(app.token_url, data=body, headers=_TOKEN_HEADERS, sends_credentials=True)
    try:
        if not isinstance(response.json(), dict):  # oauthlib reads only an object
            raise ValueError("not a JSON object")
        token = WebApplicationClient(app.client_id).parse_request_body_response(response.text)
    except MissingTokenError as error:
        raise RemoteError(
            f"Aha!'s token endpoint answered HTTP {response.status_code} without a token"
        ) from error
    except OAuth2Error as error:
        said = f": {http.logger.redactor(error.description)}" if error.description else ""
        raise RemoteError(
            f"Aha! refused the token request (HTTP {response.status_code}, {error.error}){said}"
        ) from error
    except ValueError as error:
        raise RemoteError(
            f"Aha!'s token endpoint answered HTTP {response.status_code}, not a token"
        ) from error
    for secret in (token.get("access_token"), token.get("refresh_token")):
        http.logger.redactor.add(secret)
    return dict(token)


def refresh(app: OAuthApp, token: Mapping[str, Any]) -> dict[str, Any]:
    """A new token for an expired one, with its refresh token (kept when Aha! sends none)."""
    from oauthlib.oauth2 import WebApplicationClient

    refresh_token = str(token["refresh_token"])
    body = WebApplicationClient(app.client_id).prepare_refresh_body(
        refresh_token=refresh_token, client_id=app.client_id, client_secret=app.client_secret
    )
    fresh = request_token(app, body, _http(app.client_secret, refresh_token))
    fresh.setdefault("refresh_token", refresh_token)
    return fresh


def stored_token(store: TokenStore | None = None) -> str:
    """The command line's Aha! token when ``AHA_API_TOKEN`` is not set: the one that
    ``aha login`` stored for this account, refreshed first when it has expired."""
    store = store or TokenStore()
    account = account_url()
    token = store.get(account)
    if token is None:
        raise MissingSetting(
            f"AHA_API_TOKEN is not set, and no token is stored for {account}: "
            "run aha-services aha login"
        )
    if not is_expired(token):
        return str(token["access_token"])
    if not token.get("refresh_token"):
        raise MissingSetting(
            f"The stored token for {account} has expired: run aha-services aha login"
        )
    fresh = refresh(OAuthApp.from_environment(), token)
    store.put(account, fresh)
    return str(fresh["access_token"])


class _CallbackHandler(BaseHTTPRequestHandler):
    """Takes Aha!'s redirect on ``/callback``; anything else is a 404."""

    server: _CallbackServer

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path != CALLBACK_PATH:
            self._answer(404, "Not the sign-in callback.")
            return
        self.server.answer = {name: values[0] for name, values in parse_qs(parts.query).items()}
        if "code" in self.server.answer:
            self._answer(200, "Signed in to Aha!. You can close this window.")
        else:
            self._answer(400, "Aha! did not sign you in; see the command line.")

    def _answer(self, status: int, text: str) -> None:
        body = f"<!doctype html><title>aha-services</title><p>{html.escape(text)}</p>".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the request line carries the authorization code."""


class _CallbackServer(HTTPServer):
    answer: dict[str, str] | None = None


def _wait_for_answer(server: _CallbackServer, wait: float) -> dict[str, str]:
    deadline = time.monotonic() + wait
    server.timeout = 0.5
    while server.answer is None:
        if time.monotonic() >= deadline:
            raise RemoteError(f"No sign-in arrived from the browser within {wait:g} s")
        server.handle_request()
    return server.answer


def login(
    app: OAuthApp,
    *,
    port: int = 0,
    wait: float = DEFAULT_WAIT,
    open_browser: bool = True,
    say: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run the authorization-code flow and return the token Aha! gives."""
    from oauthlib.common import add_params_to_uri
    from oauthlib.oauth2 import WebApplicationClient

    parts = urlsplit(app.account)
    if parts.scheme != "https":
        refuse_plain_http_credentials(parts.hostname or "")
    try:
        server = _CallbackServer((LOOPBACK, port), _CallbackHandler)
    except OSError as error:
        raise ConfigurationError(f"Cannot listen on {LOOPBACK}:{port}: {error}") from error
    with server:
        redirect_uri = f"http://{LOOPBACK}:{server.server_address[1]}{CALLBACK_PATH}"
        state = secrets.token_urlsafe(24)
        url = add_params_to_uri(
            app.authorize_url,
            [
                ("response_type", "code"),
                ("client_id", app.client_id),
                ("redirect_uri", redirect_uri),
                ("state", state),
            ],
        )
        say(f"Sign in to Aha! at this address (redirect URI {redirect_uri}):\n  {url}")
        if open_browser:
            _open(url, say)
        answer = _wait_for_answer(server, wait)
    if answer.get("error"):
        description = answer.get("error_description", "")
        raise RemoteError(
            f"Aha! did not authorize the application ({answer['error']})"
            + (f": {description}" if description else "")
        )
    if not secrets.compare_digest(answer.get("state", ""), state):
        raise RemoteError("The sign-in answer carried another state: ignored, log in again")
    code = answer.get("code", "")
    if not code:
        raise RemoteError("The sign-in answer carried no authorization code")
    body = WebApplicationClient(app.client_id).prepare_request_body(
        code=code,
        redirect_uri=redirect_uri,
        client_secret=app.client_secret,
        include_client_id=True,
    )
    return request_token(app, body, _http(app.client_secret, code))


def _open(url: str, say: Callable[[str], None]) -> None:
    """Open the browser without holding up the callback server."""

    def open_it() -> None:
        try:
            opened = webbrowser.open(url)
        except webbrowser.Error:
            opened = False
        if not opened:
            say("No browser could be opened: open the address yourself.")

    threading.Thread(target=open_it, name="aha-login-browser", daemon=True).start()
