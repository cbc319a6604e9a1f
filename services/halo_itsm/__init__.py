"""HaloITSM: tickets from features, statuses back from webhooks, and any endpoint from
the command line (``aha-services halo get /Tickets --all-pages``)."""

from services.core.cli.entity_commands import entity_group
from services.halo_itsm.client import HaloEntities
from services.halo_itsm.service import HaloItsm

cli_commands = [
    entity_group(
        "halo",
        HaloEntities.from_environment,
        publish_methods=HaloEntities.PUBLISH_METHODS,
        help_text=(
            "Any HaloITSM API entity, relative to <base_uri>/api: HALO_BASE_URI, HALO_CLIENT_ID "
            "and HALO_CLIENT_SECRET (or HALO_USERNAME and HALO_PASSWORD), HALO_SCOPES, "
            "HALO_TENANT."
        ),
    )
]

__all__ = ["HaloEntities", "HaloItsm", "cli_commands"]
