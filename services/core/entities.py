"""Generic entities: any endpoint of an API, named by a path template.

``/api/v1/goals/{goal_id}/comments`` with ``{"path": {"goal_id": 7}}`` reads the
comments of goal 7. *Subscribe* reads an entity (following pagination when
asked); *publish* writes one. The Aha! API is one such client; a service module
can offer others (HaloITSM's) with the same parameters and the same CLI.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import quote

from services.core.errors import ConfigurationError, MissingSetting

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def fill_path(template: str, path: Mapping[str, Any]) -> str:
    """The template with each ``{name}`` replaced by its URL-encoded value."""
    names = _PLACEHOLDER.findall(template)
    missing = [name for name in dict.fromkeys(names) if path.get(name) in (None, "")]
    if missing:
        raise ConfigurationError(
            f"Missing path parameter{'s' if len(missing) > 1 else ''} for {template}: "
            + ", ".join(missing)
        )
    return _PLACEHOLDER.sub(lambda m: quote(str(path[m.group(1)]), safe=""), template)


_PAGE_NUMBER = re.compile(r"[0-9]{1,9}")


def page_numbers(query: Mapping[str, Any], names: Iterable[str]) -> dict[str, int]:
    """The paging values among ``names`` in ``query``, as whole numbers from 1; any other
    value is a ConfigurationError naming it, before a request is sent."""
    numbers: dict[str, int] = {}
    for name in names:
        if name not in query:
            continue
        text = str(query[name]).strip()
        if not _PAGE_NUMBER.fullmatch(text) or int(text) < 1:
            raise ConfigurationError(
                f"The query value {name} must be a whole number from 1, not {query[name]!r}"
            )
        numbers[name] = int(text)
    return numbers


@dataclass(frozen=True)
class EntityParams:
    """The parameters of one entity request: path values, query string, body."""

    path: Mapping[str, Any] = field(default_factory=dict)
    query: Mapping[str, Any] = field(default_factory=dict)
    payload: Any = None

    @classmethod
    def from_mapping(cls, value: Mapping[str, Any] | None) -> EntityParams:
        """From ``{"path": {...}, "query": {...}, "payload": ...}``, each part optional."""
        value = value or {}
        unknown = set(value) - {"path", "query", "payload"}
        if unknown:
            raise ConfigurationError(
                f"Unknown request parameter parts: {', '.join(sorted(unknown))} "
                "(expected path, query and payload)"
            )
        for part in ("path", "query"):
            if not isinstance(value.get(part) or {}, Mapping):
                raise ConfigurationError(f"The {part} parameters must be an object")
        return cls(
            dict(value.get("path") or {}), dict(value.get("query") or {}), value.get("payload")
        )


def required_environment(name: str) -> str:
    """The variable's value; a MissingSetting naming it when it is unset or blank."""
    value = os.environ.get(name, "").strip()
    if not value:
        raise MissingSetting(f"{name} is not set")
    return value


class PathEntities:
    """Subscribe and publish by path template; a subclass says how its API reads and writes."""

    PUBLISH_METHODS: ClassVar[tuple[str, ...]] = ()
    # Query values that the paging reads as whole numbers (page size, first page).
    PAGE_PARAMETERS: ClassVar[tuple[str, ...]] = ()

    def __init__(self, api: Any):
        self.api = api

    def subscribe(
        self,
        entity: str,
        params: EntityParams,
        *,
        all_pages: bool = False,
        limit: int | None = None,
        watch: Callable[[Iterable[Any]], Iterable[Any]] | None = None,
    ) -> Any:
        """The API's answer as it is; with ``all_pages`` or ``limit``, the pages' records,
        passed through ``watch`` as they are read (the command line counts them)."""
        path = fill_path(entity, params.path)
        if all_pages or limit is not None:
            query = {**params.query, **page_numbers(params.query, self.PAGE_PARAMETERS)}
            records = self.read_all(path, query, limit)
            return list(watch(records) if watch else records)
        return self.read_one(path, params.query)

    def publish(self, method: str, entity: str, params: EntityParams) -> Any:
        method = method.upper()
        if method not in self.PUBLISH_METHODS:
            raise ConfigurationError(
                f"Publish with {', '.join(self.PUBLISH_METHODS)}, not {method}"
            )
        return self.send(method, fill_path(entity, params.path), params.query, params.payload)

    def read_one(self, path: str, query: Mapping[str, Any]) -> Any:
        raise NotImplementedError

    def read_all(self, path: str, query: Mapping[str, Any], limit: int | None) -> Iterable[Any]:
        raise NotImplementedError

    def send(self, method: str, path: str, query: Mapping[str, Any], payload: Any) -> Any:
        raise NotImplementedError


class AhaEntities(PathEntities):
    """Any Aha! API path."""

    PUBLISH_METHODS = ("POST", "PUT", "DELETE")
    PAGE_PARAMETERS = ("page", "per_page")

    @classmethod
    def from_environment(cls, token: str | None = None) -> AhaEntities:
        """The command line's client: AHA_API_URL or AHA_DOMAIN, and ``token`` or
        AHA_API_TOKEN."""
        from services.core.aha_api import API_URL_VARIABLE, AhaApi
        from services.core.http import HttpClient
        from services.core.logger import EventLogger

        domain = None if os.environ.get(API_URL_VARIABLE) else required_environment("AHA_DOMAIN")
        token = token or required_environment("AHA_API_TOKEN")
        return cls(AhaApi(HttpClient(EventLogger("services.aha")), domain=domain, token=token))

    def read_one(self, path: str, query: Mapping[str, Any]) -> Any:
        return self.api.get(path, **query).to_dict()

    def read_all(self, path: str, query: Mapping[str, Any], limit: int | None) -> Iterable[Any]:
        return (record.to_dict() for record in self.api.paginate(path, limit=limit, **query))

    def send(self, method: str, path: str, query: Mapping[str, Any], payload: Any) -> Any:
        return self.api.request(method, path, params=query, body=payload).to_dict()
