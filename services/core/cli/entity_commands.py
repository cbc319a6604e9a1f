"""Command-line groups for entity clients: ``aha-services aha get /api/v1/...``."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click

from services.core.entities import EntityParams, PathEntities
from services.core.errors import AhaServiceError, ConfigurationError, MissingSetting
from services.core.logger import configure_logging
from services.core.redaction import Redactor

EXIT_FAILED = 1
EXIT_MISSING_SETTING = 2


def parse_pairs(pairs: Iterable[str], option: str) -> dict[str, str]:
    """``name=value`` pairs from repeated options."""
    result: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"expected name=value, got {pair!r}", param_hint=option)
        result[name] = value
    return result


def read_json(source: str | None, option: str) -> Any:
    """JSON from ``@file``, ``-`` (standard input) or the text itself."""
    if source is None:
        return None
    if source == "-":
        text = sys.stdin.read()
    elif source.startswith("@"):
        path = Path(source[1:])
        if not path.is_file():
            raise click.BadParameter(f"no such file: {path}", param_hint=option)
        text = path.read_text()
    else:
        text = source
    try:
        return json.loads(text)
    except ValueError as error:
        raise click.BadParameter(f"malformed JSON: {error}", param_hint=option) from error


def _run(call: Callable[[], Any]) -> None:
    """Print the result as JSON; errors as text, redacted, with the exit code they call for."""
    redact = Redactor()
    try:
        result = call()
    except MissingSetting as error:
        click.echo(f"Error: {redact(error)}", err=True)
        sys.exit(EXIT_MISSING_SETTING)
    except ConfigurationError as error:
        raise click.UsageError(redact(error)) from error
    except AhaServiceError as error:
        click.echo(f"Error: {redact(error)}", err=True)
        sys.exit(EXIT_FAILED)
    click.echo(json.dumps(result, indent=2))


def entity_group(
    name: str,
    client_factory: Callable[[], PathEntities],
    *,
    publish_methods: Iterable[str],
    help_text: str,
) -> click.Group:
    """A group with ``get`` (subscribe) and one command per publish method."""

    @click.group(name=name, help=help_text)
    @click.option("-v", "--verbose", is_flag=True, help="Log every request on stderr.")
    def group(verbose: bool) -> None:
        configure_logging(10 if verbose else 30)

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
        _run(lambda: client_factory().subscribe(entity, params, all_pages=all_pages, limit=limit))

    for method in publish_methods:
        group.add_command(_publish_command(method, client_factory))
    return group


def _publish_command(method: str, client_factory: Callable[[], PathEntities]) -> click.Command:
    @click.command(name=method.lower(), help=f"Send ENTITY a {method.upper()} request.")
    @click.argument("entity")
    @click.option("--path", "path_pairs", multiple=True, help="A path value: name=value.")
    @click.option("--query", "query_pairs", multiple=True, help="A query value: name=value.")
    @click.option("--payload", help="The JSON body: @file, - or the JSON itself.")
    def publish(
        entity: str, path_pairs: tuple[str, ...], query_pairs: tuple[str, ...], payload: str | None
    ) -> None:
        params = EntityParams(
            parse_pairs(path_pairs, "--path"),
            parse_pairs(query_pairs, "--query"),
            read_json(payload, "--payload"),
        )
        _run(lambda: client_factory().publish(method, entity, params))

    return publish
