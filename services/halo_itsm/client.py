"""Any HaloITSM endpoint as an entity: ``/Actions/{id}`` with ``{"path": {"id": "AC12"}}``.

The same subscribe and publish as the Aha! entities (``services.core.entities``),
against ``<base_uri>/api``, for the library and for ``aha-services halo ...``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from services.core.entities import EntityParams, fill_path, required_environment
from services.core.errors import ConfigurationError

if TYPE_CHECKING:
    from services.halo_itsm.api import HaloApi


class HaloEntities:
    """Subscribe (GET, following Halo's pagination) and publish (POST, DELETE)."""

    PUBLISH_METHODS = ("POST", "DELETE")

    def __init__(self, api: HaloApi):
        self.api = api

    @classmethod
    def from_environment(cls) -> HaloEntities:
        """The command line's client, from the ``HALO_*`` variables.

        Client credentials unless ``HALO_USERNAME`` is set, then the password grant.
        """
        from services.core.http import HttpClient
        from services.core.logger import EventLogger
        from services.halo_itsm.api import HaloApi
        from services.halo_itsm.auth import (
            CLIENT_CREDENTIALS,
            DEFAULT_SCOPES,
            PASSWORD,
            HaloAuth,
            HaloCredentials,
            normalize_base_uri,
        )

        base_uri = normalize_base_uri(required_environment("HALO_BASE_URI"), "HALO_BASE_URI")
        client_id = required_environment("HALO_CLIENT_ID")
        username = os.environ.get("HALO_USERNAME", "").strip()
        if username:
            password = required_environment("HALO_PASSWORD")
            secret = os.environ.get("HALO_CLIENT_SECRET", "").strip()
        else:
            password, secret = "", required_environment("HALO_CLIENT_SECRET")
        credentials = HaloCredentials(
            base_uri=base_uri,
            client_id=client_id,
            auth_type=PASSWORD if username else CLIENT_CREDENTIALS,
            client_secret=secret,
            username=username,
            password=password,
            scopes=os.environ.get("HALO_SCOPES", "").strip() or DEFAULT_SCOPES,
            tenant=os.environ.get("HALO_TENANT", "").strip(),
        )
        http = HttpClient(EventLogger("services.halo"))
        return cls(HaloApi(http, HaloAuth(credentials, http)))

    def subscribe(
        self,
        entity: str,
        params: EntityParams,
        *,
        all_pages: bool = False,
        limit: int | None = None,
    ) -> Any:
        """HaloITSM's answer as it is; with ``all_pages`` or ``limit``, the pages' records."""
        path = fill_path(entity, params.path)
        if all_pages or limit is not None:
            return list(self.api.paginate(path, params.query, limit=limit))
        return self.api.get(path, params.query)

    def publish(self, method: str, entity: str, params: EntityParams) -> Any:
        """POST or DELETE; Halo takes a list of records, so one object is sent as a list."""
        method = method.upper()
        if method not in self.PUBLISH_METHODS:
            raise ConfigurationError(
                f"Publish with {', '.join(self.PUBLISH_METHODS)}, not {method}"
            )
        path = fill_path(entity, params.path)
        body = params.payload
        if method == "POST" and isinstance(body, Mapping):
            body = [body]
        return self.api.request(method, path, params=params.query, body=body)
