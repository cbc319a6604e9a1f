"""``aha-services aha``: any Aha! API entity, and ``login``/``logout`` for an OAuth token."""

from __future__ import annotations

import os

import click

from services.core.cli import aha_login
from services.core.cli.entity_commands import entity_group
from services.core.cli.exits import run_reporting
from services.core.cli.token_store import TokenStore
from services.core.entities import AhaEntities
from services.core.redaction import Redactor


def aha_entities() -> AhaEntities:
    """The command line's Aha! client: ``AHA_API_TOKEN``, else the token ``aha login`` stored."""
    if os.environ.get("AHA_API_TOKEN", "").strip():
        return AhaEntities.from_environment()
    return AhaEntities.from_environment(token=aha_login.stored_token())


aha_group = entity_group(
    "aha",
    aha_entities,
    publish_methods=AhaEntities.PUBLISH_METHODS,
    help_text=(
        "Any Aha! API entity: AHA_DOMAIN (or AHA_API_URL), and AHA_API_TOKEN or the token "
        "that `aha login` stored."
    ),
)


@aha_group.command()
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="The loopback port of the redirect URI; 0 picks a free one.",
)
@click.option("--no-browser", is_flag=True, help="Only print the address to open.")
@click.option(
    "--wait",
    type=click.FloatRange(min=1),
    default=aha_login.DEFAULT_WAIT,
    show_default=True,
    help="Seconds to wait for the browser.",
)
def login(port: int, no_browser: bool, wait: float) -> None:
    """Sign in to Aha! with OAuth (AHA_CLIENT_ID, AHA_CLIENT_SECRET) and store the token."""

    def sign_in() -> str:
        app = aha_login.OAuthApp.from_environment()
        token = aha_login.login(
            app,
            port=port,
            wait=wait,
            open_browser=not no_browser,
            say=lambda text: click.echo(text, err=True),
        )
        store = TokenStore()
        store.put(app.account, token)
        return f"Logged in to {app.account}; the token is in {store.path}"

    click.echo(run_reporting(sign_in, Redactor()))


@aha_group.command()
def logout() -> None:
    """Forget the token that ``aha login`` stored for this account."""

    def forget() -> str:
        account = aha_login.account_url()
        store = TokenStore()
        if store.forget(account):
            return f"Forgot the token for {account}"
        return f"No token was stored for {account}"

    click.echo(run_reporting(forget, Redactor()))
