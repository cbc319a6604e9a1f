"""The mixed events of the memory run: every service, every event kind it handles.

Settings are made from each service's own schema (URL-like settings point at the
fake third party), payloads come from ``spec/fixtures/``: the service's own
``<event>_event.json`` first, then the shared one; a ``webhook`` cycles through the
service's other fixtures (pushes, tracker webhooks) and the shared webhook body.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from services.core.registry import load_registry
from services.core.schema import Field, is_url_like
from services.core.service import Service
from services.core.testing import handled_events

FIXTURES = Path(__file__).resolve().parent.parent / "spec" / "fixtures"


def _setting(entry: Field, base_url: str) -> Any:
    if entry.type == "boolean":
        return True
    if entry.type == "select":
        collection = entry.options.get("collection")
        if isinstance(collection, list | tuple) and collection:
            first = collection[0]
            return first[-1] if isinstance(first, list | tuple) else first
        return "1"
    if is_url_like(entry.name):
        return f"{base_url}/{entry.name}"
    return f"bench-{entry.name}"


def user_data(service: type[Service], base_url: str) -> dict[str, Any]:
    data = {entry.name: _setting(entry, base_url) for entry in service.schema}
    data.update(
        aha_account_domain="bench",
        aha_api_url_base=f"{base_url}/api/v1",
        aha_api_token="bench-aha-token-0123456789",
        integration_id=4242,
    )
    return data


def _json(path: Path) -> Any:
    return json.loads(path.read_text())


def payloads(service: type[Service], event: str) -> list[dict[str, Any]]:
    own = FIXTURES / service.service_name
    for path in (own / f"{event}_event.json", FIXTURES / f"{event}_event.json"):
        if path.is_file() and event != "webhook":
            return [_json(path)]
    if event == "webhook":
        bodies = (
            [
                _json(path)
                for path in sorted(own.glob("*.json"))
                if not path.name.endswith("_event.json") or "webhook" in path.name
            ]
            if own.is_dir()
            else []
        )
        return [body for body in bodies if isinstance(body, dict)] + [
            _json(FIXTURES / "webhook_event.json")
        ]
    return [{}]


def mixed_events(base_url: str) -> list[dict[str, Any]]:
    """One ``/send_event`` body for each (service, event, payload)."""
    bodies: list[dict[str, Any]] = []
    for service in load_registry(use_entry_points=False):
        data = user_data(service, base_url)
        for event in handled_events(service):
            bodies.extend(
                {
                    "service_name": service.service_name,
                    "event": event,
                    "user_data": data,
                    "payload": payload,
                    "meta_data": {},
                }
                for payload in payloads(service, event)
            )
    return bodies
