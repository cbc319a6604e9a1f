"""Command-line groups for entity clients: ``aha-services aha get /api/v1/...``.

A service module builds its own group with ``entity_group`` (HaloITSM's ``halo``) and
lists it in ``cli_commands``; the main command gives it ``-v``/``-q`` and the exit codes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import click

from services.core.cli.exits import run_reporting
from services.core.cli.json_input import JSON_VALUE
from services.core.cli.progress import Progress
from services.core.entities import EntityParams, PathEntities
from services.core.redaction import Redactor


def parse_pairs(pairs: Iterable[str], option: str) -> dict[str, str]:
    """``name=value`` pairs from repeated options."""
    result: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"expected name=value, got {pair!r}", param_hint=option)
        result[name] = value
    return result


def _run(call: Callable[[], Any]) -> None:
    """Print the result as JSON; an error as redacted text, with its exit code."""
    click.echo(json.dumps(run_reporting(call, Redactor()), indent=2))


def entity_group(
    name: str,
    client_factory: Callable[[], PathEntities],
    *,
    publish_methods: Iterable[str],
    help_text: str,
) -> click.Group:
    """A group with ``get`` (subscribe) and one command per publish method."""

    @click.group(name=name, help=help_text)
    def group() -> None:
        pass

    @group.command("get")
    @click.argument("entity")
    @click.option("--path", "path_pairs", multiple=True, help="A path value: name=value.")
    @click.option("--query", "query_pairs", multiple=True, help="A query value: name=value.")
    @click.option("--all-pages", is_flag=True, help="Follow the pagination to the end.")
    @click.option("--limit", type=click.IntRange(min=1), help="At most this many records.")
    def get(
        entity: str,
        path_pairs: tuple[str, ...],
        query_pairs: tuple[str, ...],
        all_pages: bool,
        limit: int | None,
    ) -> None:
        """Read ENTITY, a path template such as /Actions/{id}."""
        params = EntityParams(
            parse_pairs(path_pairs, "--path"), parse_pairs(query_pairs, "--query")
        )
        if not (all_pages or limit is not None):
            _run(lambda: client_factory().subscribe(entity, params))
            return
        # The count ends its line before the records are printed.
        with Progress("records read") as progress:
            records = run_reporting(
                lambda: client_factory().subscribe(
                    entity, params, all_pages=all_pages, limit=limit, watch=progress.counted
                ),
                Redactor(),
            )
        click.echo(json.dumps(records, indent=2))

    for method in publish_methods:
        group.add_command(_publish_command(method, client_factory))
    return group


def _publish_command(method: str, client_factory: Callable[[], PathEntities]) -> click.Command:
    @click.command(name=method.lower(), help=f"Send ENTITY a {method.upper()} request.")
    @click.argument("entity")
    @click.option("--path", "path_pairs", multiple=True, help="A path value: name=value.")
    @click.option("--query", "query_pairs", multiple=True, help="A query value: name=value.")
    @click.option("--payload", type=JSON_VALUE, help="The JSON body: @file, - or JSON text.")
    def publish(
        entity: str, path_pairs: tuple[str, ...], query_pairs: tuple[str, ...], payload: Any
    ) -> None:
        params = EntityParams(
            parse_pairs(path_pairs, "--path"), parse_pairs(query_pairs, "--query"), payload
        )
        _run(lambda: client_factory().publish(method, entity, params))

    return publish
