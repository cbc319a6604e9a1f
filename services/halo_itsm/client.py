"""Any HaloITSM endpoint as an entity: ``/Actions/{id}`` with ``{"path": {"id": "AC12"}}``.

The same subscribe and publish as the Aha! entities (``services.core.entities``),
against ``<base_uri>/api``, for the library and for ``aha-services halo ...``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from services.core.entities import PathEntities, required_environment

if TYPE_CHECKING:
    from services.halo_itsm.api import HaloApi


class HaloEntities(PathEntities):
    """Subscribe (GET, following Halo's pagination) and publish (POST, PUT, DELETE)."""

    PUBLISH_METHODS = ("POST", "PUT", "DELETE")
    PAGE_PARAMETERS = ("page_size", "page_no")
    api: HaloApi

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
        http = HttpClient(EventLogger("services.halo"), remote_name="HaloITSM")
        return cls(HaloApi(http, HaloAuth(credentials, http)))

    def read_one(self, path: str, query: Mapping[str, Any]) -> Any:
        return self.api.get(path, query)

    def read_all(self, path: str, query: Mapping[str, Any], limit: int | None) -> Iterable[Any]:
        return self.api.paginate(path, query, limit=limit)

    def send(self, method: str, path: str, query: Mapping[str, Any], payload: Any) -> Any:
        """Halo takes a list of records, so one object is POSTed as a list of one."""
        if method == "POST" and isinstance(payload, Mapping):
            payload = [payload]
        return self.api.request(method, path, params=query, body=payload)
