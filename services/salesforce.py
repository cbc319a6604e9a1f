"""Salesforce: the Aha! app in Salesforce creates ideas; Aha! tells it which ideas portal to use.

Testing the connection refreshes the OAuth token at the login host, checks that the
token works against the organization's REST API, then posts the ideas portal
settings to the Aha! app's Apex REST endpoint in that organization.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from services.core import (
    AhaServiceError,
    ConfigurationError,
    RemoteError,
    Service,
    address_guard,
    install_button,
    internal,
    oauth2_button,
    string,
)

if TYPE_CHECKING:
    import requests

DEFAULT_HOST = "login.salesforce.com"
API_VERSION = "62.0"
TOKEN_PATH = "/services/oauth2/token"
SETTINGS_PATH = "/services/apexrest/ahaapp/aha_rest_api/settings"

HOST_ERROR = (
    "Please ensure the custom host ends in salesforce.com and does not include http:// or https://."
)
AUTH_ERROR = "Authentication failed. Please use the 'Authenticate' button to connect to Salesforce."
API_DISABLED_ERROR = "The REST API is not enabled for this Organization."
API_DISABLED_CODE = "API_DISABLED_FOR_ORG"
NOT_INSTALLED_ERROR = (
    "Salesforce has no Aha! settings endpoint: install the Aha! app in your Salesforce "
    "organization, then test the connection again."
)
NO_PORTAL_ERROR = "Choose the ideas portal to link to Salesforce, then test the connection again."

_SCHEME = re.compile(r"(?i)^https?://")
_HOST_NAME = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)*")


def host_problem(host: str) -> str | None:
    """Why a custom host cannot be a Salesforce login host, or None when it can."""
    if _SCHEME.match(host):
        return "Custom host should not include http:// or https://."
    name = host.lower().rstrip(".")
    if not _HOST_NAME.fullmatch(name) or not (
        name == "salesforce.com" or name.endswith(".salesforce.com")
    ):
        return "Custom host should end in salesforce.com."
    return None


def allowed_local_base(host: str) -> str | None:
    """The base URL of a host that ``AHA_SERVICES_ALLOWED_HOSTS`` names (a local fake), or None.

    Such a host may carry a port and an ``http://`` scheme; no other host may.
    """
    try:
        parts = urlsplit(host if "://" in host else f"https://{host}")
        exempt = (
            parts.scheme in ("http", "https")
            and bool(parts.hostname)
            and parts.path in ("", "/")
            and not (parts.query or parts.fragment or parts.username)
            and address_guard.is_exempt(parts.hostname or "")
        )
    except (ValueError, AhaServiceError):
        return None
    return f"{parts.scheme}://{parts.netloc}" if exempt else None


# Where Salesforce's own answers may send the token: its API and identity hosts.
SALESFORCE_DOMAINS = ("salesforce.com", "force.com", "salesforce.mil")


def salesforce_url(url: str, what: str) -> str:
    """A URL that Salesforce's answer named, when it is on a Salesforce host (or on a
    host ``AHA_SERVICES_ALLOWED_HOSTS`` names, a local fake); the token never goes to
    any other address an answer may name, and over https only, as every credential."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    on_salesforce = any(
        host == domain or host.endswith(f".{domain}") for domain in SALESFORCE_DOMAINS
    )
    if on_salesforce or allowed_local_base(f"{parts.scheme}://{parts.netloc}"):
        return url
    raise RemoteError(f"Salesforce's answer names an {what} outside Salesforce: {url}")


