import pytest

from proxy.app import create_app
from services.core import MissingSetting, Service, password, string
from services.core.environment import environment_secrets, expand, expand_all
from services.core.redaction import Redactor


class Needy(Service):
    schema = (string("base_uri"), password("client_secret"), string("scopes"))

    def receive_installed(self):
        self.meta_data.base_uri = self.data.base_uri
        self.meta_data.scopes = self.data.scopes
        self.logger.info(f"authenticating with {self.data.client_secret}")


def test_expands_references_and_defaults():
    environ = {"HALO_BASE_URI": "https://halo.example.com", "EMPTY": ""}
    assert expand("${HALO_BASE_URI}/api", environ) == "https://halo.example.com/api"
    assert expand("${SCOPES:-all}", environ) == "all"
    assert expand("${EMPTY:-fallback}", environ) == "fallback"
    assert expand("plain $HOME {x} $", environ) == "plain $HOME {x} $"


@pytest.mark.parametrize("value", ["${MISSING_ONE}", "x-${EMPTY}-y"])
def test_a_missing_variable_is_an_error_naming_it_never_an_empty_string(value):
    with pytest.raises(MissingSetting, match="MISSING_ONE|EMPTY"):
        expand(value, {"EMPTY": ""})


def test_expand_all_reaches_nested_values():
    environ = {"A": "1"}
    assert expand_all({"x": ["${A}", {"y": "${A}"}], "n": 2, "b": None}, environ) == {
        "x": ["1", {"y": "1"}],
        "n": 2,
        "b": None,
    }


def test_a_service_reads_its_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("HALO_BASE_URI", "https://halo.example.com")
    monkeypatch.setenv("HALO_CLIENT_SECRET", "cs-7f3a9b2c1d")
    service = Needy(
        {
            "base_uri": "${HALO_BASE_URI}",
            "client_secret": "${HALO_CLIENT_SECRET}",
            "scopes": "${HALO_SCOPES:-all}",
        }
    )
    service.receive("installed")
    assert service.meta_data.to_dict() == {"base_uri": "https://halo.example.com", "scopes": "all"}
    assert "cs-7f3a9b2c1d" not in str(service.logger.messages)
    assert "authenticating with [FILTERED]" in str(service.logger.messages)


def test_a_missing_variable_fails_the_event_with_its_name():
    with pytest.raises(MissingSetting, match="HALO_BASE_URI"):
        Needy({"base_uri": "${HALO_BASE_URI}"}).receive("installed")


def test_secret_looking_variables_are_redacted_everywhere(monkeypatch):
    monkeypatch.setenv("CONNECTALL_API_KEY", "ca-key-0123456789")
    monkeypatch.setenv("MY_PASSWORD", "hunter2-but-longer")
    monkeypatch.setenv("FEATURE_KEY", "true")
    monkeypatch.setenv("PLAIN_SETTING", "visible-value-123")
    assert "ca-key-0123456789" in environment_secrets()
    redact = Redactor()
    assert redact("key ca-key-0123456789 pw hunter2-but-longer") == "key [FILTERED] pw [FILTERED]"
    assert redact("true visible-value-123") == "true visible-value-123"


def test_the_proxy_answer_never_holds_an_environment_secret(monkeypatch, mocked_http):
    monkeypatch.setenv("HALO_CLIENT_SECRET", "cs-7f3a9b2c1d")
    mocked_http.post(
        "https://hooks.example.com/cs-7f3a9b2c1d", status=500, body="no route cs-7f3a9b2c1d"
    )
    client = create_app().test_client()
    answer = client.post(
        "/send_event",
        json={
            "service_name": "webhooks",
            "event": "create_feature",
            "user_data": {"hook_url": "https://hooks.example.com/cs-7f3a9b2c1d"},
            "payload": {},
        },
    )
    text = answer.get_data(as_text=True)
    assert "HTTP 500" in text and "no route [FILTERED]" in text
    assert "cs-7f3a9b2c1d" not in text
