"""The two registered services: Azure DevOps Services (cloud) and Azure DevOps Server.

Aha! stores them as ``tfs`` (the cloud, once Visual Studio Online) and
``tfs_on_premise``; the names are kept so that existing integrations reach the
right code.
"""

from __future__ import annotations

import re
from typing import ClassVar
from urllib.parse import urlsplit

from services.azure_devops import schema
from services.azure_devops.service import AzureDevOps, azure_address
from services.core import ConfigurationError, password, select, string

CLOUD = "https://dev.azure.com"
CLOUD_API_VERSION = "7.1"
SERVER_API_VERSIONS = ("5.0", "6.0", "7.0", "7.1")
# Letters, digits and hyphens, starting and ending with a letter or digit.
_ORGANIZATION = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,48}[A-Za-z0-9])?$")


def organization_name(value: str) -> str:
    """The organisation from what a user typed: ``acme``, ``https://dev.azure.com/acme``,
    ``acme.visualstudio.com`` or ``https://acme.visualstudio.com/DefaultCollection``."""
    text = value.strip().rstrip("/")
    if "/" in text or "." in text:
        parts = urlsplit(text if "://" in text else f"https://{text}")
        host = (parts.hostname or "").lower()
        segments = [segment for segment in parts.path.split("/") if segment]
        if host == "dev.azure.com" and segments:
            text = segments[0]
        elif host.endswith(".visualstudio.com"):
            text = host.removesuffix(".visualstudio.com")
    if not _ORGANIZATION.match(text):
        raise ConfigurationError(
            "The Azure DevOps organization (account_name) must be its name, as in "
            "https://dev.azure.com/<name>"
        )
    return text


class AzureDevOpsServices(AzureDevOps):
    """Azure DevOps Services, the cloud: ``https://dev.azure.com/<organization>``."""

    title = "Azure DevOps Services"
    service_name = "tfs"
    caption = schema.caption_for("Azure DevOps Services (formerly VSTS)")
    version_setting: ClassVar[str] = "api_url"
    schema = (
        string(
            "account_name",
            description="The name of your organization: 'acme' for https://dev.azure.com/acme "
            "or https://acme.visualstudio.com.",
        ),
        string(
            "user_name",
            description="Your e-mail address; may be left empty with a personal access token.",
        ),
        password(
            "user_password",
            description="A personal access token with the scopes Project and Team (Read) and "
            "Work Items (Read & write).",
        ),
        string(
            "api_url",
            label="API URL",
            description="Leave empty for https://dev.azure.com/<organization>; another "
            "address (a proxy, a test server) replaces it, its path kept.",
        ),
        *schema.shared_fields("Azure DevOps Services"),
    )
    white_listed = (
        "account_name",
        "user_name",
        "api_url",
        "project",
        "area",
        "feature_mapping",
        "requirement_mapping",
    )

    def base_url(self) -> str:
        if str(self.data.get("api_url") or "").strip():
            return azure_address(self.data.get("api_url"), "api_url", f"{CLOUD}/acme")
        account = str(self.data.get("account_name") or "").strip()
        if not account:
            raise ConfigurationError("The Azure DevOps organization (account_name) is not set")
        return f"{CLOUD}/{organization_name(account)}"

    def api_version(self) -> str:
        return CLOUD_API_VERSION

    def address_setting(self) -> str:
        return "api_url" if str(self.data.get("api_url") or "").strip() else "account_name"


class AzureDevOpsServer(AzureDevOps):
    """Azure DevOps Server (formerly Team Foundation Server), at the collection's address."""

    title = "Azure DevOps Server"
    service_name = "tfs_on_premise"
    caption = schema.caption_for("Azure DevOps Server (formerly TFS)")
    schema = (
        string(
            "server_url",
            label="Server URL",
            description="The address of the collection, e.g. "
            "https://tfs.example.com/tfs/DefaultCollection.",
        ),
        string(
            "user_name",
            description="The user name (DOMAIN\\user for Windows sign-in); may be left empty "
            "with a personal access token.",
        ),
        password(
            "user_password",
            description="A personal access token (Work Items: Read & write), or the password.",
        ),
        select(
            "api_version",
            collection=[[version, version] for version in SERVER_API_VERSIONS],
            label="API version",
            description="The REST API version the server offers: 5.0 for Azure DevOps Server "
            "2019, 6.0 for 2020, 7.0 or 7.1 for 2022.",
        ),
        *schema.shared_fields("Azure DevOps Server"),
    )
    white_listed = (
        "server_url",
        "user_name",
        "api_version",
        "project",
        "area",
        "feature_mapping",
        "requirement_mapping",
    )

    def base_url(self) -> str:
        return azure_address(
            self.data.get("server_url"),
            "server_url",
            "https://tfs.example.com/tfs/DefaultCollection",
        )

    def api_version(self) -> str:
        version = str(self.data.get("api_version") or SERVER_API_VERSIONS[0]).strip()
        if version not in SERVER_API_VERSIONS:
            raise ConfigurationError(
                f"The Azure DevOps API version (api_version) must be one of "
                f"{', '.join(SERVER_API_VERSIONS)}"
            )
        return version

    def address_setting(self) -> str:
        return "server_url"
