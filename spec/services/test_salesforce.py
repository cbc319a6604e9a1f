import json
from urllib.parse import parse_qs

import pytest

from services.core import ConfigurationError, InvalidUrlError, RemoteError
from services.core.logger import Severity
from services.salesforce import (
    API_DISABLED_ERROR,
    AUTH_ERROR,
    HOST_ERROR,
    NO_PORTAL_ERROR,
    NOT_INSTALLED_ERROR,
    Salesforce,
)
from spec.conftest import json_fixture, request_json

TOKEN_URL = "https://login.salesforce.com/services/oauth2/token"
INSTANCE = "https://northwind-traders.my.salesforce.com"
RESOURCES_URL = f"{INSTANCE}/services/data/v62.0/"
IDENTITY_URL = "https://login.salesforce.com/id/00D8d000004QrStUAB/0058d000001VwXyZAC"
SETTINGS_URL = f"{INSTANCE}/services/apexrest/ahaapp/aha_rest_api/settings"
FRESH_TOKEN = json_fixture("salesforce/token.json")["access_token"]

SETTINGS = {
    "oauth2_token": "00D8d000004QrStU!AQ8AQNstale.access.p3Rt7Yq",
    "oauth2_refresh_token": "5Aep861refresh.Z2f8Kq0LmNo3",
    "consumer_key": "3MVG9consumer.key.ahaapp",
    "consumer_secret": "consumer-secret-7F3A9C21",
    "idea_portal_id": "6789012345",
    "idea_portal_url": "https://ideas.northwind-traders.com",
    "jwt_secret_key": "jwt-secret-b81d4e0f9a",
}
SECRETS = (
    SETTINGS["oauth2_token"],
    SETTINGS["oauth2_refresh_token"],
    SETTINGS["consumer_secret"],
    SETTINGS["jwt_secret_key"],
    FRESH_TOKEN,
)


def settings(user_data, **changes):
    merged = {**user_data, **SETTINGS, **changes}
    return {name: value for name, value in merged.items() if value is not None}


def mock_token(mocked_http, url=TOKEN_URL, **changes):
    mocked_http.post(url, json={**json_fixture("salesforce/token.json"), **changes})


def mock_salesforce(mocked_http, token_url=TOKEN_URL):
    """Token, API resources and identity answer; the settings post answers 200."""
    mock_token(mocked_http, token_url)
    mocked_http.get(RESOURCES_URL, json=json_fixture("salesforce/resources.json"))
    mocked_http.get(IDENTITY_URL, json=json_fixture("salesforce/identity.json"))
    mocked_http.post(SETTINGS_URL, json={"success": True})


def form(call):
    return {name: values[0] for name, values in parse_qs(call.request.body).items()}


def assert_bearer(call, token=FRESH_TOKEN):
    assert call.request.headers["Authorization"] == f"Bearer {token}"


def assert_no_secret_shown(service, error=None):
    shown = json.dumps(service.logger.messages) + str(error or "")
    for secret in SECRETS:
        assert secret not in shown


def test_schema_keeps_the_names_and_options_aha_stores():
    assert [(f.type, f.name, dict(f.options)) for f in Salesforce.schema] == [
        (
            "oauth2_button",
            "oauth2_button",
            {
                "authorize_url": "https://login.salesforce.com/services/oauth2/authorize",
                "token_url": "https://login.salesforce.com/services/oauth2/token",
                "parameters": {"display": "popup", "immediate": "false"},
            },
        ),
        (
            "string",
            "host",
            {
                "description": "The custom host to use for sandbox Salesforce organizations. "
                "Leave this blank if you are not using a sandbox organization."
            },
        ),
        ("internal", "idea_portal_id", {}),
        ("install_button", "install_button", {}),
    ]
    assert (
        Salesforce.service_name,
        Salesforce.title,
        Salesforce.category,
        Salesforce.caption,
    ) == (
        "salesforce",
        "Salesforce",
        "Customer relationship management",
        "Receive ideas from Salesforce",
    )
    assert Salesforce.responds_to_events() == ["installed", "updated"]


