import json

import pytest
from click.testing import CliRunner

from services.core import Service
from services.core.cli import app as cli
from services.core.registry import Registry, load_registry
from spec.conftest import fixture, request_json


class NeedsAha(Service):
    def receive_create_feature(self):
        self.api.feature("ACME-12")


@pytest.fixture
def registry(monkeypatch):
    registry = load_registry()
    registry.add(NeedsAha, "spec")
    monkeypatch.setattr(cli, "default_registry", lambda: registry)
    return registry


def run(*args, **kwargs):
    return CliRunner().invoke(cli.main, list(args), **kwargs)


def test_list_shows_services_and_their_events(registry):
    result = run("list")
    assert result.exit_code == 0
    line = next(x for x in result.output.splitlines() if x.startswith("webhooks "))
    assert "Integration webhook" in line and "create_feature" in line


def test_list_fails_when_a_module_failed(monkeypatch):
    broken = Registry()
    broken.fail("services.half", RuntimeError("boom"))
    monkeypatch.setattr(cli, "default_registry", lambda: broken)
    result = run("list")
    assert result.exit_code == 1
    assert "FAILED services.half: RuntimeError: boom" in result.output


def test_configuration_prints_the_wire_document(registry):
    result = run("configuration")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == json.loads(json.dumps(registry.configuration()))


def test_send_runs_an_event_and_prints_the_answer(registry, mocked_http):
    mocked_http.post("https://hooks.example.com/x")
    result = run(
        "send",
        "webhooks",
        "create_feature",
        "--data",
        '{"hook_url": "https://hooks.example.com/x"}',
        "--payload",
        str(fixture("create_feature_event.json")),
    )
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["meta_data"] == {}
    assert request_json(mocked_http.calls[0])["feature"]["reference_num"] == "ACME-12"


def test_send_takes_the_aha_account_from_the_environment(registry, mocked_http, monkeypatch):
    monkeypatch.setenv("AHA_DOMAIN", "acme")
    monkeypatch.setenv("AHA_API_TOKEN", "cli-token-123")
    mocked_http.get("https://acme.aha.io/api/v1/features/ACME-12", json={"feature": {}})
    result = run("send", "needs_aha", "create_feature")
    assert result.exit_code == 0, result.output
    assert mocked_http.calls[0].request.headers["Authorization"] == "Bearer cli-token-123"
    assert "cli-token-123" not in result.output


def test_send_without_the_aha_settings_names_them_and_exits_2(registry, mocked_http):
    result = run("send", "needs_aha", "create_feature")
    assert result.exit_code == 2
    assert "aha_account_domain" in result.output
    assert "Set AHA_DOMAIN (or AHA_API_URL) and AHA_API_TOKEN" in result.output
    assert len(mocked_http.calls) == 0


def test_send_reports_a_failing_event_with_exit_1(registry, mocked_http):
    result = run("send", "webhooks", "create_feature", "--data", "{}")
    assert result.exit_code == 1
    exception = json.loads(result.stdout)["exception"]
    assert exception["exception_class"] == "ConfigurationError"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["send", "nope", "create_feature"], "unknown service: nope"),
        (["send", "webhooks", "x", "--data", "{bad"], "malformed JSON"),
        (["send", "webhooks", "x", "--payload", "/no/such/file.json"], "no such file"),
        (["send", "webhooks", "x", "--data", "[1]"], "must be a JSON object"),
    ],
)
def test_bad_arguments_are_usage_errors(registry, args, message):
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.output
