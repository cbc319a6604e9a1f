import json
import logging
import os

import pytest
from click.testing import CliRunner

from services.core import Service
from services.core.cli import app as cli
from services.core.registry import load_registry
from spec.conftest import fixture, request_json

CREATE_FEATURE = str(fixture("create_feature_event.json"))


class NeedsAha(Service):
    def receive_create_feature(self):
        self.api.feature("ACME-12")


class ReadsASetting(Service):
    def receive_create_feature(self):
        self.logger.info(f"Posting to {self.data.server_url}")


class KeepsASet(Service):
    def receive_create_feature(self):
        self.meta_data.seen = {"ACME-12"}


@pytest.fixture
def registry(monkeypatch):
    registry = load_registry(use_entry_points=False)
    registry.add(NeedsAha, "spec")
    registry.add(ReadsASetting, "spec")
    registry.add(KeepsASet, "spec")
    monkeypatch.setattr(cli, "default_registry", lambda: registry)
    return registry


@pytest.fixture
def broken_registry(monkeypatch):
    broken = load_registry(use_entry_points=False)
    broken.fail("services.half", RuntimeError("boom"))
    monkeypatch.setattr(cli, "default_registry", lambda: broken)
    return broken


def run(*args, **kwargs):
    return CliRunner().invoke(cli.main, list(args), **kwargs)


def test_version_names_the_package():
    result = run("--version")
    assert result.exit_code == 0
    assert result.output.startswith("aha-services, version 0.1.0")


def test_list_shows_services_and_their_events(registry):
    result = run("list")
    assert result.exit_code == 0
    line = next(x for x in result.output.splitlines() if x.startswith("webhooks "))
    assert "Integration webhook" in line and "create_feature" in line


def test_list_names_a_module_that_failed_on_standard_error(broken_registry):
    result = run("list")
    assert result.exit_code == 1
    assert "FAILED services.half: RuntimeError: boom" in result.stderr
    assert "FAILED" not in result.stdout
    assert "webhooks " in result.stdout


def test_configuration_prints_the_wire_document(registry):
    result = run("configuration")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == json.loads(json.dumps(registry.configuration()))


def test_configuration_names_a_module_that_failed_on_standard_error(broken_registry):
    result = run("configuration")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == json.loads(json.dumps(broken_registry.configuration()))
    assert "FAILED services.half: RuntimeError: boom" in result.stderr


def test_send_runs_an_event_and_prints_the_answer(registry, mocked_http):
    mocked_http.post("https://hooks.example.com/x")
    result = run(
        "send",
        "webhooks",
        "create_feature",
        "--data",
        '{"hook_url": "https://hooks.example.com/x"}',
        "--payload",
        f"@{CREATE_FEATURE}",
    )
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["meta_data"] == {}
    call = mocked_http.calls[0]
    assert (call.request.method, call.request.url) == ("POST", "https://hooks.example.com/x")
    assert request_json(call)["feature"]["reference_num"] == "ACME-12"


def test_send_takes_the_aha_account_from_the_environment(registry, mocked_http, monkeypatch):
    monkeypatch.setenv("AHA_DOMAIN", "acme")
    monkeypatch.setenv("AHA_API_TOKEN", "cli-token-123")
    mocked_http.get("https://acme.aha.io/api/v1/features/ACME-12", json={"feature": {}})
    result = run("send", "needs_aha", "create_feature")
    assert result.exit_code == 0, result.output
    call = mocked_http.calls[0]
    assert (call.request.method, call.request.url) == (
        "GET",
        "https://acme.aha.io/api/v1/features/ACME-12",
    )
    assert call.request.headers["Authorization"] == "Bearer cli-token-123"
    assert "cli-token-123" not in result.output


def test_send_without_the_aha_account_names_the_variable_and_exits_2(registry, mocked_http):
    result = run("send", "needs_aha", "create_feature")
    assert result.exit_code == 2
    assert "aha_account_domain" in result.stdout
    assert "Set AHA_DOMAIN (or AHA_API_URL) for the command line." in result.stderr
    assert len(mocked_http.calls) == 0


def test_send_without_the_aha_token_names_only_the_token(registry, mocked_http, monkeypatch):
    monkeypatch.setenv("AHA_DOMAIN", "acme")
    result = run("send", "needs_aha", "create_feature")
    assert result.exit_code == 2
    assert "Set AHA_API_TOKEN for the command line." in result.stderr
    assert "AHA_DOMAIN" not in result.stderr
    assert len(mocked_http.calls) == 0


def test_a_missing_variable_in_data_is_named_and_nothing_else(registry, mocked_http, monkeypatch):
    monkeypatch.delenv("FOO_SERVER", raising=False)
    data = '{"server_url": "${FOO_SERVER}"}'
    result = run("send", "reads_a_setting", "create_feature", "--data", data)
    assert result.exit_code == 2
    error_line = result.stderr.strip().splitlines()[-1]
    assert error_line == "Error: The environment variable FOO_SERVER is not set."
    assert "AHA_" not in result.stderr


def test_a_missing_key_reads_empty_in_an_f_string(registry, mocked_http):
    result = run("send", "reads_a_setting", "create_feature", "--data", "{}")
    assert result.exit_code == 0, result.output
    messages = [m["message"] for m in json.loads(result.stdout)["messages"]]
    assert "Posting to " in messages
    assert not any("{}" in m for m in messages)