def test_installed_refreshes_the_token_checks_it_and_posts_the_portal_settings(
    mocked_http, user_data
):
    mock_salesforce(mocked_http)
    service = Salesforce(settings(user_data))
    service.receive("installed")

    token, resources, identity, posted = mocked_http.calls
    assert (token.request.method, token.request.url) == ("POST", TOKEN_URL)
    assert token.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert "Authorization" not in token.request.headers
    assert form(token) == {
        "grant_type": "refresh_token",
        "refresh_token": SETTINGS["oauth2_refresh_token"],
        "client_id": SETTINGS["consumer_key"],
        "client_secret": SETTINGS["consumer_secret"],
    }
    assert (resources.request.method, resources.request.url) == ("GET", RESOURCES_URL)
    assert resources.request.body is None
    assert_bearer(resources)
    assert (identity.request.method, identity.request.url) == ("GET", IDENTITY_URL)
    assert identity.request.body is None
    assert_bearer(identity)
    assert (posted.request.method, posted.request.url) == ("POST", SETTINGS_URL)
    assert_bearer(posted)
    assert request_json(posted) == {
        "idea_portal_url": "https://ideas.northwind-traders.com",
        "jwt_secret_key": "jwt-secret-b81d4e0f9a",
    }
    for call in mocked_http.calls:
        assert SETTINGS["oauth2_token"] not in str(call.request.headers)
        assert FRESH_TOKEN not in call.request.url
    assert {
        "severity": Severity.INFO,
        "message": "Sent the ideas portal settings to Salesforce",
    } in service.logger.messages
    assert_no_secret_shown(service)


@pytest.mark.parametrize(
    "host", ["test.salesforce.com", "Northwind--UAT.sandbox.my.salesforce.com", "salesforce.com"]
)
def test_a_custom_salesforce_host_receives_the_token_request(mocked_http, user_data, host):
    token_url = f"https://{host.lower()}/services/oauth2/token"
    mock_salesforce(mocked_http, token_url)
    Salesforce(settings(user_data, host=f"  {host} ")).receive("installed")
    assert mocked_http.calls[0].request.url == token_url
    assert [c.request.url for c in mocked_http.calls[1:]] == [
        RESOURCES_URL,
        IDENTITY_URL,
        SETTINGS_URL,
    ]


@pytest.mark.parametrize(
    ("host", "logged"),
    [
        ("https://northwind.my.salesforce.com", "should not include http:// or https://"),
        ("HTTP://test.salesforce.com", "should not include http:// or https://"),
        ("evil.example.com", "should end in salesforce.com"),
        ("salesforce.com.evil.example.com", "should end in salesforce.com"),
        ("evilsalesforce.com", "should end in salesforce.com"),
        ("evil.example.com/test.salesforce.com", "should end in salesforce.com"),
        ("user@test.salesforce.com", "should end in salesforce.com"),
        ("test.salesforce.com:8443", "should end in salesforce.com"),
        ("127.0.0.1:8443", "should end in salesforce.com"),
    ],
)
def test_installed_refuses_a_host_that_is_not_a_bare_salesforce_host(
    mocked_http, user_data, host, logged
):
    service = Salesforce(settings(user_data, host=host))
    with pytest.raises(ConfigurationError) as raised:
        service.receive("installed")
    assert str(raised.value) == HOST_ERROR
    assert len(mocked_http.calls) == 0
    errors = [m["message"] for m in service.logger.messages if m["severity"] == Severity.ERROR]
    assert len(errors) == 1 and logged in errors[0]


def test_updated_logs_a_bad_host_without_failing(mocked_http, user_data):
    bad = Salesforce(settings(user_data, host="https://test.salesforce.com"))
    bad.receive("updated")
    assert {
        "severity": Severity.ERROR,
        "message": "Custom host should not include http:// or https://.",
    } in bad.logger.messages
    good = Salesforce(settings(user_data, host="test.salesforce.com"))
    good.receive("updated")
    assert not [m for m in good.logger.messages if m["severity"] >= Severity.WARN]
    assert len(mocked_http.calls) == 0


