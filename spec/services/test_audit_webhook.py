import time

import pytest

from services.audit_webhook import AuditWebhook
from services.core import ConfigurationError, RemoteError, TimeLimitExceeded
from spec.conftest import json_fixture, request_json

HOOK_URL = "https://audit.example.com/aha"


def test_schema_keeps_the_names_aha_stores():
    assert [(f.type, f.name) for f in AuditWebhook.schema] == [
        ("string", "hook_url"),
        ("audit_filter", "audit_filter"),
        ("boolean", "validate_cert"),
    ]
    assert (AuditWebhook.title, AuditWebhook.category) == ("Activity webhook", "API")


def test_audit_events_are_posted_as_json(mocked_http):
    payload = json_fixture("audit_event.json")
    mocked_http.post(HOOK_URL)
    AuditWebhook({"hook_url": HOOK_URL}, payload).receive("audit")
    call = mocked_http.calls[0]
    assert (call.request.method, call.request.url) == ("POST", HOOK_URL)
    assert request_json(call) == payload


def test_the_audit_event_has_a_five_second_limit(mocked_http):
    assert AuditWebhook.receive_audit.time_limit == 5.0
    mocked_http.post(HOOK_URL)
    AuditWebhook({"hook_url": HOOK_URL}, {}).receive("audit")
    assert mocked_http.calls[0].request.req_kwargs["timeout"][1] <= 5.0


def test_a_slow_receiver_is_cut_off(mocked_http, monkeypatch):
    monkeypatch.setattr(AuditWebhook.receive_audit, "time_limit", 0.2)

    def slow(request):
        time.sleep(1)
        return (200, {}, "")

    mocked_http.add_callback("POST", HOOK_URL, callback=slow)
    with pytest.raises(TimeLimitExceeded):
        AuditWebhook({"hook_url": HOOK_URL}, {}).receive("audit")


def test_errors_are_reported(mocked_http):
    mocked_http.post(HOOK_URL, status=500)
    with pytest.raises(RemoteError, match="500"):
        AuditWebhook({"hook_url": HOOK_URL}, {}).receive("audit")
    with pytest.raises(ConfigurationError):
        AuditWebhook({}, {}).receive("audit")


def test_feature_events_are_ignored(mocked_http):
    AuditWebhook({"hook_url": HOOK_URL}).receive("create_feature")
    assert len(mocked_http.calls) == 0
