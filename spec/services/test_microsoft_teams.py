import pytest

from services.core import ConfigurationError, InvalidUrlError, RemoteError
from services.core.kits.chat import INSTALLED_TEXT
from services.microsoft_teams import MicrosoftTeams, teams_markdown
from spec.conftest import json_fixture, request_json

CONNECTOR_URL = (
    "https://contoso.webhook.office.com/webhookb2/3f1c9a52-7d2e-4c1b-9a0e-5b6d7c8e9f01"
    "/IncomingWebhook/b5e7d0c4a1f2/6c2d8e4f-0a1b-4c3d-8e9f-7a6b5c4d3e2f"
)
SIGNATURE = "mQ7xL2pV9rT4wZ8kB3nC6yH1dF5gJ0sA"
WORKFLOW_URL = (
    "https://prod-31.westeurope.logic.azure.com/workflows/8d0f3c2b1a4e/triggers/manual/paths/"
    f"invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={SIGNATURE}"
)
CONNECTOR = {"webhook_url": CONNECTOR_URL, "integration_method": "connector"}
WORKFLOW = {"webhook_url": WORKFLOW_URL, "integration_method": "workflow"}

TITLE = "Priya Raman updated feature ORBIT-88 Offline mode for field technicians"
TIME = "2026-03-17  4:05 pm"
RECORD_URL = "https://acme.aha.io/features/ORBIT-88"
DESCRIPTION_MARKDOWN = (
    "Technicians must keep working ~~when the signal drops~~"
    "**without any signal for a full shift**.\n\nSync on reconnect."
)
TABLE_MARKDOWN = "| Region | Wave |\n| --- | --- |\n| Nordics | 1 |\n| Iberia | 2 |"
CHANGES = [
    ("Workflow status", "In design &rarr; Ready to develop"),
    ("Original estimate", "13"),
    ("Description", DESCRIPTION_MARKDOWN),
    ("Rollout plan", TABLE_MARKDOWN),
]
ADAPTIVE_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"


def audit_payload():
    return json_fixture("microsoft_teams/audit_event.json")


def only_call(mocked_http, url):
    assert len(mocked_http.calls) == 1
    call = mocked_http.calls[0]
    assert (call.request.method, call.request.url) == ("POST", url)
    assert call.request.headers["Content-Type"] == "application/json"
    assert "Authorization" not in call.request.headers
    return request_json(call)


def test_schema_keeps_the_names_aha_stores():
    assert (MicrosoftTeams.service_name, MicrosoftTeams.title, MicrosoftTeams.category) == (
        "microsoft_teams",
        "Microsoft Teams",
        "Communication",
    )
    assert [(f.type, f.name) for f in MicrosoftTeams.schema] == [
        ("string", "webhook_url"),
        ("select", "integration_method"),
        ("install_button", "install_button"),
        ("audit_filter", "audit_filter"),
    ]
    method = MicrosoftTeams.field_by_name("integration_method")
    assert method.options["collection"] == [
        ["Use connector", "connector"],
        ["Use workflow", "workflow"],
    ]
    assert "August 15, 2024" in method.options["description"]


def test_installed_posts_a_text_message_to_a_connector(mocked_http):
    mocked_http.post(CONNECTOR_URL, status=200, body="1")
    MicrosoftTeams(CONNECTOR).receive("installed")
    assert only_call(mocked_http, CONNECTOR_URL) == {"text": INSTALLED_TEXT}


def test_installed_without_a_method_uses_the_connector_message(mocked_http):
    mocked_http.post(CONNECTOR_URL, status=200)
    MicrosoftTeams({"webhook_url": CONNECTOR_URL}).receive("installed")
    assert only_call(mocked_http, CONNECTOR_URL) == {"text": INSTALLED_TEXT}


