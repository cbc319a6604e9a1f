import pytest

from services.core import ConfigurationError, InvalidUrlError, RemoteError
from services.core.kits.chat import INSTALLED_TEXT
from services.google_hangouts_chat import GoogleHangoutsChat, change_colors
from spec.conftest import json_fixture, request_json

CHAT_KEY = "AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI"
CHAT_TOKEN = "q8Zt4mVv2LxN0bR7cYwK1sJ3hF6gD9aE5pU"
URL = (
    f"https://chat.googleapis.com/v1/spaces/AAAAq7Lm2Xc/messages?key={CHAT_KEY}&token={CHAT_TOKEN}"
)
SETTINGS = {"webhook_url": URL}

LINK_SECTION = {
    "widgets": [
        {
            "buttons": [
                {
                    "textButton": {
                        "text": "VIEW IN AHA!",
                        "onClick": {"openLink": {"url": "https://acme.aha.io/features/LUMEN-17"}},
                    }
                }
            ]
        }
    ]
}


def only_call(mocked_http):
    assert len(mocked_http.calls) == 1
    call = mocked_http.calls[0]
    assert (call.request.method, call.request.url) == ("POST", URL)
    assert call.request.headers["Content-Type"] == "application/json"
    assert "Authorization" not in call.request.headers
    return request_json(call)


def key_value(label, content):
    return {"keyValue": {"topLabel": label, "content": content, "contentMultiline": "true"}}


def test_schema_keeps_the_names_aha_stores():
    assert (
        GoogleHangoutsChat.service_name,
        GoogleHangoutsChat.title,
        GoogleHangoutsChat.category,
    ) == ("google_hangouts_chat", "Google Chat", "Communication")
    assert [(f.type, f.name) for f in GoogleHangoutsChat.schema] == [
        ("string", "webhook_url"),
        ("install_button", "install_button"),
        ("audit_filter", "audit_filter"),
    ]


def test_installed_posts_a_test_message(mocked_http):
    mocked_http.post(URL, status=200, json={"name": "spaces/AAAAq7Lm2Xc/messages/1"})
    GoogleHangoutsChat(SETTINGS).receive("installed")
    assert only_call(mocked_http) == {"text": INSTALLED_TEXT}


def test_an_audit_is_sent_as_a_card_with_one_widget_per_change(mocked_http):
    mocked_http.post(URL, status=200, json={"name": "spaces/AAAAq7Lm2Xc/messages/2"})
    GoogleHangoutsChat(SETTINGS, json_fixture("google_hangouts_chat/audit_event.json")).receive(
        "audit"
    )
    assert only_call(mocked_http) == {
        "cards": [
            {
                "sections": [
                    {
                        "widgets": [
                            {
                                "textParagraph": {
                                    "text": "<b>Tomás Ferreira</b> updated feature LUMEN-17 "
                                    "Billing &amp; usage dashboard"
                                }
                            }
                        ]
                    },
                    {
                        "widgets": [
                            key_value(
                                "Workflow status", "Under consideration &rarr; In development"
                            ),
                            key_value("Score", "42"),
                            key_value(
                                "Description",
                                '<p>Show usage <font color="#9d261d">per month</font>'
                                '<font color="#46a546">per day, with a monthly total</font>.</p>'
                                "<p>Finance asked for it<br>in January.</p>",
                            ),
                        ]
                    },
                    LINK_SECTION,
                ]
            }
        ]
    }


def test_an_audit_without_changes_has_no_update_section(mocked_http):
    mocked_http.post(URL, status=200)
    payload = json_fixture("google_hangouts_chat/idea_vote_event.json")
    GoogleHangoutsChat(SETTINGS, payload).receive("audit")
    sections = only_call(mocked_http)["cards"][0]["sections"]
    assert sections == [
        {
            "widgets": [
                {
                    "textParagraph": {
                        "text": "<b>Tomás Ferreira</b> voted for idea LUMEN-I-204 "
                        "Export usage as CSV"
                    }
                }
            ]
        },
        {
            "widgets": [
                {
                    "buttons": [
                        {
                            "textButton": {
                                "text": "VIEW IN AHA!",
                                "onClick": {
                                    "openLink": {
                                        "url": "https://acme.aha.io/ideas/ideas/LUMEN-I-204"
                                    }
                                },
                            }
                        }
                    ]
                }
            ]
        },
    ]


def test_an_audit_without_a_user_or_a_link_is_by_aha_and_has_no_button(mocked_http):
    mocked_http.post(URL, status=200)
    payload = json_fixture("google_hangouts_chat/idea_vote_event.json")
    payload["audit"].update(user=None, auditable_url=None)
    GoogleHangoutsChat(SETTINGS, payload).receive("audit")
    assert only_call(mocked_http) == {
        "cards": [
            {
                "sections": [
                    {
                        "widgets": [
                            {
                                "textParagraph": {
                                    "text": "<b>Aha!</b> voted for idea LUMEN-I-204 Export usage "
                                    "as CSV"
                                }
                            }
                        ]
                    }
                ]
            }
        ]
    }


