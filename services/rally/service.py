"""The Rally service: its settings, its connection to Rally's web services, its events."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from services.core import ConfigurationError, MissingSetting, RemoteError, switched_on
from services.core.kits.tracker import RemoteGone, TrackerService, http_address
from services.rally import schema
from services.rally.errors import INVALID_KEY, InvalidKey, body_of, result_errors, says_gone

if TYPE_CHECKING:
    import requests

T = TypeVar("T")
DEFAULT_SERVER = "https://rally1.rallydev.com"
WSAPI_PATH = "/slm/webservice/v2.0"
WEBHOOK_API_PATH = "/apps/pigeon/api/v2/webhook"
# Rally's longest Name, and the most its rich-text fields keep.
FIELD_LIMITS = {"Name": 256, "Description": 32768, "Theme": 32768}
# In Rally a PUT creates and a POST updates; both need an Editor of the project.
PERMISSIONS = {
    "GET": "Viewer (read) access to the workspace and project",
    "PUT": "Editor access to the project (to create)",
    "POST": "Editor access to the project (to update)",
    "DELETE": "Editor access to the project (to delete)",
}
INTEGRATION_HEADERS = {
    "Accept": "application/json",
    "X-RallyIntegrationName": "Aha! Integration",
    "X-RallyIntegrationVendor": "Aha! Labs Inc.",
}


class Rally(TrackerService):
    """Features and requirements as Rally user stories or portfolio items, releases as
    releases, changes back through Rally's webhooks; over Rally's Web Services API v2.0."""

    title = "Rally"
    service_name = "rally"
    caption = schema.caption
    tracker_name = "Rally"
    permissions = PERMISSIONS
    field_limits = FIELD_LIMITS
    schema = schema.SCHEMA
    white_listed: ClassVar[tuple[str, ...]] = (
        "server_url",
        "user_name",
        "workspace",
        "project",
        "feature_and_requirement_type",
        "send_tags",
        "dont_send_releases",
    )

    # --- connection ------------------------------------------------------------------------

    def server_url(self) -> str:
        """Rally's address without a trailing slash (its path prefix kept)."""
        return http_address(
            str(self.data.get("server_url") or "").strip() or DEFAULT_SERVER,
            "The Rally server URL (server_url)",
            f"{DEFAULT_SERVER}, or empty",
        )

    def base_url(self) -> str:
        return self.server_url() + WSAPI_PATH

    def webhook_api_url(self) -> str:
        return self.server_url() + WEBHOOK_API_PATH

    def uses_api_key(self) -> bool:
        """No user name: the password setting holds an API key."""
        return not str(self.data.get("user_name") or "").strip()

    def secret(self) -> str:
        secret = str(self.data.get("user_password") or "").strip()
        if not secret:
            what = "API key" if self.uses_api_key() else "password"
            raise MissingSetting(f"The Rally {what} (user_password) is not set")
        return secret

    def key_headers(self) -> dict[str, str]:
        """The API key's header, when the key is the credential."""
        return {"ZSESSIONID": self.secret()} if self.uses_api_key() else {}

    def tracker_request_options(self) -> dict[str, Any]:
        headers = {**INTEGRATION_HEADERS, **self.key_headers()}
        if self.uses_api_key():
            return {"headers": headers}
        return {
            "auth": (str(self.data.get("user_name")).strip(), self.secret()),
            "headers": headers,
        }

    def require_connection(self) -> None:
        """Every setting a request needs, checked before the first one is sent."""
        self.server_url()
        self.secret()

    def require_project(self) -> str:
        project = str(self.data.get("project") or "").strip()
        if not project:
            raise MissingSetting(
                "No Rally project is chosen (project); press Install, then choose one"
            )
        return project

    # --- errors ----------------------------------------------------------------------------

    def is_gone(self, status: int, body: str) -> bool:
        return super().is_gone(status, body) or says_gone(body)

    def check_tracker_response(self, response: requests.Response, method: str, path: str) -> None:
        """The core's rule by status, then the ``Errors`` Rally puts in a 200 answer."""
        super().check_tracker_response(response, method, path)
        errors = result_errors(body_of(response))
        if not errors:
            return
        text = "; ".join(errors)
        what = f"{method.upper()} {path}"
        if says_gone(text):
            raise RemoteGone(f"Rally: {what} says the object is gone: {text[:500]}")
        if INVALID_KEY in text.casefold():
            raise InvalidKey(f"Rally refused the security token of {what}: {text[:500]}")
        raise RemoteError(
            f"Rally: {what} answered HTTP {response.status_code} with errors: {text[:500]}"
        )

    # --- security token --------------------------------------------------------------------

    def security_token(self, *, again: bool = False) -> str:
        """The token that a password sign-in's writes carry as ``key=``; its session
        cookies stay in this event's HTTP session."""
        token = self.__dict__.get("_security_token")
        if token is None or again:
            answer = self.tracker_json("GET", "/security/authorize", shape="object") or {}
            token = (answer.get("OperationResult") or {}).get("SecurityToken")
            if not token:
                raise RemoteError("Rally answered GET /security/authorize without a token")
            token = str(token)
            self.keep_secret(token)
            self.__dict__["_security_token"] = token
        return token

    def with_key(self, send: Callable[[dict[str, Any]], T]) -> T:
        """``send(params)`` with the security token among the parameters (none with an API
        key); an "Invalid key" gets one new token, then is a configuration error."""
        if self.uses_api_key():
            return send({})
        try:
            return send({"key": self.security_token()})
        except InvalidKey:
            self.logger.info("Rally refused the security token; signing in again")
        try:
            return send({"key": self.security_token(again=True)})
        except InvalidKey as error:
            raise ConfigurationError(
                f"{error}. A new sign-in did not help: check that the Rally user may use "
                "the API (and that single sign-on does not require an API key)"
            ) from None

    def write(self, method: str, path: str, body: Any, params: dict[str, Any] | None = None) -> Any:
        """A create (PUT) or update (POST) with the security token when one is needed."""
        return self.with_key(
            lambda key: self.tracker_json(method, path, json=body, params={**(params or {}), **key})
        )

    # --- refs ------------------------------------------------------------------------------

    def workspace_ref(self) -> str | None:
        workspace = str(self.data.get("workspace") or "").strip()
        return f"/workspace/{workspace}" if workspace else None

    def workspace_params(self) -> dict[str, str]:
        ref = self.workspace_ref()
        return {"workspace": ref} if ref else {}

    def detail_url(self, kind: str, object_id: Any) -> str:
        """The page of a Rally object, in the chosen project."""
        return f"{self.server_url()}/#/{self.data.get('project')}d/detail/{kind}/{object_id}"

    def flag(self, name: str) -> bool:
        return switched_on(self.data.get(name))

    # --- events ----------------------------------------------------------------------------

    def receive_installed(self) -> None:
        from services.rally.install import Install

        self.require_connection()
        Install(self).load()

    def receive_updated(self) -> None:
        from services.rally.hooks import WebhookRegistration

        if not self.meta_data.get("install_successful") or not self.data.get("project"):
            self.logger.info("Rally webhooks are installed once Install ran and a project is set")
            return
        self.require_connection()
        WebhookRegistration(self).replace()

    def receive_destroyed(self) -> None:
        from services.rally.hooks import WebhookRegistration

        if not self.meta_data.get("install_successful") or not self.data.get("project"):
            return
        self.require_connection()
        WebhookRegistration(self).remove()

    def receive_create_release(self) -> None:
        self.send_release()

    def receive_update_release(self) -> None:
        self.send_release()

    def receive_create_feature(self) -> None:
        self.artifacts().send_feature(self.payload.get("feature") or {})

    def receive_update_feature(self) -> None:
        self.artifacts().send_feature(self.payload.get("feature") or {})

    def receive_create_requirement(self) -> None:
        self.artifacts().send_requirement(self.payload.get("requirement") or {})

    def receive_update_requirement(self) -> None:
        self.artifacts().send_requirement(self.payload.get("requirement") or {})

    def receive_webhook(self) -> None:
        from services.rally.webhook import RallyWebhook

        RallyWebhook(self).apply(self.payload)

    # --- parts -----------------------------------------------------------------------------

    def artifacts(self) -> Any:
        from services.rally.artifacts import Artifacts

        self.require_connection()
        self.require_project()
        return Artifacts(self)

    def send_release(self) -> None:
        from services.rally.releases import Releases

        self.require_connection()
        self.require_project()
        if self.flag("dont_send_releases"):
            self.logger.info("Releases are not sent to Rally (dont_send_releases)")
            return
        Releases(self).send(self.payload.get("release") or {})