def test_a_host_the_operator_allowed_may_be_a_local_fake(mocked_http, user_data, monkeypatch):
    monkeypatch.setenv("AHA_SERVICES_ALLOWED_HOSTS", "127.0.0.1")
    fake = "http://127.0.0.1:8443"
    mocked_http.post(
        f"{fake}/services/oauth2/token",
        json={**json_fixture("salesforce/token.json"), "instance_url": fake},
    )
    mocked_http.get(f"{fake}/services/data/v62.0/", json={"identity": f"{fake}/id/00D8d/0058d"})
    mocked_http.get(f"{fake}/id/00D8d/0058d", json=json_fixture("salesforce/identity.json"))
    mocked_http.post(f"{fake}/services/apexrest/ahaapp/aha_rest_api/settings", json={})
    Salesforce(settings(user_data, host=fake)).receive("installed")
    assert [(c.request.method, c.request.url) for c in mocked_http.calls] == [
        ("POST", f"{fake}/services/oauth2/token"),
        ("GET", f"{fake}/services/data/v62.0/"),
        ("GET", f"{fake}/id/00D8d/0058d"),
        ("POST", f"{fake}/services/apexrest/ahaapp/aha_rest_api/settings"),
    ]
    assert_bearer(mocked_http.calls[3])
    assert request_json(mocked_http.calls[3])["idea_portal_url"] == SETTINGS["idea_portal_url"]


def test_allowed_networks_do_not_let_other_hosts_through(mocked_http, user_data, monkeypatch):
    monkeypatch.setenv("AHA_SERVICES_ALLOWED_HOSTS", "10.0.0.0/8")
    for host in ("evil.example.com", "nowhere.invalid", "http://evil.example.com"):
        with pytest.raises(ConfigurationError, match="ends in salesforce.com"):
            Salesforce(settings(user_data, host=host)).receive("installed")
    assert len(mocked_http.calls) == 0


def test_the_password_grant_is_used_without_an_oauth_token(mocked_http, user_data):
    mock_salesforce(mocked_http)
    data = settings(
        user_data,
        oauth2_token=None,
        oauth2_refresh_token=None,
        username="ops.admin@northwind-traders.com",
        password="hunter2-Salesforce",
        security_token="SecTok9876",
    )
    service = Salesforce(data)
    service.receive("installed")
    assert form(mocked_http.calls[0]) == {
        "grant_type": "password",
        "client_id": SETTINGS["consumer_key"],
        "client_secret": SETTINGS["consumer_secret"],
        "username": "ops.admin@northwind-traders.com",
        "password": "hunter2-SalesforceSecTok9876",
    }
    assert request_json(mocked_http.calls[3])["jwt_secret_key"] == SETTINGS["jwt_secret_key"]
    shown = json.dumps(service.logger.messages)
    assert "hunter2-Salesforce" not in shown and "SecTok9876" not in shown


@pytest.mark.parametrize(
    "missing",
    [
        {"oauth2_refresh_token": None},
        {"consumer_key": None},
        {"consumer_secret": None},
        {"oauth2_token": None},
    ],
)
def test_incomplete_credentials_ask_to_authenticate_without_a_request(
    mocked_http, user_data, missing
):
    service = Salesforce(settings(user_data, **missing))
    with pytest.raises(ConfigurationError) as raised:
        service.receive("installed")
    assert str(raised.value) == AUTH_ERROR
    assert len(mocked_http.calls) == 0
    assert_no_secret_shown(service, raised.value)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, "salesforce/invalid_grant.json"),
        (401, "salesforce/invalid_grant.json"),
        (403, "salesforce/invalid_grant.json"),
    ],
)
def test_a_refused_token_request_asks_to_authenticate_again(mocked_http, user_data, status, body):
    mocked_http.post(TOKEN_URL, status=status, json=json_fixture(body))
    service = Salesforce(settings(user_data))
    with pytest.raises(ConfigurationError) as raised:
        service.receive("installed")
    assert str(raised.value) == AUTH_ERROR
    assert len(mocked_http.calls) == 1
    assert form(mocked_http.calls[0])["grant_type"] == "refresh_token"
    assert any(
        "invalid_grant: expired access/refresh token" in m["message"]
        for m in service.logger.messages
    )
    assert_no_secret_shown(service, raised.value)


def test_a_token_refusal_for_a_disabled_api_says_so(mocked_http, user_data):
    mocked_http.post(TOKEN_URL, status=400, json=json_fixture("salesforce/api_disabled.json"))
    with pytest.raises(ConfigurationError) as raised:
        Salesforce(settings(user_data)).receive("installed")
    assert str(raised.value) == API_DISABLED_ERROR
    assert len(mocked_http.calls) == 1


