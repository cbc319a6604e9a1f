"""What both Azure DevOps services share: the connection, its errors, and the events."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from services.azure_devops import errors
from services.core import ConfigurationError
from services.core.kits.tracker import TrackerService, http_address
from services.core.ntlm import ntlm_auth, offers_only_windows_sign_in

if TYPE_CHECKING:
    import requests

    from services.azure_devops.work_items import WorkItems

# What a call needs, by method, when Azure answers 403.
PERMISSIONS = {
    "GET": "View work items (Work Items: Read)",
    "POST": "Edit work items (Work Items: Read & write)",
    "PATCH": "Edit work items (Work Items: Read & write)",
    "PUT": "Edit work items (Work Items: Read & write)",
    "DELETE": "Delete work items",
}
# Azure refuses a work item title longer than this.
FIELD_LIMITS = {"System.Title": 255}


def azure_address(value: Any, setting: str, example: str) -> str:
    """An http(s) address from a setting, without a trailing slash, its path kept."""
    what = f"The Azure DevOps address ({setting})"
    if not str(value or "").strip().rstrip("/"):
        raise ConfigurationError(f"{what} is not set")
    return http_address(value, what, example)


class AzureDevOps(TrackerService):
    """Features and requirements as work items (requirements their children), files as
    attachments, names, descriptions and states back by service hook."""

    abstract: ClassVar[bool] = True
    tracker_name = "Azure DevOps"
    permissions = PERMISSIONS
    field_limits = FIELD_LIMITS
    # The setting that holds the API version, named when the server refuses it.
    version_setting: ClassVar[str] = "api_version"

    # --- connection ------------------------------------------------------------------------

    def api_version(self) -> str:
        raise NotImplementedError

    def tracker_request_options(self) -> dict[str, Any]:
        secret = self.data.get("user_password")
        if not secret:
            raise ConfigurationError(
                "The Azure DevOps personal access token or password (user_password) is not set"
            )
        auth = self.__dict__.get("_windows_auth") or (
            str(self.data.get("user_name") or ""),
            str(secret),
        )
        # Azure's own clients follow no redirect: a redirect is its sign-in page.
        return {
            "auth": auth,
            "allow_redirects": False,
            "headers": {"Accept": "application/json"},
        }

    def require_connection(self) -> None:
        """Every setting a request needs, checked before the first one (or a download)."""
        self.base_url()
        self.api_version()
        self.tracker_request_options()

    def require_settings(self, *names: str) -> None:
        """Fail before any write when a setting the event needs is empty."""
        for name in names:
            if not self.data.get(name):
                raise ConfigurationError(
                    f"The Azure DevOps {name.replace('_', ' ')} ({name}) is not chosen; press "
                    "Install, then choose it in the settings"
                )

    def tracker_request(
        self, method: str, path: str, *, accept: Iterable[int] = (), **kwargs: Any
    ) -> requests.Response:
        """Every request names the API version; a server that offers only Windows sign-in
        is asked again with NTLM (the optional ``ntlm`` extra)."""
        accept = tuple(accept)
        kwargs["params"] = {**(kwargs.get("params") or {}), "api-version": self.api_version()}
        response = super().tracker_request(method, path, accept=(*accept, 401), **kwargs)
        if self.switch_to_windows_sign_in(response):
            response = super().tracker_request(method, path, accept=(*accept, 401), **kwargs)
        if response.status_code == 401 and 401 not in accept:
            self.check_tracker_response(response, method.upper(), path)
        return response

    def switch_to_windows_sign_in(self, response: requests.Response) -> bool:
        """Whether the request should be sent again, now signing in with NTLM."""
        if "_windows_auth" in self.__dict__ or not offers_only_windows_sign_in(response):
            return False
        self.__dict__["_windows_auth"] = ntlm_auth(
            str(self.data.get("user_name") or ""),
            str(self.data.get("user_password") or ""),
            service=self.tracker_name,
            setting="user_password",
        )
        self.logger.info("Azure DevOps offers only Windows sign-in; signing in with NTLM")
        return True

    def check_tracker_response(self, response: requests.Response, method: str, path: str) -> None:
        what = f"{method.upper()} {path}"
        if errors.sign_in_page(response):
            raise ConfigurationError(
                f"Azure DevOps rejected the credentials for {what}: it answered with a sign-in "
                f"page (HTTP {response.status_code}); check user_name and the personal access "
                "token in user_password"
            )
        if 300 <= response.status_code < 400:
            raise ConfigurationError(
                f"Azure DevOps answered {what} with a redirect to "
                f"{response.headers.get('Location') or 'nowhere'}; set {self.address_setting()} "
                "to the address it moved to"
            )
        errors.refuse_setting_errors(response, version_setting=self.version_setting, what=what)
        super().check_tracker_response(response, method, path)

    def address_setting(self) -> str:
        """The setting that holds the address requests go to."""
        raise NotImplementedError

    def describe_bad_request(self, response: requests.Response) -> str:
        return errors.describe_400(
            response, "feature_default_fields and requirement_default_fields"
        )

    def error_excerpt(self, response: requests.Response) -> str:
        return errors.error_message(response)

    def work_item_url(self, item_id: Any) -> str:
        """The API address of a work item, as Azure writes it in relations."""
        return f"{self.base_url()}/_apis/wit/workItems/{item_id}"

    # --- events ----------------------------------------------------------------------------

    def receive_installed(self) -> None:
        from services.azure_devops.project_data import ProjectData

        self.require_connection()
        ProjectData(self).load()

    def receive_create_feature(self) -> None:
        self.work_items().send_feature(self.payload.get("feature") or {})

    def receive_update_feature(self) -> None:
        self.work_items().send_feature(self.payload.get("feature") or {})

    def receive_create_requirement(self) -> None:
        self.work_items().send_requirement(self.payload.get("requirement") or {})

    def receive_update_requirement(self) -> None:
        self.work_items().send_requirement(self.payload.get("requirement") or {})

    def receive_webhook(self) -> None:
        from services.azure_devops.webhook import AzureWebhook

        AzureWebhook(self).apply(self.payload)

    def work_items(self) -> WorkItems:
        from services.azure_devops.work_items import WorkItems

        self.require_connection()
        self.require_settings("project")
        return WorkItems(self)
