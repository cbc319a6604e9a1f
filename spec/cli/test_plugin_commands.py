from importlib.metadata import EntryPoint

import click
import pytest
from click.testing import CliRunner

from services.core.cli import app, plugins


@click.command("hello")
def hello() -> None:
    click.echo("hello from a plugin")


BROKEN = EntryPoint("broken", "no_such_package.cli:COMMANDS", plugins.ENTRY_POINT_GROUP)
OFFERED = EntryPoint("mine", f"{__name__}:hello", plugins.ENTRY_POINT_GROUP)


@pytest.fixture
def points(monkeypatch):
    def entry_points(group):
        assert group == "aha_services.cli"
        return [BROKEN, OFFERED]

    monkeypatch.setattr(plugins, "entry_points", entry_points)
    plugins.plugin_commands.cache_clear()
    yield
    plugins.plugin_commands.cache_clear()


def test_a_plugin_command_runs_and_a_broken_plugin_is_named(points):
    result = CliRunner().invoke(app.main, ["hello"])
    assert result.exit_code == 0
    assert result.stdout == "hello from a plugin\n"
    assert "commands of no_such_package.cli:COMMANDS failed to load" in result.stderr


def test_the_host_commands_come_from_the_host_package_entry_point():
    plugins.plugin_commands.cache_clear()
    commands = plugins.plugin_commands()
    assert {"host", "worker", "jobs", "config"} <= set(commands)
    assert commands["jobs"].callback.__module__ == "host.cli"
