from click.testing import CliRunner

from services.core import Service, password, string
from services.core.cli import app as cli
from services.core.cli import show_command
from services.core.registry import load_registry


class Pong(Service):
    service_name = "pong"
    schema = (string("server_url", description="Where Pong answers."), password("api_key"))


def use_registry(monkeypatch, registry):
    monkeypatch.setattr(show_command, "default_registry", lambda: registry)


def run(*args):
    return CliRunner().invoke(cli.main, list(args))


def test_show_prints_the_settings_table_from_the_schema(monkeypatch):
    registry = load_registry(use_entry_points=False)
    registry.add(Pong, "spec")
    use_registry(monkeypatch, registry)
    result = run("show", "pong")
    assert result.exit_code == 0
    assert result.output.startswith(
        "# Pong (pong)\n\nEvents: none\nDoc: docs/pong.md (missing)\n\n"
    )
    assert result.output.endswith(
        "| Setting | Label | Type | Secret | Description |\n"
        "| --- | --- | --- | --- | --- |\n"
        "| `server_url` | Server url | string | | Where Pong answers. |\n"
        "| `api_key` | Api key | password | yes | |\n"
    )


def test_show_names_the_events_and_the_doc_path(monkeypatch):
    result = run("show", "webhooks")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "# Integration webhook (webhooks)"
    assert "Events: create_feature, create_release, update_feature, update_release" in lines
    assert "Doc: docs/webhooks.md" in lines


def test_show_an_unknown_service_is_a_usage_error(monkeypatch):
    use_registry(monkeypatch, load_registry(use_entry_points=False))
    result = run("show", "no_such_service")
    assert result.exit_code == 2
    assert "unknown service: no_such_service" in result.output


def test_show_a_service_that_failed_to_load_names_the_failure(monkeypatch):
    registry = load_registry(use_entry_points=False)
    registry.fail("services.half", RuntimeError("boom"))
    use_registry(monkeypatch, registry)
    result = run("show", "half")
    assert result.exit_code == 2
    assert "half failed to load: RuntimeError: boom" in result.output
