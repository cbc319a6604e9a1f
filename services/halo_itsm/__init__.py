"""HaloITSM: tickets from features, statuses back from webhooks, and any endpoint from
the command line (``aha-services halo get /Tickets --all-pages``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.halo_itsm.client import HaloEntities
from services.halo_itsm.service import HaloItsm

if TYPE_CHECKING:
    import click


def cli_commands() -> list[click.Command]:
    """``aha-services halo ...``, built when the command line asks for it."""
    from services.core.cli.entity_commands import entity_group

    return [
        entity_group(
            "halo",
            HaloEntities.from_environment,
            publish_methods=HaloEntities.PUBLISH_METHODS,
            help_text=(
                "Any HaloITSM API entity, relative to <base_uri>/api: HALO_BASE_URI, "
                "HALO_CLIENT_ID and HALO_CLIENT_SECRET (or HALO_USERNAME and HALO_PASSWORD), "
                "HALO_SCOPES, HALO_TENANT."
            ),
        )
    ]


__all__ = ["HaloEntities", "HaloItsm", "cli_commands"]
