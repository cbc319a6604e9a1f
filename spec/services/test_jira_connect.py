import base64
import hashlib
import hmac
import json

import pytest

from services.core import ConfigurationError
from services.jira import Jira, JiraConnect
from spec.conftest import json_fixture, raw_fixture

SITE = "https://acme.atlassian.net/wiki-free"
API = f"{SITE}/rest/api/2"
SECRET = "connect-shared-secret-7f3a9c"


@pytest.fixture
def settings(user_data):
    return {**user_data, "server_url": SITE, "shared_secret": SECRET, "project": "PAY"}


def decode(token):
    header, body, signature = token.split(".")
    expected = hmac.new(SECRET.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64decode(signature + "==") == expected
    return json.loads(base64.urlsafe_b64decode(body + "=="))


def test_schema_swaps_the_credentials_for_the_connect_secret():
    names = [(f.type, f.name) for f in JiraConnect.schema]
    assert (JiraConnect.service_name, JiraConnect.title) == ("jira_connect", "Jira via Connect")
    assert ("password", "shared_secret") in names and ("string", "app_key") in names
    assert ("string", "username") not in names and ("password", "password") not in names
    jira_names = [n for n in Jira.schema if n.name not in ("username", "password")]
    assert [n for n in JiraConnect.schema if n.name not in ("shared_secret", "app_key")] == (
        jira_names
    )


def test_each_request_carries_a_jwt_bound_to_its_method_path_and_query(
    settings, mocked_http, monkeypatch
):
    monkeypatch.setattr("services.jira.connect.time.time", lambda: 1_800_000_000.4)
    mocked_http.get(f"{API}/field", body="[]")
    mocked_http.get(f"{API}/project/search?startAt=0", json={"values": [], "isLast": True})
    mocked_http.get(f"{API}/resolution", body="[]")
    settings["project"] = ""
    JiraConnect(settings, {}, {}).receive("installed")
    call = mocked_http.calls[1]
    scheme, token = call.request.headers["Authorization"].split(" ")
    assert scheme == "JWT" and "jwt=" not in call.request.url
    claims = decode(token)
    canonical = "GET&/rest/api/2/project/search&startAt=0"
    assert claims == {
        "iss": "io.aha.connect",
        "iat": 1_800_000_000,
        "exp": 1_800_000_180,
        "qsh": hashlib.sha256(canonical.encode()).hexdigest(),
    }
    assert SECRET not in call.request.headers["Authorization"]


def test_the_app_key_setting_is_the_issuer(settings, mocked_http):
    settings["app_key"] = "com.example.aha-bridge"
    mocked_http.get(f"{API}/field", status=500, body="boom")
    with pytest.raises(Exception, match="HTTP 500"):
        JiraConnect(settings, {}, {}).receive("installed")
    token = mocked_http.calls[0].request.headers["Authorization"].split(" ")[1]
    assert decode(token)["iss"] == "com.example.aha-bridge"


@pytest.mark.parametrize(
    "event", ["installed", "create_feature", "update_release", "create_comment", "webhook"]
)
def test_without_the_shared_secret_every_event_says_so_before_any_request(
    settings, mocked_http, event
):
    settings["shared_secret"] = ""
    payload = json_fixture("jira/webhook_issue_updated.json") if event == "webhook" else {}
    with pytest.raises(ConfigurationError, match="shared_secret") as error:
        JiraConnect(settings, payload, {}).receive(event)
    assert "API token" in str(error.value)
    assert len(mocked_http.calls) == 0


def test_a_401_names_the_credentials_without_the_secret(settings, mocked_http):
    mocked_http.get(f"{API}/field", status=401, body=raw_fixture("jira/resolutions.json"))
    service = JiraConnect(settings, {}, {})
    with pytest.raises(ConfigurationError, match="rejected the credentials") as error:
        service.receive("installed")
    assert SECRET not in str(error.value) + str(service.logger.messages)
