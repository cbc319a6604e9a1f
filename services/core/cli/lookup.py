"""The service a command names, or the usage error that says why there is none."""

from __future__ import annotations

import click

from services.core.registry import Registry
from services.core.service import Service


def service_named(registry: Registry, service_name: str) -> type[Service]:
    """The registered service; a module that failed to load is named with its error."""
    service_class = registry.get(service_name)
    if service_class is not None:
        return service_class
    failure = registry.failure_for(service_name)
    if failure is not None:
        raise click.UsageError(f"{service_name} failed to load: {failure.message}")
    raise click.UsageError(f"unknown service: {service_name}")
