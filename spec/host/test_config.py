from pathlib import Path

import pytest

from host.config import ConfigError, load_config, parse_config
from spec.host.conftest import AHA_TOKEN, SECRET, host_config, registry

ROOT = Path(__file__).resolve().parents[2]


def test_the_example_file_loads_with_its_variables_set(monkeypatch):
    for name in (
        "AHA_API_TOKEN",
        "ENG_HOOKS_INTAKE_SECRET",
        "ENG_SLACK_INTAKE_SECRET",
        "ENG_GITHUB_WEBHOOK_SECRET",
    ):
        monkeypatch.setenv(name, f"{name.lower()}-value-123456")
    monkeypatch.setenv("ENG_HOOKS_URL", "https://hooks.example.com/aha")
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T/B/x")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_example_token_value")
    config = load_config(ROOT / "integrations.example.toml")
    assert list(config.integrations) == ["eng-hooks", "eng-slack", "eng-github"]
    assert config.integrations["eng-github"].signature == "github"
    assert config.integrations["eng-slack"].retry.attempts == 6
    assert config.integrations["eng-hooks"].settings == {
        "hook_url": "https://hooks.example.com/aha"
    }


def test_each_event_gets_the_user_data_the_proxy_would_build():
    config = host_config({"hooks": {"service": "webhooks", "settings": {"hook_url": "x"}}})
    assert config.user_data(config.integrations["hooks"]) == {
        "hook_url": "x",
        "aha_account_domain": "acme",
        "aha_api_url_base": "https://aha.io/",
        "aha_api_token": AHA_TOKEN,
        "integration_id": "4242",
    }


def test_the_environment_variable_is_read_from_the_config_path(tmp_path, monkeypatch):
    path = tmp_path / "hosts.toml"
    path.write_text(
        '[aha]\ndomain = "acme"\ntoken = "t"\n'
        '[integrations.a]\nservice = "webhooks"\nsecret = "${A_SECRET}"\n'
    )
    monkeypatch.setenv("AHA_SERVICES_CONFIG", str(path))
    monkeypatch.setenv("A_SECRET", "a-secret-long-enough-0001")
    assert load_config(registry=registry()).integrations["a"].secret == "a-secret-long-enough-0001"


@pytest.mark.parametrize(
    ("table", "named"),
    [
        ({"service": "nope"}, "[integrations.a] service: unknown service 'nope'"),
        ({"service": "webhooks", "secret": ""}, "[integrations.a] secret: missing"),
        (
            {"service": "webhooks", "secret": "${UNSET_SECRET}"},
            "[integrations.a] secret: The environment variable UNSET_SECRET is not set",
        ),
        (
            {"service": "webhooks", "settings": {"hook_url": "${UNSET_URL}"}},
            "[integrations.a] settings: The environment variable UNSET_URL is not set",
        ),
        ({"service": "webhooks", "attempts": 0}, "[integrations.a] attempts: a number"),
        ({"service": "webhooks", "signature": "bitbucket"}, "[integrations.a] signature"),
        ({"service": "webhooks", "hook": 1}, "[integrations.a] hook: unknown key"),
        ({"secret": SECRET}, "[integrations.a] service: missing"),
        ({"service": "webhooks", "settings": "x"}, "[integrations.a] settings: must be a table"),
        ({"service": "webhooks", "integration_id": True}, "[integrations.a] integration_id"),
    ],
)
def test_a_config_error_names_the_integration_and_the_key(table, named):
    document = {
        "aha": {"domain": "acme", "token": "t"},
        "integrations": {"a": {"secret": SECRET, **table}},
    }
    with pytest.raises(ConfigError) as raised:
        parse_config(document, registry(), environ={})
    assert named in str(raised.value)


def test_a_secret_never_shows_in_a_config_error():
    document = {
        "aha": {"domain": "acme", "token": "t"},
        "integrations": {"a": {"service": "webhooks", "secret": "short-secret"}},
    }
    with pytest.raises(ConfigError) as raised:
        parse_config(document, registry(), environ={})
    assert "short-secret" not in str(raised.value)
    assert "[integrations.a] secret" in str(raised.value)


@pytest.mark.parametrize(
    ("aha", "named"),
    [
        ({"token": "t"}, "[aha] domain"),
        ({"domain": "acme"}, "[aha] token"),
        ({"api_url": "nota url", "token": "t"}, "[aha] api_url"),
    ],
)
def test_the_aha_account_is_required(aha, named):
    document = {"aha": aha, "integrations": {"a": {"service": "webhooks", "secret": SECRET}}}
    with pytest.raises(ConfigError, match=named.replace("[", r"\[").replace("]", r"\]")):
        parse_config(document, registry(), environ={})


def test_a_missing_or_malformed_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "missing.toml", registry())
    bad = tmp_path / "bad.toml"
    bad.write_text("[aha\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad, registry())


@pytest.mark.parametrize(
    ("document", "named"),
    [
        ({"aha": {"domain": "acme", "token": "t"}, "integrations": {}}, "no integration"),
        ({"aha": {"domain": "acme", "token": "t"}, "integrations": {"a": 1}}, "must be a table"),
        ({"aha": {"domain": 7, "token": "t"}, "integrations": {}}, "[aha] domain: must be"),
        ({"aha": {"domain": "acme", "token": "t"}, "integrations": {"a b": {}}}, "a name of"),
    ],
)
def test_a_malformed_document_is_named(document, named):
    with pytest.raises(ConfigError) as raised:
        parse_config(document, registry(), environ={})
    assert named in str(raised.value)


def test_an_api_url_gives_the_account_domain():
    document = {
        "aha": {"api_url": "https://bigco.example.com/api/v1", "token": "t"},
        "integrations": {"a": {"secret": SECRET, "service": "webhooks"}},
    }
    assert parse_config(document, registry(), environ={}).aha.domain == "bigco"


def test_engine_and_worker_settings_out_of_range_are_named(tmp_path):
    from host.engine import build_engine
    from host.worker import STOP_VARIABLE, _seconds

    with pytest.raises(ConfigError, match="AHA_SERVICES_QUEUE"):
        build_engine({"AHA_SERVICES_QUEUE": "amqp://x"})
    with pytest.raises(ConfigError, match="AHA_SERVICES_SQLITE_TIMEOUT"):
        build_engine({"AHA_SERVICES_DATA": str(tmp_path), "AHA_SERVICES_SQLITE_TIMEOUT": "x"})
    for value in ("soon", "0", "99999"):
        with pytest.raises(SystemExit, match=STOP_VARIABLE):
            _seconds({STOP_VARIABLE: value}, STOP_VARIABLE, 25.0)
    assert _seconds({}, STOP_VARIABLE, 25.0) == 25.0
