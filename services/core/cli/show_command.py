"""``aha-services show SERVICE``: the settings table of a service, rendered from its schema.

The same Markdown table that ``docs/<service>.md`` carries under ``## Settings``, so a
contributor can paste it into a new doc and keep an old one in step.
"""

from __future__ import annotations

import click

from services.core.docs import settings_table
from services.core.registry import default_registry


@click.command("show")
@click.argument("service_name")
def show(service_name: str) -> None:
    """Print the settings table of SERVICE_NAME (Markdown), as its doc shows it."""
    registry = default_registry()
    service_class = registry.get(service_name)
    if service_class is None:
        failure = registry.failure_for(service_name)
        if failure is not None:
            raise click.UsageError(f"{service_name} failed to load: {failure.message}")
        raise click.UsageError(f"unknown service: {service_name}")
    click.echo(settings_table(service_class), nl=False)
