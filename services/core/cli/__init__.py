"""The ``aha-services`` command line: the main group, and the entity commands services reuse."""

from services.core.cli.app import main, run
from services.core.cli.entity_commands import entity_group

__all__ = ["entity_group", "main", "run"]