def test_a_failing_token_endpoint_is_a_remote_error(mocked_http, user_data):
    mocked_http.post(TOKEN_URL, status=503, body="Service Unavailable")
    with pytest.raises(RemoteError, match="Salesforce answered 503 to the token request"):
        Salesforce(settings(user_data)).receive("installed")
    assert [(c.request.method, c.request.url) for c in mocked_http.calls] == [("POST", TOKEN_URL)]


@pytest.mark.parametrize("missing", ["access_token", "instance_url"])
def test_a_token_answer_without_token_or_instance_is_a_remote_error(
    mocked_http, user_data, missing
):
    mock_token(mocked_http, **{missing: None})
    with pytest.raises(RemoteError, match="no access token or instance URL"):
        Salesforce(settings(user_data)).receive("installed")
    assert len(mocked_http.calls) == 1


def test_a_token_answer_that_is_not_json_is_a_remote_error(mocked_http, user_data):
    mocked_http.post(TOKEN_URL, body="<html>maintenance</html>", content_type="text/html")
    with pytest.raises(RemoteError, match="other than a JSON object"):
        Salesforce(settings(user_data)).receive("installed")
    assert len(mocked_http.calls) == 1


def test_an_instance_on_plain_http_never_receives_the_token(mocked_http, user_data):
    mock_token(mocked_http, instance_url="http://northwind-traders.my.salesforce.com")
    with pytest.raises(InvalidUrlError, match="over plain http"):
        Salesforce(settings(user_data)).receive("installed")
    assert [c.request.url for c in mocked_http.calls] == [TOKEN_URL]


def test_a_rejected_session_asks_to_authenticate_again(mocked_http, user_data):
    mock_token(mocked_http)
    mocked_http.get(RESOURCES_URL, status=401, json=json_fixture("salesforce/invalid_session.json"))
    service = Salesforce(settings(user_data))
    with pytest.raises(ConfigurationError) as raised:
        service.receive("installed")
    assert str(raised.value) == AUTH_ERROR
    assert [(c.request.method, c.request.url) for c in mocked_http.calls] == [
        ("POST", TOKEN_URL),
        ("GET", RESOURCES_URL),
    ]
    assert_bearer(mocked_http.calls[1])
    assert_no_secret_shown(service, raised.value)


def test_the_fresh_token_is_redacted_even_when_an_answer_echoes_it(mocked_http, user_data):
    mock_token(mocked_http)
    mocked_http.get(
        RESOURCES_URL,
        status=502,
        body=f"upstream rejected header OAuth {FRESH_TOKEN}",
        content_type="text/plain",
    )
    service = Salesforce(settings(user_data))
    with pytest.raises(RemoteError, match="Salesforce answered 502 to GET") as raised:
        service.receive("installed")
    assert FRESH_TOKEN in mocked_http.calls[1].response.text
    assert any("upstream rejected header" in m["message"] for m in service.logger.messages)
    assert_no_secret_shown(service, raised.value)


def test_a_disabled_rest_api_is_a_configuration_error(mocked_http, user_data):
    mock_token(mocked_http)
    mocked_http.get(RESOURCES_URL, status=403, json=json_fixture("salesforce/api_disabled.json"))
    with pytest.raises(ConfigurationError) as raised:
        Salesforce(settings(user_data)).receive("installed")
    assert str(raised.value) == API_DISABLED_ERROR
    assert [c.request.url for c in mocked_http.calls] == [TOKEN_URL, RESOURCES_URL]


def test_an_api_answer_without_identity_is_a_remote_error(mocked_http, user_data):
    mock_token(mocked_http)
    mocked_http.get(RESOURCES_URL, json={"sobjects": "/services/data/v62.0/sobjects"})
    with pytest.raises(RemoteError, match="names no identity URL"):
        Salesforce(settings(user_data)).receive("installed")
    assert [c.request.url for c in mocked_http.calls] == [TOKEN_URL, RESOURCES_URL]