def test_installed_posts_an_adaptive_card_to_a_workflow(mocked_http):
    mocked_http.post(WORKFLOW_URL, status=202)
    MicrosoftTeams(WORKFLOW).receive("installed")
    assert only_call(mocked_http, WORKFLOW_URL) == {
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": ADAPTIVE_SCHEMA,
                    "type": "AdaptiveCard",
                    "version": "1.2",
                    "body": [
                        {
                            "type": "TextBlock",
                            "text": "Aha! integration installed",
                            "weight": "bolder",
                            "size": "medium",
                            "wrap": True,
                            "style": "heading",
                        },
                        {
                            "type": "TextBlock",
                            "text": INSTALLED_TEXT,
                            "weight": "lighter",
                            "size": "small",
                            "wrap": True,
                        },
                    ],
                },
            }
        ]
    }


def test_an_audit_goes_to_a_connector_as_a_message_card(mocked_http):
    mocked_http.post(CONNECTOR_URL, status=200, body="1")
    MicrosoftTeams(CONNECTOR, audit_payload()).receive("audit")
    assert only_call(mocked_http, CONNECTOR_URL) == {
        "@type": "MessageCard",
        "@context": "http://schema.org/extensions",
        "themeColor": "0073CF",
        "Summary": TITLE,
        "sections": [
            {
                "activityTitle": TITLE,
                "activitySubtitle": TIME,
                "facts": [{"name": name, "value": value} for name, value in CHANGES],
                "markdown": True,
            }
        ],
        "potentialAction": [
            {
                "@type": "OpenUri",
                "name": "View in Aha!",
                "targets": [{"os": "default", "uri": RECORD_URL}],
            }
        ],
    }


def test_an_audit_goes_to_a_workflow_as_an_adaptive_card(mocked_http):
    mocked_http.post(WORKFLOW_URL, status=202)
    MicrosoftTeams(WORKFLOW, audit_payload()).receive("audit")
    assert only_call(mocked_http, WORKFLOW_URL) == {
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": ADAPTIVE_SCHEMA,
                    "type": "AdaptiveCard",
                    "version": "1.2",
                    "body": [
                        {
                            "type": "TextBlock",
                            "text": TITLE,
                            "weight": "bolder",
                            "size": "medium",
                            "wrap": True,
                            "style": "heading",
                        },
                        {
                            "type": "TextBlock",
                            "text": TIME,
                            "weight": "lighter",
                            "size": "small",
                            "wrap": True,
                        },
                        {
                            "type": "FactSet",
                            "facts": [{"title": name, "value": value} for name, value in CHANGES],
                        },
                    ],
                    "actions": [
                        {"type": "Action.OpenUrl", "title": "View in Aha!", "url": RECORD_URL}
                    ],
                },
            }
        ]
    }


def test_an_audit_without_user_changes_or_link_is_by_aha_and_has_no_button(mocked_http):
    payload = audit_payload()
    payload["audit"].update(user=None, changes=[], auditable_url=None)
    mocked_http.post(WORKFLOW_URL, status=202)
    mocked_http.post(CONNECTOR_URL, status=200)
    MicrosoftTeams(WORKFLOW, payload).receive("audit")
    MicrosoftTeams(CONNECTOR, payload).receive("audit")
    card = request_json(mocked_http.calls[0])["attachments"][0]["content"]
    assert (
        card["body"][0]["text"]
        == "Aha! updated feature ORBIT-88 Offline mode for field technicians"
    )
    assert card["body"][2] == {"type": "FactSet", "facts": []}
    assert "actions" not in card
    message = request_json(mocked_http.calls[1])
    assert message["Summary"] == "Aha! updated feature ORBIT-88 Offline mode for field technicians"
    assert message["sections"][0]["facts"] == []
    assert "potentialAction" not in message


def test_an_audit_that_is_not_interesting_is_not_sent(mocked_http):
    payload = audit_payload()
    payload["audit"]["interesting"] = False
    MicrosoftTeams(CONNECTOR, payload).receive("audit")
    MicrosoftTeams(WORKFLOW, {"event": "audit"}).receive("audit")
    assert len(mocked_http.calls) == 0


@pytest.mark.parametrize(
    ("value", "text"),
    [(5, "5"), (2.5, "2.5"), (None, ""), (True, "true"), ("Plain & simple", "Plain & simple")],
)
def test_values_are_always_sent_as_text(value, text):
    assert teams_markdown(value) == text


