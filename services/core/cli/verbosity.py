"""``-v``/``--verbose`` and ``-q``/``--quiet`` on every command, in one place.

Log lines go to standard error, so that standard output stays the command's JSON.
By default warnings and errors are printed; ``-v`` adds every request and every
message a service logs; ``-q`` prints nothing but fatal lines (the command's own
``Error: ...`` line and its exit code still say what went wrong).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import click

from services.core.logger import configure_logging

DEFAULT_LEVEL = logging.WARNING
VERBOSE_LEVEL = logging.DEBUG
QUIET_LEVEL = logging.CRITICAL

_MARK = "_aha_services_verbosity"


def _setter(level: int) -> Callable[[click.Context, click.Parameter, bool], None]:
    def set_level(ctx: click.Context, param: click.Parameter, value: bool) -> None:
        if value and not ctx.resilient_parsing:
            configure_logging(level)

    return set_level


def _options() -> list[click.Option]:
    return [
        click.Option(
            ["-v", "--verbose"],
            is_flag=True,
            expose_value=False,
            callback=_setter(VERBOSE_LEVEL),
            help="Log every request and every message on standard error.",
        ),
        click.Option(
            ["-q", "--quiet"],
            is_flag=True,
            expose_value=False,
            callback=_setter(QUIET_LEVEL),
            help="Log nothing but fatal errors.",
        ),
    ]


def with_verbosity(command: click.Command) -> click.Command:
    """Give ``command``, and every command under it, ``-v`` and ``-q`` (once)."""
    if not getattr(command, _MARK, False):
        taken = {opt for param in command.params for opt in getattr(param, "opts", ())}
        if not taken & {"-v", "--verbose", "-q", "--quiet"}:
            command.params.extend(_options())
        setattr(command, _MARK, True)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            with_verbosity(sub)
    return command


def reset_level() -> None:
    """Back to the default level, before the options of a new command line are read."""
    configure_logging(DEFAULT_LEVEL)