def test_send_reports_a_failing_event_with_exit_1(registry, mocked_http):
    result = run("send", "webhooks", "create_feature", "--data", "{}")
    assert result.exit_code == 1
    exception = json.loads(result.stdout)["exception"]
    assert exception["exception_class"] == "ConfigurationError"


def test_send_exits_1_when_the_meta_data_could_not_be_sent_whole(registry):
    result = run("send", "keeps_a_set", "create_feature", "--data", "{}")
    assert result.exit_code == 1
    answer = json.loads(result.stdout)
    assert "seen" in answer["exception"]["message"]
    assert "seen" not in answer["meta_data"]


def test_send_names_a_service_that_failed_to_load(broken_registry):
    result = run("send", "half", "create_feature")
    assert result.exit_code == 2
    assert "half failed to load: RuntimeError: boom" in result.stderr
    assert "unknown service" not in result.stderr


def test_send_says_when_a_service_is_unknown(registry):
    result = run("send", "nope", "create_feature")
    assert result.exit_code == 2
    assert "unknown service: nope" in result.stderr


@pytest.mark.parametrize("option", ["--data", "--payload", "--meta-data"])
def test_every_json_option_of_send_reads_standard_input(registry, mocked_http, option):
    hook = {"hook_url": "https://hooks.example.com/x"}
    mocked_http.post("https://hooks.example.com/x")
    args = ["send", "webhooks", "create_feature", option, "-"]
    if option != "--data":
        args += ["--data", json.dumps(hook)]
    stdin = json.dumps(hook if option == "--data" else {"kept": 1})
    result = run(*args, input=stdin)
    assert result.exit_code == 0, result.output
    if option == "--meta-data":
        assert json.loads(result.stdout)["meta_data"] == {"kept": 1}
    assert mocked_http.calls[0].request.url == "https://hooks.example.com/x"


def test_standard_input_is_read_by_one_option_only(registry):
    result = run("send", "webhooks", "create_feature", "--data", "-", "--payload", "-", input="{}")
    assert result.exit_code == 2
    assert "standard input was already read" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "{bad"], "malformed JSON at line 1, column 2"),
        (["--data", '{\n  "a": 1,\n}'], "malformed JSON at line 3, column 1"),
        (["--payload", "@/no/such/file.json"], "no such file: /no/such/file.json"),
        (["--payload", CREATE_FEATURE], f"(to read the file, write @{CREATE_FEATURE})"),
        (["--data", "[1]"], "must be a JSON object"),
        (["--payload", '{"a": NaN}'], "malformed JSON: NaN is not JSON"),
        (["--payload", "[-Infinity]"], "malformed JSON: -Infinity is not JSON"),
        (["--payload", "[" * 100000 + "]" * 100000], "malformed JSON: nested too deeply"),
    ],
)
def test_bad_json_is_a_usage_error_that_says_what_was_wrong(registry, args, message):
    result = run("send", "webhooks", "create_feature", *args)
    assert result.exit_code == 2
    assert message in result.stderr


@pytest.fixture
def services_logger():
    logger = logging.getLogger("services")
    level = logger.level
    yield logger
    logger.setLevel(level)


@pytest.mark.parametrize(
    ("args", "level"),
    [
        ([], logging.WARNING),
        (["-v"], logging.DEBUG),
        (["--quiet"], logging.CRITICAL),
    ],
)
@pytest.mark.parametrize("where", ["main", "command", "group"])
def test_every_command_takes_verbose_and_quiet(registry, services_logger, args, level, where):
    if where == "main":
        argv = [*args, "aha", "get", "/api/v1/me"]
    elif where == "group":
        argv = ["aha", *args, "get", "/api/v1/me"]
    else:
        argv = ["aha", "get", "/api/v1/me", *args]
    result = run(*argv)
    assert result.exit_code == 2  # no Aha! account: stops before any request
    assert services_logger.level == level


@pytest.mark.parametrize("command", ["list", "configuration", "send", "serve", "aha", "halo"])
def test_verbosity_options_are_in_every_help(registry, command):
    result = run(command, "--help")
    assert result.exit_code == 0
    assert "-v, --verbose" in result.output and "-q, --quiet" in result.output


def test_the_console_script_reads_dotenv_without_overriding(tmp_path, monkeypatch, mocked_http):
    (tmp_path / ".env").write_text(
        "AHA_DOMAIN=fromfile\nAHA_API_TOKEN=token-from-dotenv-0001\nDOTENV_ONLY=yes\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AHA_DOMAIN", "acme")
    # Recorded so that monkeypatch removes what the .env file adds.
    for name in ("AHA_API_TOKEN", "DOTENV_ONLY"):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    monkeypatch.setattr("sys.argv", ["aha-services", "aha", "get", "/api/v1/me"])
    mocked_http.get("https://acme.aha.io/api/v1/me", json={"user": {"id": "1"}})
    with pytest.raises(SystemExit) as stop:
        cli.run()
    assert stop.value.code == 0
    assert os.environ["DOTENV_ONLY"] == "yes"
    assert os.environ["AHA_DOMAIN"] == "acme"
    call = mocked_http.calls[0]
    assert call.request.url == "https://acme.aha.io/api/v1/me"
    assert call.request.headers["Authorization"] == "Bearer token-from-dotenv-0001"
