"""The FogBugz service: its settings, its XML API, and its events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from services.core import (
    ConfigurationError,
    callback_url,
    install_button,
    password,
    select,
    string,
)
from services.core.errors_by_status import CREDENTIALS, FAILED
from services.core.kits.tracker import TrackerService, http_address, labelled
from services.fogbugz import answers

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

    import requests

API_PATH = "/api.asp"
# What a web server answers for an address where no FogBugz API is.
NOT_THE_API = (404, 405)
# What ``search``, ``new`` and ``edit`` answer about a case.
CASE_COLUMNS = "ixBug,sTitle,sLatestTextSummary,ixStatus,sStatus,fOpen,tags,events"


def projects(meta_data: Any, data: Any) -> list[list[Any]]:
    """The ``projects`` select: ``[sProject, ixProject]`` by name; empty before Install."""
    return labelled(meta_data.get("projects") or [], "sProject", "ixProject")


def _caption(workspace_type: str) -> str:
    records = "activities" if workspace_type == "marketing_workspace" else "features"
    return f"Send {records} to FogBugz bug tracking software"


class Fogbugz(TrackerService):
    """Features as cases and requirements as their subcases, over FogBugz's XML API with an
    API token; case status back to Aha! by a FogBugz URL trigger."""

    title = "FogBugz"
    service_name = "fogbugz"
    caption = _caption
    tracker_name = "FogBugz"
    # FogBugz keeps at most 128 characters of a case title.
    field_limits = {"sTitle": 128}
    schema = (
        string(
            "fogbugz_url",
            description="The address of your FogBugz, e.g. https://acme.fogbugz.com "
            "(with its path when it has one).",
        ),
        password(
            "api_token",
            description="An API token of the FogBugz user who creates the cases.",
        ),
        install_button(),
        select(
            "projects",
            collection=projects,
            description="FogBugz project that this Aha! workspace will integrate with.",
        ),
        callback_url(
            description="Add '?case_number={CaseNumber}' to this address and use it for a "
            "FogBugz URL trigger on all case events (POST)."
        ),
    )
    white_listed: ClassVar[tuple[str, ...]] = ("fogbugz_url", "projects")

    # --- connection ------------------------------------------------------------------------

    def fogbugz_url(self) -> str:
        """The site's address without a trailing slash, its path kept."""
        return http_address(
            self.data.get("fogbugz_url"),
            "The FogBugz URL (fogbugz_url)",
            "https://acme.fogbugz.com",
        )

    def base_url(self) -> str:
        return self.fogbugz_url()

    def api_token(self) -> str:
        token = str(self.data.get("api_token") or "").strip()
        if not token:
            raise ConfigurationError("The FogBugz API token (api_token) is not set")
        return token

    def is_gone(self, status: int, body: str) -> bool:
        """Every command goes to one address: a 404 there is a wrong URL, not a gone case."""
        return False

    def check_tracker_response(self, response: requests.Response, method: str, path: str) -> None:
        """An address that is not FogBugz's API (404, 405 without its XML) is a wrong
        fogbugz_url, not a failure of FogBugz; the rest follows the core's rule."""
        if response.status_code in NOT_THE_API and answers.parse(response.content) is None:
            raise ConfigurationError(
                f"FogBugz answered {method.upper()} {path} with HTTP {response.status_code}: "
                "there is no FogBugz API at that address; check the FogBugz URL (fogbugz_url)"
            )
        super().check_tracker_response(response, method, path)

    def classify_response(self, response: requests.Response) -> str | None:
        """FogBugz answers its errors with a 200 and an ``<error code>``."""
        code = answers.error_code(answers.parse(response.content))
        if code is None:
            return None
        return CREDENTIALS if code in answers.CREDENTIAL_CODES else FAILED

    def command(
        self,
        cmd: str,
        params: dict[str, Any] | None = None,
        files: list[tuple[str, tuple[str, bytes, str]]] | None = None,
    ) -> ET.Element:
        """One API command, posted as a form (multipart with files); its ``<response>``."""
        form = {"cmd": cmd, "token": self.api_token(), **(params or {})}
        if files:
            form["nFileCount"] = len(files)
        response = self.tracker_request("POST", API_PATH, data=form, files=files or None)
        root = answers.parse(response.content)
        if root is None:
            raise ConfigurationError(
                f"FogBugz answered {cmd} without its XML: check the FogBugz URL (fogbugz_url)"
            )
        return root

    def case_url(self, number: Any) -> str:
        return f"{self.fogbugz_url()}/f/cases/{number}"

    def search(self, number: Any) -> dict[str, Any] | None:
        """The case numbered ``number``; None when FogBugz has none."""
        if not str(number or "").strip().isdigit():
            return None
        root = self.command("search", {"q": f"case:{number}", "cols": CASE_COLUMNS})
        return answers.case(root)

    # --- events ----------------------------------------------------------------------------

    def receive_installed(self) -> None:
        self.fogbugz_url()
        self.api_token()
        self.meta_data.projects = answers.records(self.command("listProjects"), "projects/project")
        statuses = answers.records(self.command("listStatuses"), "statuses/status")
        self.meta_data.statuses = {status.get("ixStatus"): status for status in statuses}

    def receive_create_feature(self) -> None:
        self.send_feature()

    def receive_update_feature(self) -> None:
        self.send_feature()

    def send_feature(self) -> None:
        from services.fogbugz.cases import CaseSync

        self.fogbugz_url()
        self.api_token()
        if not self.data.get("projects"):
            raise ConfigurationError("The FogBugz project (projects) is not set; choose one")
        CaseSync(self).send(self.payload.get("feature") or {})

    def receive_webhook(self) -> None:
        from services.fogbugz.webhook import apply

        apply(self, self.payload)
