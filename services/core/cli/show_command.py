"""``aha-services show SERVICE``: title, events, doc path and the settings table of a service.

The same Markdown table that ``docs/<service>.md`` carries under ``## Settings``, so a
contributor can paste it into a new doc and keep an old one in step.
"""

from __future__ import annotations

from pathlib import Path

import click

from services.core.cli.lookup import service_named
from services.core.cli.new_command import project_root
from services.core.docs import settings_table
from services.core.registry import default_registry


@click.command("show")
@click.argument("service_name")
def show(service_name: str) -> None:
    """Print SERVICE_NAME's title, events and doc path, and its settings table (Markdown)
    as its doc shows it."""
    service_class = service_named(default_registry(), service_name)
    every = service_class.responds_to_event("any_event_at_all")
    events = "every event" if every else ", ".join(service_class.responds_to_events()) or "none"
    doc = project_root() / "docs" / f"{service_class.service_name}.md"
    shown = doc.relative_to(Path.cwd()) if doc.is_relative_to(Path.cwd()) else doc
    click.echo(f"# {service_class.title} ({service_class.service_name})\n")
    click.echo(f"Events: {events}")
    click.echo(f"Doc: {shown}{'' if doc.exists() else ' (missing)'}\n")
    click.echo(settings_table(service_class), nl=False)
