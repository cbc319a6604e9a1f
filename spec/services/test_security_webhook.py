import pytest

from services.core import InvalidUrlError, RemoteError
from services.security_webhook import SecurityWebhook
from spec.conftest import json_fixture, request_json

HOOK_URL = "https://siem.example.com/ingest/aha"


def test_schema_keeps_the_names_aha_stores():
    assert [(f.type, f.name) for f in SecurityWebhook.schema] == [
        ("string", "hook_url"),
        ("boolean", "validate_cert"),
    ]
    assert (SecurityWebhook.title, SecurityWebhook.category) == ("Security webhook", "API")


def test_security_events_are_posted_as_json_within_five_seconds(mocked_http):
    payload = json_fixture("security_event.json")
    mocked_http.post(HOOK_URL)
    SecurityWebhook({"hook_url": HOOK_URL, "validate_cert": "1"}, payload).receive("security")
    call = mocked_http.calls[0]
    assert (call.request.method, call.request.url) == ("POST", HOOK_URL)
    assert request_json(call) == payload
    assert SecurityWebhook.receive_security.time_limit == 5.0
    assert call.request.req_kwargs["timeout"][1] <= 5.0


def test_errors_are_reported(mocked_http):
    mocked_http.post(HOOK_URL, status=403)
    with pytest.raises(RemoteError, match="403"):
        SecurityWebhook({"hook_url": HOOK_URL}, {}).receive("security")
    with pytest.raises(InvalidUrlError):
        SecurityWebhook({"hook_url": "http://[::1]:8080/"}, {}).receive("security")


def test_other_events_are_ignored(mocked_http):
    SecurityWebhook({"hook_url": HOOK_URL}).receive("audit")
    assert len(mocked_http.calls) == 0