def test_only_the_change_marks_stand_out_in_converted_html():
    html = (
        '<div>Keep <b>this</b> and <strike>that</strike> plain; <span class="deleted">old</span> '
        '<span class="inserted">new</span> <font color="#D50000">red</font></div>'
        "<ul><li>one</li><li>two</li></ul>"
    )
    assert teams_markdown(html) == "Keep this and that plain; ~~old~~ **new** red\n\n* one\n* two"


def test_nothing_inside_a_typed_code_span_is_escaped():
    html = "<p>Call `method_name*` here, not *this*</p><ul><li>Use `a_*b*`</li></ul>"
    assert teams_markdown(html) == "Call `method_name*` here, not \\*this\\*\n\n* Use `a_*b*`"


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_every_success_status_is_accepted(mocked_http, status):
    mocked_http.post(CONNECTOR_URL, status=status)
    MicrosoftTeams(CONNECTOR).receive("installed")
    assert len(mocked_http.calls) == 1


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (
            400,
            "Webhook Bad Request - Null or empty event",
            "Please use the Microsoft Teams Webhook connector (not the Aha! connector) "
            "for this integration.",
        ),
        (400, "Connector configuration not found", "The connector configuration was not found"),
        (404, "Not Found", "URL is not recognized"),
        (
            500,
            '{"message": "Card is too large"}',
            "Unhandled error: STATUS=500 BODY=Card is too large",
        ),
        (
            400,
            '{"error": {"code": "InvalidRequestContent", "message": "Bad card"}}',
            "Unhandled error: STATUS=400 BODY=Bad card",
        ),
        (502, "upstream down", "Unhandled error: STATUS=502 BODY='upstream down'"),
    ],
)
def test_refused_messages_become_clear_remote_errors(mocked_http, status, body, message):
    mocked_http.post(CONNECTOR_URL, status=status, body=body)
    with pytest.raises(RemoteError) as raised:
        MicrosoftTeams(CONNECTOR, audit_payload()).receive("audit")
    assert str(raised.value) == message
    assert len(mocked_http.calls) == 1


def test_a_missing_webhook_url_is_a_configuration_error(mocked_http):
    with pytest.raises(ConfigurationError, match="has not been configured"):
        MicrosoftTeams({"integration_method": "workflow"}).receive("installed")
    assert len(mocked_http.calls) == 0


def test_a_private_webhook_url_is_refused(mocked_http):
    with pytest.raises(InvalidUrlError):
        MicrosoftTeams({"webhook_url": "https://intranet.example.com/hook"}).receive("installed")
    assert len(mocked_http.calls) == 0


def test_the_workflow_signature_never_reaches_the_log(mocked_http):
    mocked_http.post(WORKFLOW_URL, status=400, body="rejected")
    service = MicrosoftTeams(WORKFLOW)
    with pytest.raises(RemoteError):
        service.receive("installed")
    logged = " ".join(str(m["message"]) for m in service.logger.messages)
    assert "logic.azure.com" in logged
    assert SIGNATURE not in logged


@pytest.mark.parametrize(
    ("settings", "url"), [(CONNECTOR, CONNECTOR_URL), (WORKFLOW, WORKFLOW_URL)]
)
def test_a_card_larger_than_teams_takes_is_cut_with_a_link_to_the_record(
    mocked_http, settings, url
):
    mocked_http.post(url, body="1")
    payload = audit_payload()
    description = next(c for c in payload["audit"]["changes"] if c["field_name"] == "Description")
    description["value"] = "Technicians must keep working offline. " * 1_500
    MicrosoftTeams(settings, payload).receive("audit")
    assert len(mocked_http.calls[0].request.body) <= 28_000
    card = only_call(mocked_http, url)
    if settings is CONNECTOR:
        facts = card["sections"][0]["facts"]
    else:
        facts = card["attachments"][0]["content"]["body"][2]["facts"]
    value = facts[2]["value"]
    assert value.startswith("Technicians must keep working offline.")
    assert value.endswith(f"… (truncated: the full text is in Aha! {RECORD_URL})")
    assert MicrosoftTeams.field_limits == {"message": 28_000}
