"""``exception_class`` in an answer: the base class Aha! knows, applied in one place."""

import json

import pytest
from click.testing import CliRunner

from services.core import (
    AhaServiceError,
    ConfigurationError,
    InvalidUrlError,
    MissingSetting,
    RemoteError,
    Service,
    TimeLimitExceeded,
)
from services.core.cli import app as cli
from services.core.errors import wire_class_name
from services.core.events import handle_event, run_event
from services.core.registry import load_registry


class ProjectGone(ConfigurationError):
    pass


class Throttled(RemoteError):
    pass


@pytest.mark.parametrize(
    ("error", "name"),
    [
        (ConfigurationError("x"), "ConfigurationError"),
        (MissingSetting("x"), "ConfigurationError"),
        (ProjectGone("x"), "ConfigurationError"),
        (RemoteError("x"), "RemoteError"),
        (Throttled("x"), "RemoteError"),
        (InvalidUrlError("x"), "InvalidUrlError"),
        (TimeLimitExceeded("x"), "RemoteError"),
        (AhaServiceError("x"), "AhaServiceError"),
        (ValueError("x"), "ValueError"),
    ],
)
def test_wire_class_name(error, name):
    assert wire_class_name(error) == name


class NeedsServer(Service):
    def receive_create_feature(self):
        raise MissingSetting("The Server URL (server_url) is not set")

    def receive_update_feature(self):
        raise Throttled("Rate limit exhausted")


def test_run_event_answers_the_wire_name_and_handle_event_keeps_the_error():
    answer = run_event(NeedsServer, "create_feature", meta_data={"a": 1})
    assert answer["exception"]["exception_class"] == "ConfigurationError"
    assert answer["meta_data"] == {"a": 1}
    answer, raised = handle_event(NeedsServer, "update_feature")
    assert answer["exception"]["exception_class"] == "RemoteError"
    assert type(raised) is Throttled
    assert handle_event(NeedsServer, "no_such_event")[1] is None


@pytest.fixture
def registry(monkeypatch):
    registry = load_registry()
    registry.add(NeedsServer, "spec")
    monkeypatch.setattr(cli, "default_registry", lambda: registry)
    return registry


def test_the_command_line_prints_the_wire_name_and_still_exits_2_for_a_missing_setting(
    registry, mocked_http
):
    result = CliRunner().invoke(cli.main, ["send", "needs_server", "create_feature"])
    assert result.exit_code == 2
    exception = json.loads(result.stdout)["exception"]
    assert exception["exception_class"] == "ConfigurationError"
    assert "The Server URL (server_url) is not set" in result.stderr
    assert len(mocked_http.calls) == 0


def test_the_command_line_prints_the_wire_name_of_a_remote_error_and_exits_1(registry, mocked_http):
    result = CliRunner().invoke(cli.main, ["send", "needs_server", "update_feature"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["exception"]["exception_class"] == "RemoteError"
