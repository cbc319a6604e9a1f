"""The ``aha-services`` command: list services, print the configuration, run one event.

Exit codes (see ``services.core.cli.exits``): 0 ok, 1 the service raised, 2 a usage
error or a missing setting, 3 a network or remote failure.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from services.core.cli import exits
from services.core.cli.aha_commands import aha_group
from services.core.cli.event_commands import RECORDED, events, open_log, replay
from services.core.cli.gunicorn import exec_gunicorn
from services.core.cli.json_input import JSON_OBJECT
from services.core.cli.lookup import service_named
from services.core.cli.new_command import new
from services.core.cli.plugins import plugin_commands
from services.core.cli.show_command import show
from services.core.cli.verbosity import reset_level, with_verbosity
from services.core.errors import MissingSetting
from services.core.events import handle_event
from services.core.recording import run_recorded
from services.core.registry import Registry, default_registry

# The command line reads its Aha! account from the environment (the proxy reads user_data).
ENVIRONMENT_USER_DATA = {"AHA_DOMAIN": "aha_account_domain", "AHA_API_TOKEN": "aha_api_token"}
# What to set when an event misses the user_data key that the environment fills.
SETTING_HINTS = {
    "aha_account_domain": "AHA_DOMAIN (or AHA_API_URL)",
    "aha_api_token": "AHA_API_TOKEN",
}
DOTENV_FILE = ".env"


class _MainGroup(click.Group):
    """The built-in commands, those that service modules offer as ``cli_commands``, and
    those other packages offer through entry points (the host's); every one of them
    takes ``-v`` and ``-q``."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        offered = {*default_registry().commands, *plugin_commands()}
        return sorted({*super().list_commands(ctx), *offered})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = (
            super().get_command(ctx, cmd_name)
            or default_registry().commands.get(cmd_name)
            or plugin_commands().get(cmd_name)
        )
        return with_verbosity(command) if command is not None else None

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        reset_level()
        return super().parse_args(ctx, args)


@click.group(cls=_MainGroup)
@click.version_option(package_name="aha-services", prog_name="aha-services")
def main() -> None:
    """aha-services: a plugin host for Aha! integrations.

    \b
    Exit codes: 0 ok; 1 the service raised (the event failed); 2 a usage error or
    a missing setting; 3 a network or remote failure.
    """


with_verbosity(main)
main.add_command(aha_group)
main.add_command(show)
main.add_command(events)
main.add_command(replay)
main.add_command(new)


def run() -> None:
    """The console script: read ``.env`` from the current directory, then run ``main``.

    As ``make serve`` does (honcho reads the same file), variables already set in the
    environment win over the file's.
    """
    from dotenv import load_dotenv

    load_dotenv(Path.cwd() / DOTENV_FILE, override=False)
    main()


def _report_load_failures(registry: Registry) -> None:
    for failure in registry.failures:
        click.echo(f"FAILED {failure.source}: {failure.message}", err=True)


@main.command("list")
def list_services() -> None:
    """List every service found; modules that failed to load on standard error (exit 1)."""
    registry = default_registry()
    for service in registry:
        every = service.responds_to_event("any_event_at_all")
        events = "(every event)" if every else ", ".join(service.responds_to_events()) or "(none)"
        click.echo(f"{service.service_name:28} {service.title:28} {events}")
    _report_load_failures(registry)
    if registry.failures:
        sys.exit(exits.FAILED)


@main.command()
def configuration() -> None:
    """Print the document that GET /configuration answers; load failures on standard
    error (exit 1)."""
    registry = default_registry()
    click.echo(json.dumps(registry.configuration(), indent=2))
    _report_load_failures(registry)
    if registry.failures:
        sys.exit(exits.FAILED)


def _missing_setting_hint(message: str) -> str:
    """``Set ...`` for the user_data keys the message names that the environment fills."""
    names = [variable for key, variable in SETTING_HINTS.items() if key in message]
    return f" Set {' and '.join(names)} for the command line." if names else ""


@main.command()
@click.argument("service_name")
@click.argument("event")
@click.option("--data", type=JSON_OBJECT, help="The configuration: @file, - or JSON text.")
@click.option("--payload", type=JSON_OBJECT, help="The event body: @file, - or JSON text.")
@click.option(
    "--meta-data", "meta_data", type=JSON_OBJECT, help="The kept state: @file, - or JSON text."
)
@click.option("--record", is_flag=True, help="Record the run in the event log, as the proxy does.")
def send(
    service_name: str,
    event: str,
    data: dict[str, Any] | None,
    payload: dict[str, Any] | None,
    meta_data: dict[str, Any] | None,
    record: bool,
) -> None:
    """Run EVENT on SERVICE_NAME locally and print the answer the proxy would give.

    Exits 1 when the service raised, 2 when a setting it needs is missing.
    """
    log = open_log() if record else None
    service_class = service_named(default_registry(), service_name)
    user_data = dict(data or {})
    for variable, key in ENVIRONMENT_USER_DATA.items():
        if os.environ.get(variable) and key not in user_data:
            user_data[key] = os.environ[variable]
    if log is not None:
        answer, entry = run_recorded(
            service_class,
            event,
            user_data=user_data,
            payload=payload or {},
            meta_data=meta_data or {},
            log=log,
        )
        raised = None
        click.echo(json.dumps(answer, indent=2))
        if entry is not None:
            click.echo(RECORDED.format(id=log.write_now(entry)), err=True)
    else:
        answer, raised = handle_event(
            service_class, event, user_data=user_data, payload=payload, meta_data=meta_data
        )
        click.echo(json.dumps(answer, indent=2))
    if isinstance(raised, MissingSetting):
        message = answer["exception"]["message"]
        click.echo(f"Error: {message}.{_missing_setting_hint(message)}", err=True)
        sys.exit(exits.USAGE)
    if raised is not None or "exception" in answer:  # meta_data it could not send, too
        sys.exit(exits.FAILED)


@main.command()
@click.option("--port", type=int, envvar="PORT", default=4567, show_default=True)
@click.option("--host", envvar="HOST", default="127.0.0.1", show_default=True)
def serve(port: int, host: str) -> None:
    """Run the development proxy under gunicorn, as ``make serve`` does."""
    exec_gunicorn("proxy.gunicorn_conf", "proxy.wsgi:app", port, host)
