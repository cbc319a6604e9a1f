"""``aha-services events`` and ``aha-services replay``: the event log from the command line.

The log holds what the proxy answered, secrets already filtered. A replay runs a
recorded event again with the code as it is now and records the result as a new
entry linked to the first; ``[FILTERED]`` values in its ``user_data`` are filled from
the environment where the command line reads them (``AHA_API_TOKEN``).
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime
from typing import Any

import click

from services.core import event_log
from services.core.cli import exits
from services.core.cli.json_input import JSON_OBJECT
from services.core.logger import escape_controls
from services.core.recording import run_recorded
from services.core.redaction import FILTERED
from services.core.registry import default_registry

# What a [FILTERED] value is filled with on a replay.
ENVIRONMENT_SECRETS = {"aha_api_token": "AHA_API_TOKEN"}
FOLLOW_INTERVAL = 0.5
RECORDED = "Recorded as event {id}"


def open_log() -> event_log.EventLog:
    """This process's event log; a usage error when it is switched off."""
    try:
        log = event_log.current()
    except event_log.SettingError as error:
        raise click.UsageError(str(error)) from None
    if log is None:
        raise click.UsageError(f"The event log is off ({event_log.EVENT_LOG_SETTING}=0)")
    return log


def summary_line(entry: dict[str, Any]) -> str:
    """One entry on one line: id, time, service, event, outcome, duration. The names come
    from whoever reached the proxy: their control characters are written as escapes, so
    that they neither break the line nor drive the terminal."""
    at = datetime.fromtimestamp(entry["at"]).strftime("%Y-%m-%d %H:%M:%S")
    service, event, outcome = (
        escape_controls(str(entry[key])) for key in ("service", "event", "outcome")
    )
    line = (
        f"{entry['id']:>6}  {at}  {service:24} {event:22} "
        f"{outcome:24} {entry['duration'] * 1000:8.1f} ms"
    )
    if entry.get("replay_of"):
        line += f"  (replay of {entry['replay_of']})"
    return line


@click.group("events", invoke_without_command=True)
@click.option("--follow", "-f", is_flag=True, help="Keep printing events as they arrive.")
@click.option("--limit", "-n", default=50, show_default=True, help="How many to print.")
@click.pass_context
def events(ctx: click.Context, follow: bool, limit: int) -> None:
    """Print the recorded events, oldest first, one line each."""
    if ctx.invoked_subcommand is not None:
        return
    log = open_log()
    entries = list(reversed(log.recent(limit)))
    for entry in entries:
        click.echo(summary_line(entry))
    last = entries[-1]["id"] if entries else 0
    while follow:
        time.sleep(FOLLOW_INTERVAL)
        for entry in reversed(log.recent(limit, after=last)):
            click.echo(summary_line(entry))
            last = entry["id"]


@events.command("show")
@click.argument("entry_id", type=int)
def show_event(entry_id: int) -> None:
    """Print one recorded event whole (JSON): request, answer, outbound requests."""
    entry = open_log().get(entry_id)
    if entry is None:
        raise click.UsageError(f"no event {entry_id} in the log")
    click.echo(json.dumps(entry, indent=2))


def _filled(user_data: dict[str, Any]) -> dict[str, Any]:
    filled = dict(user_data)
    for key, variable in ENVIRONMENT_SECRETS.items():
        if filled.get(key) == FILTERED and os.environ.get(variable):
            filled[key] = os.environ[variable]
    return filled


@click.command("replay")
@click.argument("entry_id", type=int)
@click.option("--payload", type=JSON_OBJECT, help="A new payload: @file, - or JSON text.")
@click.option("--user-data", "user_data", type=JSON_OBJECT, help="New user_data: @file, -, JSON.")
@click.option("--meta-data", "meta_data", type=JSON_OBJECT, help="New meta_data: @file, -, JSON.")
@click.option(
    "--request",
    "whole",
    type=JSON_OBJECT,
    help="Any of user_data, payload and meta_data in one object: @file, - or JSON text.",
)
def replay(
    entry_id: int,
    payload: dict[str, Any] | None,
    user_data: dict[str, Any] | None,
    meta_data: dict[str, Any] | None,
    whole: dict[str, Any] | None,
) -> None:
    """Run recorded event ENTRY_ID again with the code as it is now, and record the result.

    The answer is printed; the new entry's id goes to standard error. Exits 1 when the
    service raised.
    """
    log = open_log()
    entry = log.get(entry_id)
    if entry is None:
        raise click.UsageError(f"no event {entry_id} in the log")
    if entry["kind"] != "send_event":
        raise click.UsageError(f"event {entry_id} is a {entry['kind']}, which is not replayed")
    request = {**entry["detail"]["request"], **(whole or {})}
    given = {"payload": payload, "user_data": user_data, "meta_data": meta_data}
    request.update({name: value for name, value in given.items() if value is not None})
    service_class = default_registry().get(entry["service"])
    if service_class is None:
        raise click.UsageError(f"unknown service: {entry['service']}")
    answer, record = run_recorded(
        service_class,
        entry["event"],
        user_data=_filled(request.get("user_data") or {}),
        payload=request.get("payload") or {},
        meta_data=request.get("meta_data") or {},
        service_name=entry["detail"].get("service_name_as"),
        log=log,
        replay_of=entry_id,
    )
    click.echo(json.dumps(answer, indent=2))
    if record is not None:
        new_id = log.write_now(record)
        click.echo(RECORDED.format(id=new_id) + f", a replay of {entry_id}", err=True)
    if "exception" in answer:
        sys.exit(exits.FAILED)
