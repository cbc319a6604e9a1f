import pytest
import requests

from services.core import ConfigurationError, InvalidUrlError, RemoteError
from services.core.events import run_event
from services.core.kits.chat import INSTALLED_TEXT
from services.slack import ICON_URL, Slack
from spec.conftest import json_fixture, request_json

SECRET_PATH = "/services/T0ACME001/B0ACME002/q8Zr3kLmN5pW7xYtV2bC4dHs"
URL = f"https://hooks.slack.com{SECRET_PATH}"
OTHER_URL = "https://hooks.slack.com/services/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"


def several_changes():
    return json_fixture("slack/audit_several_changes.json")


def test_schema_keeps_the_names_aha_stores():
    assert [(f.type, f.name) for f in Slack.schema] == [
        ("webhooks_slack_button", "webhooks_slack_button"),
        ("install_button", "install_button"),
        ("audit_filter", "audit_filter"),
    ]
    assert (Slack.service_name, Slack.title, Slack.category) == (
        "slack",
        "Aha! (to Slack)",
        "Communication",
    )
    assert Slack.caption == "Send workspace notifications from Aha! to Slack"
    assert Slack.responds_to_events() == ["audit", "installed"]


def test_installed_posts_the_test_message_to_the_url(mocked_http):
    mocked_http.post(URL, status=200, body="ok")
    Slack({"url": URL, "webhook_url": OTHER_URL}).receive("installed")
    assert len(mocked_http.calls) == 1
    call = mocked_http.calls[0]
    assert (call.request.method, call.request.url) == ("POST", URL)
    assert call.request.headers["Content-Type"] == "application/json"
    assert "Authorization" not in call.request.headers
    assert request_json(call) == {"text": INSTALLED_TEXT}


def test_webhook_url_is_used_when_url_is_not_set(mocked_http):
    mocked_http.post(OTHER_URL, body="ok")
    Slack({"webhook_url": OTHER_URL}).receive("installed")
    assert [c.request.url for c in mocked_http.calls] == [OTHER_URL]
    assert request_json(mocked_http.calls[0]) == {"text": INSTALLED_TEXT}


def test_an_audit_posts_one_field_per_change(mocked_http):
    mocked_http.post(URL, body="ok")
    Slack({"url": URL}, several_changes()).receive("audit")
    assert len(mocked_http.calls) == 1
    call = mocked_http.calls[0]
    assert (call.request.method, call.request.url) == ("POST", URL)
    assert request_json(call) == {
        "username": "Aha!",
        "icon_url": ICON_URL,
        "attachments": [
            {
                "fallback": "Priya Raman updated feature BILL-88 Split invoices by cost center",
                "pretext": "*Priya Raman* <https://acme.aha.io/features/BILL-88|"
                "updated feature BILL-88 Split invoices by cost center>",
                "mrkdwn_in": ["pretext", "text", "fields"],
                "fields": [
                    {"title": "Workflow status", "value": "In development", "short": True},
                    {"title": "Assigned to user", "value": "Tomás Herrera", "short": True},
                    {
                        "title": "Description",
                        "value": "Let finance teams *split* one invoice across several cost "
                        "centers.\n\nFollow the <https://wiki.example.com/billing/cost-centers"
                        "?section=split&v=2|cost center guide> for the rules.",
                        "short": False,
                    },
                    {"title": "Score", "value": "42", "short": True},
                    {"title": "Tags", "value": "billing, finance &amp; ops", "short": True},
                ],
            }
        ],
    }


@pytest.mark.parametrize("field_name", ["Description", "Theme", "Body"])
def test_description_like_fields_are_wide(mocked_http, field_name):
    payload = several_changes()
    payload["audit"]["changes"] = [
        {"field_name": field_name, "value": "<p>Long text</p>"},
        {"field_name": f"{field_name} summary", "value": "short"},
    ]
    mocked_http.post(URL, body="ok")
    Slack({"url": URL}, payload).receive("audit")
    fields = request_json(mocked_http.calls[0])["attachments"][0]["fields"]
    assert fields == [
        {"title": field_name, "value": "Long text", "short": False},
        {"title": f"{field_name} summary", "value": "short", "short": True},
    ]


def test_the_shared_audit_fixture_is_sent_too(mocked_http):
    mocked_http.post(URL, body="ok")
    Slack({"url": URL}, json_fixture("audit_event.json")).receive("audit")
    attachment = request_json(mocked_http.calls[0])["attachments"][0]
    assert attachment["pretext"] == (
        "*Maya Okafor* <https://acme.aha.io/features/ACME-12|"
        "updated feature ACME-12 Bulk export of invoices>"
    )
    assert attachment["fields"] == [
        {"title": "Status", "value": "In development", "short": True},
        {
            "title": "Description",
            "value": "Finance teams need _quarterly_ exports.",
            "short": False,
        },
    ]


def test_an_audit_without_user_or_url_is_by_aha_and_unlinked(mocked_http):
    payload = several_changes()
    payload["audit"]["user"] = None
    del payload["audit"]["auditable_url"]
    payload["audit"]["description"] = "created idea R&D <beta> access"
    payload["audit"]["changes"] = [{"field_name": "Name", "value": None}]
    mocked_http.post(URL, body="ok")
    Slack({"url": URL}, payload).receive("audit")
    attachment = request_json(mocked_http.calls[0])["attachments"][0]
    assert attachment["fallback"] == "Aha! created idea R&D <beta> access"
    assert attachment["pretext"] == "*Aha!* created idea R&amp;D &lt;beta&gt; access"
    assert attachment["fields"] == [{"title": "Name", "value": "", "short": True}]


