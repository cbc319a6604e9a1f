import pytest

from services.core import ConfigurationError, RemoteError
from services.core.kits.chat import INSTALLED_TEXT, ChatService
from spec.conftest import json_fixture, request_json

URL = "https://chat.example.com/hooks/T1/B2"


class Chatter(ChatService):
    def receive_installed(self):
        self.send_message({"text": INSTALLED_TEXT})

    def receive_audit(self):
        audit = self.interesting_audit()
        if audit:
            self.send_message({"text": f"{self.audit_actor(audit)} {audit.description}"})


def test_chat_services_are_in_the_communication_category():
    assert Chatter.category == "Communication"
    assert ChatService.abstract and not Chatter.abstract


def test_send_message_posts_json_to_the_webhook(mocked_http):
    mocked_http.post(URL, status=200, body="ok")
    Chatter({"webhook_url": URL}).receive("installed")
    call = mocked_http.calls[0]
    assert (call.request.method, call.request.url) == ("POST", URL)
    assert call.request.headers["Content-Type"] == "application/json"
    assert request_json(call) == {"text": INSTALLED_TEXT}


def test_only_interesting_audits_are_sent(mocked_http):
    mocked_http.post(URL)
    payload = json_fixture("audit_event.json")
    Chatter({"webhook_url": URL}, payload).receive("audit")
    assert request_json(mocked_http.calls[0]) == {
        "text": "Maya Okafor updated feature ACME-12 Bulk export of invoices"
    }
    payload["audit"]["interesting"] = False
    Chatter({"webhook_url": URL}, payload).receive("audit")
    assert len(mocked_http.calls) == 1


def test_an_audit_without_a_user_is_by_aha():
    assert ChatService.audit_actor({"user": None}) == "Aha!"
    assert ChatService.audit_actor({"user": {"name": "Ana"}}) == "Ana"


def test_a_missing_url_is_a_configuration_error(mocked_http):
    with pytest.raises(ConfigurationError, match="has not been configured"):
        Chatter({}).receive("installed")
    assert len(mocked_http.calls) == 0


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (404, "Not Found", "URL is not recognized"),
        (400, '{"message": "Bad payload"}', "Unhandled error: STATUS=400 BODY=Bad payload"),
        (400, '{"error": {"message": "No text"}}', "Unhandled error: STATUS=400 BODY=No text"),
        (500, "<html>oops</html>", "Unhandled error: STATUS=500 BODY='<html>oops</html>'"),
    ],
)
def test_refused_messages_are_remote_errors(mocked_http, status, body, message):
    mocked_http.post(URL, status=status, body=body)
    with pytest.raises(RemoteError) as raised:
        Chatter({"webhook_url": URL}).receive("installed")
    assert str(raised.value) == message
