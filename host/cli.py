"""``aha-services host``, ``worker``, ``jobs ...`` and ``config check``: the integration host.

The command line finds these through the ``aha_services.cli`` entry points, so that the
framework never imports the host. The host's other modules are imported when a command
runs, so the rest of the command line loads no more than before.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NoReturn

import click

from services.core.cli import exits
from services.core.cli.gunicorn import exec_gunicorn
from services.core.cli.progress import Progress

if TYPE_CHECKING:
    from host.config import HostConfig
    from host.engine import Engine

_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _usage_error(error: Exception) -> NoReturn:
    """``Error: ...`` on standard error, and the exit code of a setting or a store that
    is wrong or unavailable."""
    click.echo(f"Error: {error}", err=True)
    sys.exit(exits.USAGE)


def _config() -> HostConfig:
    from host.config import ConfigError, load_config

    try:
        return load_config()
    except ConfigError as error:
        _usage_error(error)


def _engine() -> Engine:
    from host.config import ConfigError
    from host.engine import build_engine
    from host.state import StoreUnavailable

    try:
        return build_engine()
    except (ConfigError, StoreUnavailable) as error:
        _usage_error(error)


class _StoreCommands(click.Group):
    """Commands that read and write the store: one that is locked, read-only or gone
    ends them with its error, as when it cannot be opened, not with a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        from host.state import StoreUnavailable

        try:
            return super().invoke(ctx)
        except StoreUnavailable as error:
            _usage_error(error)


@click.command("host")
@click.option("--port", type=int, envvar="PORT", default=4580, show_default=True)
@click.option("--host", "address", envvar="HOST", default="127.0.0.1", show_default=True)
def host_command(port: int, address: str) -> None:
    """Run the intake (the webhooks' endpoints) under gunicorn."""
    _config()
    _engine()
    exec_gunicorn("host.gunicorn_conf", "host.wsgi:app", port, address)


@click.command("worker")
@click.option(
    "--threads",
    type=click.IntRange(1, 256),
    default=4,
    show_default=True,
    help="Integrations run at once.",
)
def worker_command(threads: int) -> None:
    """Run stored jobs until stopped."""
    import logging

    from host.state import StoreUnavailable
    from host.worker import run_worker

    # The command line gave the services' loggers a handler of their own (``-v``, ``-q``):
    # their lines are not printed a second time by the one below, and ``-q`` quiets the
    # worker's and the queue's own lines as well.
    services = logging.getLogger("services")
    services.propagate = False
    quiet = services.level >= logging.CRITICAL
    level = logging.CRITICAL if quiet else logging.INFO
    logging.basicConfig(level=level, format="%(asctime)s %(name)s %(message)s")
    # The queue's own lines (its settings at start, each task it runs and how long that
    # took) only with ``-v``; by default its warnings and errors, as the services'.
    default = logging.DEBUG < services.level < logging.CRITICAL
    logging.getLogger("huey").setLevel(logging.WARNING if default else logging.NOTSET)
    try:
        run_worker(_config(), _engine(), threads)
    except StoreUnavailable as error:  # at start, looking for the jobs to run again
        _usage_error(error)


@click.group("jobs", cls=_StoreCommands)
def jobs_group() -> None:
    """Inspect, retry and purge the host's jobs."""


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@jobs_group.command("list")
@click.option(
    "--state", type=click.Choice(["queued", "running", "retrying", "delivered", "failed"])
)
@click.option("--integration")
@click.option("--limit", type=click.IntRange(1, 10000), default=50, show_default=True)
def jobs_list(state: str | None, integration: str | None, limit: int) -> None:
    """The newest jobs first."""
    for job in _engine().store.jobs(state=state, integration=integration, limit=limit):
        click.echo(
            f"{job.id}  {_when(job.received_at)}  {job.state:9}  "
            f"{len(job.attempts):2} attempt(s)  {job.integration}  {job.event}"
        )


@jobs_group.command("show")
@click.argument("job_id")
def jobs_show(job_id: str) -> None:
    """One job: its attempts, messages and payload, secrets redacted."""
    from services.core.redaction import Redactor

    job = _engine().store.get(job_id)
    if job is None:
        click.echo(f"Error: no job {job_id}", err=True)
        sys.exit(exits.USAGE)
    record: dict[str, Any] = job.to_view()
    record["received"] = _when(job.received_at)
    redactor = Redactor(_config().secrets())
    click.echo(redactor(json.dumps(record, indent=2)))


@jobs_group.command("retry")
@click.argument("job_id", required=False)
@click.option("--all-failed", is_flag=True, help="Every failed job.")
def jobs_retry(job_id: str | None, all_failed: bool) -> None:
    """Queue a failed job again (or every failed job), with a fresh count of attempts."""
    from host.job_source import requeue
    from host.jobs import FAILED

    if bool(job_id) == all_failed:
        raise click.UsageError("give a job ID or --all-failed")
    engine = _engine()
    if all_failed:
        jobs = engine.store.jobs(state=FAILED, limit=1_000_000)
    else:
        job = engine.store.get(str(job_id))
        if job is None:
            raise click.UsageError(f"no job {job_id}")
        jobs = [job]
    with Progress("jobs queued again", total=len(jobs)) as progress:
        count = requeue(engine, progress.counted(jobs))
    click.echo(f"{count} job(s) queued again")


def _duration(text: str) -> float:
    match = _DURATION.fullmatch(text.strip())
    if not match:
        raise click.BadParameter("a duration such as 30d, 12h, 45m or 90s")
    return float(match.group(1)) * _UNIT[match.group(2)]


@jobs_group.command("purge")
@click.option("--older-than", "older_than", required=True, help="30d, 12h, 45m or 90s.")
def jobs_purge(older_than: str) -> None:
    """Delete delivered and failed jobs received longer ago than that."""
    seconds = _duration(older_than)
    removed = _engine().store.purge(time.time() - seconds)
    click.echo(f"{removed} job(s) purged")


@click.group("config")
def config_group() -> None:
    """The host's integrations file."""


@config_group.command("check")
@click.option(
    "--base-url", default=None, help="The host's public address (default http://HOST:PORT)."
)
def config_check(base_url: str | None) -> None:
    """Check the file and print each integration's intake URLs (without secrets)."""
    config = _config()
    if base_url is None:
        address, port = os.environ.get("HOST") or "127.0.0.1", os.environ.get("PORT") or 4580
        base_url = f"http://{address}:{port}"
    base = base_url.rstrip("/")
    click.echo(f"{config.path}: {len(config.integrations)} integration(s)")
    for name, integration in config.integrations.items():
        signed = f", or {integration.signature}'s signature" if integration.signature else ""
        click.echo(f"{name} ({integration.service_name})")
        click.echo(f"  Aha! events:  {base}/aha/{name}?token=<secret>")
        click.echo(f"  webhooks:     {base}/webhooks/{name}?token=<secret>{signed}")


COMMANDS = (host_command, worker_command, jobs_group, config_group)
