"""The ``aha-services`` command line: the main group, and the entity commands services reuse.

``main`` and ``run`` are imported when first asked for: a service module that builds
its commands with ``services.core.cli.entity_commands`` (HaloITSM's ``halo``) is loaded
by every proxy worker, which needs none of the rest.
"""

from typing import Any

__all__ = ["entity_group", "main", "run"]


def __getattr__(name: str) -> Any:
    if name in ("main", "run"):
        from services.core.cli import app

        return getattr(app, name)
    if name == "entity_group":
        from services.core.cli.entity_commands import entity_group

        return entity_group
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
