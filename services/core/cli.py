"""The ``aha-services`` command: list services, print the configuration, run one event."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from services.core.entities import AhaEntities
from services.core.entity_cli import entity_group
from services.core.errors import MissingSetting
from services.core.events import handle_event
from services.core.logger import configure_logging
from services.core.registry import default_registry

# The command line reads its Aha! account from the environment (the proxy reads user_data).
ENVIRONMENT_USER_DATA = {"AHA_DOMAIN": "aha_account_domain", "AHA_API_TOKEN": "aha_api_token"}
MISSING_SETTING_HINT = "Set AHA_DOMAIN (or AHA_API_URL) and AHA_API_TOKEN for the command line."
EXIT_MISSING_SETTING = 2


def _read_json_object(source: str | None, what: str) -> dict[str, Any]:
    """A JSON object from a file path, ``-`` for standard input, or inline JSON text."""
    if not source:
        return {}
    if source == "-":
        text = sys.stdin.read()
    elif source.lstrip()[:1] in ("{", "["):
        text = source
    else:
        path = Path(source)
        if not path.is_file():
            raise click.BadParameter(f"no such file: {source}", param_hint=what)
        text = path.read_text()
    try:
        value = json.loads(text)
    except ValueError as error:
        raise click.BadParameter(f"malformed JSON: {error}", param_hint=what) from error
    if not isinstance(value, dict):
        raise click.BadParameter("must be a JSON object", param_hint=what)
    return value


class _MainGroup(click.Group):
    """The built-in commands, and those that service modules offer as ``cli_commands``."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *default_registry().commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, cmd_name) or default_registry().commands.get(cmd_name)


@click.group(cls=_MainGroup)
def main() -> None:
    """aha-services: a plugin host for Aha! integrations."""


main.add_command(
    entity_group(
        "aha",
        AhaEntities.from_environment,
        publish_methods=AhaEntities.PUBLISH_METHODS,
        help_text="Any Aha! API entity: AHA_DOMAIN (or AHA_API_URL) and AHA_API_TOKEN.",
    )
)


@main.command("list")
def list_services() -> None:
    """List every service found, and every module that failed to load."""
    registry = default_registry()
    for service in registry:
        every = service.responds_to_event("any_event_at_all")
        events = "(every event)" if every else ", ".join(service.responds_to_events()) or "(none)"
        click.echo(f"{service.service_name:28} {service.title:28} {events}")
    for failure in registry.failures:
        click.echo(f"FAILED {failure.source}: {failure.message}", err=True)
    if registry.failures:
        sys.exit(1)


@main.command()
def configuration() -> None:
    """Print the document that GET /configuration answers."""
    click.echo(json.dumps(default_registry().configuration(), indent=2))


@main.command()
@click.argument("service_name")
@click.argument("event")
@click.option("--data", "data_source", help="The configuration: a JSON file, - or inline JSON.")
@click.option("--payload", "payload_source", help="The event body: a JSON file, - or inline JSON.")
@click.option("--meta-data", "meta_source", help="The service's kept state: a JSON file or JSON.")
def send(
    service_name: str,
    event: str,
    data_source: str | None,
    payload_source: str | None,
    meta_source: str | None,
) -> None:
    """Run EVENT on SERVICE_NAME locally and print the answer the proxy would give."""
    configure_logging()
    service_class = default_registry().get(service_name)
    if service_class is None:
        raise click.UsageError(f"unknown service: {service_name}")
    user_data = _read_json_object(data_source, "--data")
    for variable, key in ENVIRONMENT_USER_DATA.items():
        if os.environ.get(variable) and key not in user_data:
            user_data[key] = os.environ[variable]
    answer, raised = handle_event(
        service_class,
        event,
        user_data=user_data,
        payload=_read_json_object(payload_source, "--payload"),
        meta_data=_read_json_object(meta_source, "--meta-data"),
    )
    click.echo(json.dumps(answer, indent=2))
    if isinstance(raised, MissingSetting):
        click.echo(f"{answer['exception']['message']}. {MISSING_SETTING_HINT}", err=True)
        sys.exit(EXIT_MISSING_SETTING)
    if raised is not None:
        sys.exit(1)


@main.command()
@click.option("--port", type=int, envvar="PORT", default=4567, show_default=True)
@click.option("--host", envvar="HOST", default="127.0.0.1", show_default=True)
def serve(port: int, host: str) -> None:
    """Run the development proxy under gunicorn, as ``make serve`` does."""
    os.environ["PORT"], os.environ["HOST"] = str(port), host
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        "python:proxy.gunicorn_conf",
        "proxy.wsgi:app",
    ]
    os.execvp(argv[0], argv)