def json_object(response: requests.Response) -> dict[str, Any]:
    """The JSON object Salesforce answered, or a RemoteError."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise RemoteError(
            f"Salesforce answered {response.request.method} {response.url} "
            "with something other than a JSON object"
        )
    return body


def salesforce_errors(response: requests.Response) -> list[dict[str, Any]]:
    """Salesforce's error entries (``errorCode``/``message``, or OAuth's ``error``), if any."""
    try:
        body = response.json()
    except ValueError:
        return []
    entries = body if isinstance(body, list) else [body]
    return [entry for entry in entries if isinstance(entry, dict)]


def describe_errors(entries: list[dict[str, Any]]) -> str:
    return "; ".join(
        ": ".join(
            str(part)
            for part in (
                entry.get("errorCode") or entry.get("error"),
                entry.get("message") or entry.get("error_description"),
            )
            if part
        )
        for entry in entries
    )


def api_disabled(response: requests.Response) -> bool:
    entries = salesforce_errors(response)
    return any(entry.get("errorCode") == API_DISABLED_CODE for entry in entries) or (
        API_DISABLED_ERROR in (response.text or "")
    )


class Salesforce(Service):
    """Sends the ideas portal settings to the Aha! app installed in a Salesforce organization."""

    caption = "Receive ideas from Salesforce"
    category = "Customer relationship management"
    schema = (
        oauth2_button(
            authorize_url="https://login.salesforce.com/services/oauth2/authorize",
            token_url="https://login.salesforce.com/services/oauth2/token",
            parameters={"display": "popup", "immediate": "false"},
        ),
        string(
            "host",
            description=(
                "The custom host to use for sandbox Salesforce organizations. "
                "Leave this blank if you are not using a sandbox organization."
            ),
        ),
        internal("idea_portal_id"),
        install_button(),
    )
    white_listed = ("host",)
    # Credentials Aha! keeps for this integration, though no password field shows them.
    secret_settings = (
        "oauth2_token",
        "oauth2_refresh_token",
        "consumer_secret",
        "jwt_secret_key",
        "password",
        "security_token",
    )

    def receive_updated(self) -> None:
        """Saved settings with a bad custom host are only reported in the log."""
        self.login_base_url()

    def receive_installed(self) -> None:
        base_url = self.login_base_url()
        if base_url is None:
            raise ConfigurationError(HOST_ERROR)
        token, instance_url = self.authenticate(base_url)
        self.check_token(token, instance_url)
        if not self.data.get("idea_portal_url"):
            raise ConfigurationError(NO_PORTAL_ERROR)
        self.salesforce_request(
            "POST",
            instance_url + SETTINGS_PATH,
            token,
            json={
                "idea_portal_url": self.data.get("idea_portal_url"),
                "jwt_secret_key": self.data.get("jwt_secret_key"),
            },
        )
        self.logger.info("Sent the ideas portal settings to Salesforce")

    def login_base_url(self) -> str | None:
        """``https://<host>`` from the host setting; None (the reason logged) when it is refused."""
        host = str(self.data.get("host") or "").strip()
        if not host:
            return f"https://{DEFAULT_HOST}"
        local = allowed_local_base(host)
        if local:
            return local
        problem = host_problem(host)
        if problem:
            self.logger.error(problem)
            return None
        return f"https://{host.lower().rstrip('.')}"

    def token_form(self) -> dict[str, str] | None:
        """The token request's form: the refresh-token grant, or the older password grant."""
        if self.data.get("oauth2_token"):
            grant = "refresh_token"
            fields = {
                "refresh_token": "oauth2_refresh_token",
                "client_id": "consumer_key",
                "client_secret": "consumer_secret",
            }
        else:
            grant = "password"
            fields = {
                "client_id": "consumer_key",
                "client_secret": "consumer_secret",
                "username": "username",
                "password": "password",
            }
        missing = [setting for setting in fields.values() if not self.data.get(setting)]
        if missing:
            self.logger.debug(f"Salesforce credentials incomplete, missing: {', '.join(missing)}")
            return None
        form = {"grant_type": grant}
        form.update({name: str(self.data.get(setting)) for name, setting in fields.items()})
        if grant == "password":
            form["password"] += str(self.data.get("security_token") or "")
        return form

    def authenticate(self, base_url: str) -> tuple[str, str]:
        """A fresh access token and the organization's instance URL from the token endpoint."""
        form = self.token_form()
        if form is None:
            raise ConfigurationError(AUTH_ERROR)
        response = self.http_post(
            base_url + TOKEN_PATH,
            data=form,
            headers={"Accept": "application/json"},
            sends_credentials=True,
        )
        if response.status_code >= 500:
            raise RemoteError(f"Salesforce answered {response.status_code} to the token request")
        if response.status_code != 200:
            self.logger.debug(
                f"Salesforce refused the token request ({response.status_code}): "
                f"{describe_errors(salesforce_errors(response))}"
            )
            raise ConfigurationError(API_DISABLED_ERROR if api_disabled(response) else AUTH_ERROR)
        body = json_object(response)
        token, instance_url = body.get("access_token"), body.get("instance_url")
        if not token or not instance_url:
            raise RemoteError("Salesforce's token answer has no access token or instance URL")
        self.keep_secret(token)
        return str(token), salesforce_url(str(instance_url).rstrip("/"), "instance URL")

    def check_token(self, token: str, instance_url: str) -> None:
        """Read the API's resources, then the identity they point at, as the token's owner."""
        resources = self.salesforce_request(
            "GET", f"{instance_url}/services/data/v{API_VERSION}/", token
        )
        identity = json_object(resources).get("identity")
        if not identity:
            raise RemoteError("Salesforce's API answer names no identity URL")
        self.salesforce_request("GET", salesforce_url(str(identity), "identity URL"), token)

    def salesforce_request(
        self, method: str, url: str, token: str, **kwargs: Any
    ) -> requests.Response:
        """A REST call with the token in the Authorization header; error answers raise."""
        response = self.http.request(
            method,
            url,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            **kwargs,
        )
        if response.status_code < 400:
            return response
        if api_disabled(response):
            raise ConfigurationError(API_DISABLED_ERROR)
        if response.status_code == 401:
            raise ConfigurationError(AUTH_ERROR)
        if response.status_code == 404 and url.endswith(SETTINGS_PATH):
            raise ConfigurationError(NOT_INSTALLED_ERROR)
        detail = describe_errors(salesforce_errors(response))
        raise RemoteError(
            f"Salesforce answered {response.status_code} to {method} {url}"
            + (f": {detail}" if detail else "")
        )