def test_a_rejected_identity_request_asks_to_authenticate_again(mocked_http, user_data):
    mock_token(mocked_http)
    mocked_http.get(RESOURCES_URL, json=json_fixture("salesforce/resources.json"))
    mocked_http.get(IDENTITY_URL, status=401, body="Bad_OAuth_Token", content_type="text/plain")
    with pytest.raises(ConfigurationError) as raised:
        Salesforce(settings(user_data)).receive("installed")
    assert str(raised.value) == AUTH_ERROR
    assert [c.request.url for c in mocked_http.calls] == [TOKEN_URL, RESOURCES_URL, IDENTITY_URL]
    assert_bearer(mocked_http.calls[2])


def test_no_ideas_portal_is_a_configuration_error_before_the_settings_post(mocked_http, user_data):
    mock_salesforce(mocked_http)
    with pytest.raises(ConfigurationError) as raised:
        Salesforce(settings(user_data, idea_portal_url=None)).receive("installed")
    assert str(raised.value) == NO_PORTAL_ERROR
    assert [c.request.url for c in mocked_http.calls] == [TOKEN_URL, RESOURCES_URL, IDENTITY_URL]


def test_a_missing_settings_endpoint_asks_to_install_the_app(mocked_http, user_data):
    mock_salesforce(mocked_http)
    mocked_http.replace(
        "POST", SETTINGS_URL, status=404, json=json_fixture("salesforce/apex_not_found.json")
    )
    with pytest.raises(ConfigurationError) as raised:
        Salesforce(settings(user_data)).receive("installed")
    assert str(raised.value) == NOT_INSTALLED_ERROR
    assert mocked_http.calls[3].request.url == SETTINGS_URL
    assert request_json(mocked_http.calls[3])["idea_portal_url"] == SETTINGS["idea_portal_url"]


def test_a_failing_settings_endpoint_is_a_remote_error(mocked_http, user_data):
    mock_salesforce(mocked_http)
    mocked_http.replace(
        "POST", SETTINGS_URL, status=500, json=json_fixture("salesforce/apex_exception.json")
    )
    service = Salesforce(settings(user_data))
    with pytest.raises(RemoteError) as raised:
        service.receive("installed")
    assert str(raised.value).startswith(
        f"Salesforce answered 500 to POST {SETTINGS_URL}: APEX_ERROR: System.NullPointerException"
    )
    assert len(mocked_http.calls) == 4
    assert_no_secret_shown(service, raised.value)


def test_a_session_rejected_at_the_settings_post_asks_to_authenticate_again(mocked_http, user_data):
    mock_salesforce(mocked_http)
    mocked_http.replace(
        "POST", SETTINGS_URL, status=401, json=json_fixture("salesforce/invalid_session.json")
    )
    with pytest.raises(ConfigurationError) as raised:
        Salesforce(settings(user_data)).receive("installed")
    assert str(raised.value) == AUTH_ERROR
    assert len(mocked_http.calls) == 4


def test_credentials_are_redacted_from_everything_the_service_logs(user_data):
    service = Salesforce(settings(user_data))
    service.logger.info(" ".join(SECRETS[:4]))
    assert_no_secret_shown(service)


def test_other_events_are_ignored(mocked_http, user_data):
    Salesforce(settings(user_data)).receive("create_feature")
    assert len(mocked_http.calls) == 0


@pytest.mark.parametrize(
    "identity",
    [
        "https://collector.example.com/id/00D8d/0058d",
        "https://salesforce.com.example.com/id/00D8d/0058d",
        "https://login.salesforce.com.example.com/id/00D8d/0058d",
    ],
)
def test_the_token_never_follows_an_identity_url_outside_salesforce(
    mocked_http, user_data, identity
):
    mock_token(mocked_http)
    mocked_http.get(RESOURCES_URL, json={"identity": identity})
    with pytest.raises(RemoteError, match="identity URL outside Salesforce"):
        Salesforce(settings(user_data)).receive("installed")
    assert [c.request.url for c in mocked_http.calls] == [TOKEN_URL, RESOURCES_URL]


def test_the_token_never_goes_to_an_instance_url_outside_salesforce(mocked_http, user_data):
    mock_token(mocked_http, instance_url="https://collector.example.com")
    with pytest.raises(RemoteError, match="instance URL outside Salesforce"):
        Salesforce(settings(user_data)).receive("installed")
    assert [c.request.url for c in mocked_http.calls] == [TOKEN_URL]
