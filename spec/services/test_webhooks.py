import pytest

from services.core import ConfigurationError, InvalidUrlError, RemoteError
from services.core.logger import Severity
from services.webhooks import Webhooks
from spec.conftest import json_fixture, request_json

HOOK_URL = "https://hooks.example.com/aha/features"

EVENTS = {
    "create_feature": "create_feature_event.json",
    "update_feature": "update_feature_event.json",
    "create_release": "create_release_event.json",
    "update_release": "update_release_event.json",
}


def test_schema_keeps_the_names_aha_stores():
    assert [(f.type, f.name) for f in Webhooks.schema] == [
        ("string", "hook_url"),
        ("boolean", "validate_cert"),
    ]
    assert Webhooks.field_by_name("validate_cert").options["label_name"] == "Validate certificate"
    assert (Webhooks.service_name, Webhooks.title, Webhooks.category) == (
        "webhooks",
        "Integration webhook",
        "API",
    )


@pytest.mark.parametrize(("event", "fixture_name"), EVENTS.items())
def test_feature_and_release_events_post_the_payload_as_json(mocked_http, event, fixture_name):
    payload = json_fixture(fixture_name)
    mocked_http.post(HOOK_URL, status=200)
    Webhooks({"hook_url": HOOK_URL}, payload).receive(event)
    assert len(mocked_http.calls) == 1
    call = mocked_http.calls[0]
    assert call.request.method == "POST"
    assert call.request.url == HOOK_URL
    assert call.request.headers["Content-Type"] == "application/json"
    assert "Authorization" not in call.request.headers
    assert request_json(call) == payload


def test_tls_is_verified_unless_validate_cert_is_switched_off(mocked_http):
    mocked_http.post(HOOK_URL)
    Webhooks({"hook_url": HOOK_URL}).receive("create_feature")
    Webhooks({"hook_url": HOOK_URL, "validate_cert": "1"}).receive("create_feature")
    off = Webhooks({"hook_url": HOOK_URL, "validate_cert": "0"})
    off.receive("create_feature")
    verify = [c.request.req_kwargs["verify"] for c in mocked_http.calls]
    assert verify[0] not in (False, None) and verify[1] not in (False, None)
    assert verify[2] is False
    assert {
        "severity": Severity.WARN,
        "message": "TLS certificate validation is switched off for this webhook",
    } in off.logger.messages


def test_an_error_status_is_a_remote_error(mocked_http):
    mocked_http.post(HOOK_URL, status=502)
    with pytest.raises(RemoteError, match="HTTP 502"):
        Webhooks({"hook_url": HOOK_URL}).receive("update_feature")


def test_a_missing_hook_url_is_a_configuration_error(mocked_http):
    with pytest.raises(ConfigurationError, match="Hook URL"):
        Webhooks({}).receive("create_release")
    assert len(mocked_http.calls) == 0


def test_a_private_hook_url_is_refused(mocked_http):
    with pytest.raises(InvalidUrlError):
        Webhooks({"hook_url": "http://169.254.169.254/latest"}).receive("create_feature")
    assert len(mocked_http.calls) == 0


def test_a_hook_on_an_allowed_local_sink_is_delivered(mocked_http, monkeypatch):
    monkeypatch.setenv("AHA_SERVICES_ALLOWED_HOSTS", "127.0.0.1")
    mocked_http.post("http://127.0.0.1:9999/sink")
    Webhooks({"hook_url": "http://127.0.0.1:9999/sink"}, {"feature": {}}).receive("create_feature")
    assert mocked_http.calls[0].request.url == "http://127.0.0.1:9999/sink"


def test_other_events_are_ignored(mocked_http):
    service = Webhooks({"hook_url": HOOK_URL})
    service.receive("audit")
    assert len(mocked_http.calls) == 0
    assert Webhooks.responds_to_events() == [
        "create_feature",
        "create_release",
        "update_feature",
        "update_release",
    ]
