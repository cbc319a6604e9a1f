"""The Bugzilla service: its settings, its connection, and its events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from services.bugzilla import auth, errors
from services.core import ConfigurationError, install_button, password, select, string
from services.core.kits.tracker import TrackerService, http_address, labelled

if TYPE_CHECKING:
    import requests

# What a call needs, by method, when Bugzilla refuses it for want of a permission.
PERMISSIONS = {
    "GET": "see the product and its bugs",
    "POST": "enter bugs in the product",
    "PUT": "edit bugs (editbugs)",
    "DELETE": "delete",
}


def products(meta_data: Any, data: Any) -> list[list[Any]]:
    """The ``product`` select: ``[name, id]`` by name; empty before Install."""
    return labelled(meta_data.get("products") or [], "name", "id")


def components(meta_data: Any, data: Any) -> list[list[Any]]:
    """The chosen product's components, ``[name, id]`` by name."""
    chosen = str(data.get("product") or "")
    for product in meta_data.get("products") or []:
        if chosen and str(product.get("id")) == chosen:
            return labelled(product.get("components") or [], "name", "id")
    return []


def _caption(workspace_type: str) -> str:
    records = "activities" if workspace_type == "marketing_workspace" else "features"
    return f"Send {records} and requirements to a Bugzilla installation"


class Bugzilla(TrackerService):
    """Features and their requirements as bugs in one product and component, over
    Bugzilla's REST API with an API key."""

    title = "Bugzilla"
    service_name = "bugzilla"
    caption = _caption
    tracker_name = "Bugzilla"
    permissions = PERMISSIONS
    # Bugzilla's summary is at most 255 characters, a comment (the description) 65,535.
    field_limits = {"summary": 255, "description": 65535}
    schema = (
        string(
            "server_url",
            description="The address of your Bugzilla, with its path, e.g. "
            "https://bugzilla.example.com or https://example.com/bugzilla",
        ),
        password(
            "api_key",
            description="An API key of the Bugzilla user who files the bugs "
            "(Preferences, API Keys).",
        ),
        install_button(),
        select(
            "product",
            collection=products,
            description="The product in which new bugs will be created",
        ),
        select(
            "component",
            collection=components,
            description="The component in which new bugs will be created",
        ),
    )
    white_listed: ClassVar[tuple[str, ...]] = ("server_url", "product", "component")

    # --- connection ------------------------------------------------------------------------

    def server_url(self) -> str:
        """The installation's address without a trailing slash, its path kept."""
        return http_address(
            self.data.get("server_url"),
            "The Bugzilla URL (server_url)",
            "https://bugzilla.example.com",
        )

    def base_url(self) -> str:
        return self.server_url()

    def api_key(self) -> str:
        key = str(self.data.get("api_key") or "").strip()
        if not key:
            raise ConfigurationError("The Bugzilla API key (api_key) is not set")
        return key

    def tracker_request_options(self) -> dict[str, Any]:
        return {"headers": {"Accept": "application/json"}}

    def classify_response(self, response: requests.Response) -> str | None:
        return errors.classify(response)

    def connection(self) -> tuple[str, str]:
        """The REST path and credential form: those kept in ``meta_data``, else probed
        now and kept (an integration installed before they were kept never needs to
        press Install again)."""
        form = self.meta_data.get("bugzilla_auth")
        if form not in auth.FORMS:
            self.meta_data.update(auth.probe(self))
            form = self.meta_data.bugzilla_auth
        rest_path = self.meta_data.get("bugzilla_rest_path")
        return (rest_path if rest_path in auth.REST_PATHS else auth.REST_PATHS[0]), form

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON answer of a REST call, with the API key in this server's form."""
        rest_path, form = self.connection()
        options = auth.signed(form, self.api_key(), method, kwargs)
        return self.tracker_json(method, rest_path + path, **options)

    def bug_url(self, bug_id: Any) -> str:
        return f"{self.server_url()}/show_bug.cgi?id={bug_id}"

    # --- events ----------------------------------------------------------------------------

    def receive_installed(self) -> None:
        from services.bugzilla import products as product_data

        self.server_url()
        self.api_key()
        self.meta_data.update(auth.probe(self))
        product_data.load(self)

    def receive_create_feature(self) -> None:
        self.send_feature()

    def receive_update_feature(self) -> None:
        self.send_feature()

    def send_feature(self) -> None:
        from services.bugzilla.bugs import BugSync

        self.server_url()
        self.api_key()
        BugSync(self).send_feature(self.payload.get("feature") or {})
