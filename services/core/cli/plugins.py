"""Commands that other packages offer the command line through the ``aha_services.cli``
entry points: the integration host's ``host``, ``worker``, ``jobs`` and ``config``, or a
plugin's own. The framework names no such package; installing one adds its commands.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

import click

ENTRY_POINT_GROUP = "aha_services.cli"


@cache
def plugin_commands() -> dict[str, click.Command]:
    """Each entry point names a click command or a sequence of them; one that fails to load
    is reported on standard error and the others are offered."""
    found: dict[str, click.Command] = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = point.load()
        except Exception as error:
            click.echo(f"aha-services: commands of {point.value} failed to load: {error}", err=True)
            continue
        for command in loaded if isinstance(loaded, list | tuple) else [loaded]:
            if isinstance(command, click.Command) and command.name:
                found[command.name] = command
    return found
