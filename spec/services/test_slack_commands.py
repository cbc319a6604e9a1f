import pytest

from services.core import ConfigurationError, InvalidUrlError, RemoteError
from services.core.kits.chat import INSTALLED_TEXT
from services.slack import SlackCommands
from spec.conftest import json_fixture, request_json

SECRET_PATH = "/services/T0ACME001/B0CMDS004/m3Nb7Vc1Xz9Lk5Jh2Gf8Ds6A"
URL = f"https://hooks.slack.com{SECRET_PATH}"
OTHER_URL = "https://hooks.slack.com/services/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"
INVALID_TOKEN = (
    "An invalid token was provided: Slack no longer accepts this integration's webhook; "
    "use the Add to Slack button again"
)


def test_schema_keeps_the_names_aha_stores():
    assert [(f.type, f.name) for f in SlackCommands.schema] == [
        ("commands_slack_button", "commands_slack_button"),
    ]
    assert (SlackCommands.service_name, SlackCommands.title, SlackCommands.category) == (
        "slack_commands",
        "Aha! (from Slack)",
        "Communication",
    )
    assert SlackCommands.caption == "Send new ideas and work updates to Aha! from Slack"
    assert SlackCommands.responds_to_events() == ["installed"]


def test_installed_posts_the_test_message(mocked_http):
    mocked_http.post(URL, status=200, body="ok")
    SlackCommands({"url": URL, "webhook_url": OTHER_URL}).receive("installed")
    assert len(mocked_http.calls) == 1
    call = mocked_http.calls[0]
    assert (call.request.method, call.request.url) == ("POST", URL)
    assert call.request.headers["Content-Type"] == "application/json"
    assert "Authorization" not in call.request.headers
    assert request_json(call) == {"text": INSTALLED_TEXT}


def test_webhook_url_is_used_when_url_is_not_set(mocked_http):
    mocked_http.post(OTHER_URL, body="ok")
    SlackCommands({"webhook_url": OTHER_URL}).receive("installed")
    assert [(c.request.method, c.request.url) for c in mocked_http.calls] == [("POST", OTHER_URL)]
    assert request_json(mocked_http.calls[0]) == {"text": INSTALLED_TEXT}


def test_activity_is_not_sent(mocked_http):
    SlackCommands({"url": URL}, json_fixture("audit_event.json")).receive("audit")
    assert len(mocked_http.calls) == 0


def test_a_missing_url_is_a_configuration_error(mocked_http):
    with pytest.raises(ConfigurationError, match="Add to Slack"):
        SlackCommands({"commands_slack_button": ""}).receive("installed")
    assert len(mocked_http.calls) == 0


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (404, "no_service", "URL is not recognized"),
        (403, "invalid_token", INVALID_TOKEN),
        (401, '{"ok": false, "error": "invalid_token"}', INVALID_TOKEN),
        (500, '{"message": "JSON error"}', "Unhandled error: STATUS=500 BODY=JSON error"),
        (400, "invalid_payload", "Unhandled error: STATUS=400 BODY='invalid_payload'"),
    ],
)
def test_refused_messages_are_remote_errors(mocked_http, status, body, message):
    mocked_http.post(URL, status=status, body=body)
    with pytest.raises(RemoteError) as raised:
        SlackCommands({"url": URL}).receive("installed")
    assert str(raised.value) == message
    assert [(c.request.method, c.request.url) for c in mocked_http.calls] == [("POST", URL)]


def test_the_webhook_path_stays_out_of_logs(mocked_http):
    mocked_http.post(URL, status=500, body="oops")
    service = SlackCommands({"url": URL})
    with pytest.raises(RemoteError):
        service.receive("installed")
    logged = " ".join(str(m["message"]) for m in service.logger.messages)
    assert "POST https://hooks.slack.com[FILTERED]" in logged
    assert "m3Nb7Vc1Xz9Lk5Jh2Gf8Ds6A" not in logged
    assert SECRET_PATH in SlackCommands.secret_values({"webhook_url": URL})


def test_a_webhook_over_plain_http_is_refused(mocked_http):
    with pytest.raises(InvalidUrlError, match="plain http"):
        SlackCommands({"url": f"http://hooks.slack.com{SECRET_PATH}"}).receive("installed")
    assert len(mocked_http.calls) == 0


def test_an_allowed_local_fake_is_reached_over_http(mocked_http, monkeypatch):
    monkeypatch.setenv("AHA_SERVICES_ALLOWED_HOSTS", "127.0.0.1")
    mocked_http.post("http://127.0.0.1:9912/services/T1/B1/fake", body="ok")
    SlackCommands({"url": "http://127.0.0.1:9912/services/T1/B1/fake"}).receive("installed")
    assert mocked_http.calls[0].request.url == "http://127.0.0.1:9912/services/T1/B1/fake"
    assert request_json(mocked_http.calls[0]) == {"text": INSTALLED_TEXT}