def test_an_audit_that_is_not_interesting_is_not_sent(mocked_http):
    payload = json_fixture("google_hangouts_chat/audit_event.json")
    payload["audit"]["interesting"] = False
    GoogleHangoutsChat(SETTINGS, payload).receive("audit")
    GoogleHangoutsChat(SETTINGS, {"event": "audit"}).receive("audit")
    assert len(mocked_http.calls) == 0


@pytest.mark.parametrize(
    ("value", "content"),
    [
        (None, ""),
        (7, "7"),
        (False, "false"),
        ("https://acme.aha.io/features/LUMEN-17", "https://acme.aha.io/features/LUMEN-17"),
        (
            '<div class="deleted">Old plan</div><div class="inserted">New plan</div>',
            '<font color="#9d261d">Old plan</font><font color="#46a546">New plan</font>',
        ),
        ("<p>R&amp;D <em>said</em> yes</p>", "<p>R&amp;D <em>said</em> yes</p>"),
    ],
)
def test_change_values_keep_their_html_with_colours_for_the_change_marks(value, content):
    assert change_colors(value) == content


@pytest.mark.parametrize("status", [200, 201, 204])
def test_every_success_status_is_accepted(mocked_http, status):
    mocked_http.post(URL, status=status)
    GoogleHangoutsChat(SETTINGS).receive("installed")
    assert len(mocked_http.calls) == 1


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (404, "Not Found", "URL is not recognized"),
        (
            400,
            '{"error": {"code": 400, "message": "Invalid JSON payload received.", '
            '"status": "INVALID_ARGUMENT"}}',
            "Unhandled error: STATUS=400 BODY=Invalid JSON payload received.",
        ),
        (
            429,
            '{"message": "Resource has been exhausted"}',
            "Unhandled error: STATUS=429 BODY=Resource has been exhausted",
        ),
        (
            500,
            "<html>Server Error</html>",
            "Unhandled error: STATUS=500 BODY='<html>Server Error</html>'",
        ),
        (202, "", "Unhandled error: STATUS=202 BODY=''"),
    ],
)
def test_refused_messages_become_remote_errors(mocked_http, status, body, message):
    mocked_http.post(URL, status=status, body=body)
    with pytest.raises(RemoteError) as raised:
        GoogleHangoutsChat(SETTINGS, json_fixture("google_hangouts_chat/audit_event.json")).receive(
            "audit"
        )
    assert str(raised.value) == message
    # A 429 is waited out first (services.core.rate_limits), a bounded number of times.
    assert len(mocked_http.calls) == (5 if status == 429 else 1)


def test_a_missing_webhook_url_is_a_configuration_error(mocked_http):
    with pytest.raises(ConfigurationError, match="has not been configured"):
        GoogleHangoutsChat({}).receive("installed")
    assert len(mocked_http.calls) == 0


def test_a_private_webhook_url_is_refused(mocked_http):
    with pytest.raises(InvalidUrlError):
        GoogleHangoutsChat({"webhook_url": "http://169.254.169.254/hook"}).receive("installed")
    assert len(mocked_http.calls) == 0


def test_the_webhook_key_and_token_never_reach_the_log(mocked_http):
    mocked_http.post(URL, status=500, body="failed")
    service = GoogleHangoutsChat(SETTINGS)
    with pytest.raises(RemoteError):
        service.receive("installed")
    logged = " ".join(str(m["message"]) for m in service.logger.messages)
    assert "chat.googleapis.com" in logged
    assert CHAT_KEY not in logged
    assert CHAT_TOKEN not in logged


def test_a_card_larger_than_google_chat_takes_is_cut_with_a_link_to_the_record(mocked_http):
    mocked_http.post(URL, json={"name": "spaces/AAA/messages/1"})
    payload = json_fixture("google_hangouts_chat/audit_event.json")
    description = next(c for c in payload["audit"]["changes"] if c["field_name"] == "Description")
    description["value"] = "<p>" + "Lumen dims the lights at dusk. " * 1_500 + "</p>"
    GoogleHangoutsChat(SETTINGS, payload).receive("audit")
    assert len(mocked_http.calls[0].request.body) <= 32_000
    widgets = only_call(mocked_http)["cards"][0]["sections"][1]["widgets"]
    content = widgets[-1]["keyValue"]["content"]
    assert content.startswith("<p>Lumen dims the lights at dusk.")
    assert content.endswith(
        "… (truncated: the full text is in Aha! https://acme.aha.io/features/LUMEN-17)"
    )
    assert GoogleHangoutsChat.field_limits == {"text": 4_096, "message": 32_000}
