"""What the console's pages show, computed from the registry, the docs and the event log."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.core.docs import SettingRow, setting_rows
from services.core.service import Service


@dataclass(frozen=True)
class ServiceView:
    """One service as the services page lists it."""

    name: str
    title: str
    events: str
    settings: list[SettingRow]
    doc_html: str


def render_markdown(text: str) -> str:
    """A doc as HTML; raw HTML inside it is escaped, not passed through."""
    import mistune

    markdown = mistune.create_markdown(escape=True, plugins=["table"])
    return str(markdown(text))


def service_view(service: type[Service], root: Path) -> ServiceView:
    every = service.responds_to_event("any_event_at_all")
    events = "every event" if every else ", ".join(service.responds_to_events()) or "none"
    doc = root / "docs" / f"{service.service_name}.md"
    doc_html = render_markdown(doc.read_text()) if doc.exists() else ""
    return ServiceView(service.service_name, service.title, events, setting_rows(service), doc_html)


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str)


def meta_data_diff(before: Any, after: Any) -> list[str]:
    """``meta_data`` before and after the event, as unified diff lines (empty: unchanged)."""
    lines = difflib.unified_diff(
        pretty(before or {}).splitlines(),
        pretty(after or {}).splitlines(),
        "before",
        "after",
        lineterm="",
    )
    return list(lines)


def fixture_names(root: Path) -> list[str]:
    """The JSON fixtures under ``spec/fixtures/`` a contributor can send, relative paths."""
    folder = root / "spec" / "fixtures"
    if not folder.is_dir():
        return []
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*.json"))


def fixture_path(root: Path, name: str) -> Path | None:
    """The fixture ``name`` names, only when it lies inside ``spec/fixtures/``."""
    folder = (root / "spec" / "fixtures").resolve()
    path = (folder / name).resolve()
    return path if path.is_relative_to(folder) and path.is_file() else None