def test_an_audit_without_changes_sends_no_fields(mocked_http):
    payload = several_changes()
    del payload["audit"]["changes"]
    mocked_http.post(URL, body="ok")
    Slack({"url": URL}, payload).receive("audit")
    assert request_json(mocked_http.calls[0])["attachments"][0]["fields"] == []


def test_an_audit_that_is_not_interesting_is_not_sent(mocked_http):
    payload = several_changes()
    payload["audit"]["interesting"] = False
    Slack({"url": URL}, payload).receive("audit")
    Slack({"url": URL}, {"event": "audit"}).receive("audit")
    assert len(mocked_http.calls) == 0


def test_other_events_are_ignored(mocked_http):
    Slack({"url": URL}, several_changes()).receive("create_feature")
    assert len(mocked_http.calls) == 0


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (404, "channel_not_found", "URL is not recognized"),
        (
            403,
            "invalid_token",
            "An invalid token was provided: Slack no longer accepts this integration's webhook; "
            "use the Add to Slack button again",
        ),
        (
            401,
            '{"ok": false, "error": "invalid_token"}',
            "An invalid token was provided: Slack no longer accepts this integration's webhook; "
            "use the Add to Slack button again",
        ),
        (500, '{"message": "JSON error"}', "Unhandled error: STATUS=500 BODY=JSON error"),
        (500, "not JSON", "Unhandled error: STATUS=500 BODY='not JSON'"),
        (410, "channel_is_archived", "Unhandled error: STATUS=410 BODY='channel_is_archived'"),
    ],
)
def test_refused_messages_are_remote_errors(mocked_http, status, body, message):
    mocked_http.post(URL, status=status, body=body)
    with pytest.raises(RemoteError) as raised:
        Slack({"url": URL}, several_changes()).receive("audit")
    assert str(raised.value) == message
    assert [(c.request.method, c.request.url) for c in mocked_http.calls] == [("POST", URL)]


def test_a_missing_url_is_a_configuration_error(mocked_http):
    with pytest.raises(ConfigurationError, match="Add to Slack"):
        Slack({}).receive("installed")
    assert len(mocked_http.calls) == 0


def test_the_webhook_path_stays_out_of_logs(mocked_http):
    mocked_http.post(URL, status=500, body="oops")
    service = Slack({"url": URL})
    with pytest.raises(RemoteError):
        service.receive("installed")
    logged = " ".join(str(m["message"]) for m in service.logger.messages)
    assert "POST https://hooks.slack.com[FILTERED]" in logged
    assert "q8Zr3kLmN5pW7xYtV2bC4dHs" not in logged
    assert SECRET_PATH in Slack.secret_values({"url": URL, "webhook_url": None})


def test_a_webhook_over_plain_http_is_refused(mocked_http):
    with pytest.raises(InvalidUrlError, match="plain http"):
        Slack({"url": f"http://hooks.slack.com{SECRET_PATH}"}).receive("installed")
    assert len(mocked_http.calls) == 0


def test_a_private_webhook_address_is_refused(mocked_http):
    with pytest.raises(InvalidUrlError):
        Slack({"url": "https://intranet.example.com/hooks/1"}).receive("installed")
    assert len(mocked_http.calls) == 0


def test_an_allowed_local_fake_is_reached_over_http(mocked_http, monkeypatch):
    monkeypatch.setenv("AHA_SERVICES_ALLOWED_HOSTS", "127.0.0.1")
    mocked_http.post("http://127.0.0.1:9911/services/T1/B1/fake", body="ok")
    Slack({"url": "http://127.0.0.1:9911/services/T1/B1/fake"}).receive("installed")
    assert mocked_http.calls[0].request.url == "http://127.0.0.1:9911/services/T1/B1/fake"
    assert request_json(mocked_http.calls[0]) == {"text": INSTALLED_TEXT}


def test_a_connection_failure_answer_keeps_the_webhook_path_out(mocked_http):
    failure = requests.exceptions.ConnectionError(
        f"HTTPSConnectionPool(host='hooks.slack.com', port=443): Max retries exceeded "
        f"with url: {SECRET_PATH}"
    )
    mocked_http.post(URL, body=failure)
    answer = run_event(Slack, "installed", user_data={"url": URL})
    assert answer["exception"]["exception_class"] == "ConfigurationError"
    message = answer["exception"]["message"]
    assert message.startswith("Could not connect to hooks.slack.com: HTTPSConnectionPool")
    assert message.endswith("with url: [FILTERED]")
    assert "q8Zr3kLmN5pW7xYtV2bC4dHs" not in str(answer)


def test_a_change_longer_than_slack_takes_is_cut_with_a_link_to_the_record(mocked_http):
    mocked_http.post(URL, body="ok")
    payload = several_changes()
    description = next(c for c in payload["audit"]["changes"] if c["field_name"] == "Description")
    description["value"] = "<p>" + "Invoices need a quarterly export. " * 2_000 + "</p>"
    Slack({"url": URL}, payload).receive("audit")
    call = mocked_http.calls[0]
    assert (call.request.method, call.request.url) == ("POST", URL)
    assert len(call.request.body) <= 40_000
    fields = request_json(call)["attachments"][0]["fields"]
    value = next(f["value"] for f in fields if f["title"] == "Description")
    assert value.startswith("Invoices need a quarterly export.")
    assert value.endswith(
        "… (truncated: the full text is in Aha! https://acme.aha.io/features/BILL-88)"
    )
    assert [f["title"] for f in fields] == [
        "Workflow status",
        "Assigned to user",
        "Description",
        "Score",
        "Tags",
    ]
    assert Slack.field_limits == {"text": 40_000, "message": 40_000}
