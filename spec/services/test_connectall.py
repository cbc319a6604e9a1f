import base64
import json

import pytest
import requests

from services.connectall import Connectall, server_base_url
from services.core import ConfigurationError, InvalidUrlError, MissingSetting, RemoteError
from services.core.events import run_event
from services.core.logger import Severity
from spec.conftest import json_fixture, raw_fixture, request_json

SERVER = "https://connectall.example.com"
PUSH_URL = "https://connectall.example.com:7070/SyncService/push"
PASSWORD = "Wint3r-sync-pa55"
API_KEY = "ca7f+Q2z/9LmX0v=="
ENCODED_API_KEY = "ca7f%2BQ2z%2F9LmX0v%3D%3D"

FEATURE = json_fixture("connectall/feature_event.json")
RELEASE = json_fixture("connectall/release_event.json")
CREATED_FEATURE = raw_fixture("connectall/push_created_feature.json")
CREATED_RELEASE = raw_fixture("connectall/push_created_release.json")
BAD_REQUEST = raw_fixture("connectall/push_bad_request.json")
SERVER_ERROR = raw_fixture("connectall/push_server_error.json")

EVENTS = [
    ("create_feature", FEATURE, "PROD-2", CREATED_FEATURE),
    ("update_feature", FEATURE, "PROD-2", CREATED_FEATURE),
    ("create_release", RELEASE, "PROD-R-1", CREATED_RELEASE),
    ("update_release", RELEASE, "PROD-R-1", CREATED_RELEASE),
]


def basic_settings(user_data, **overrides):
    return {
        **user_data,
        "server_url": SERVER,
        "app_link_name": "AhaFeaturesToJira",
        "origin": "source",
        "auth_method": "basic",
        "username": "aha-sync",
        "password": PASSWORD,
        **overrides,
    }


def api_key_settings(user_data, **overrides):
    return {
        **user_data,
        "server_url": SERVER,
        "app_link_name": "AhaFeaturesToJira",
        "origin": "destination",
        "auth_method": "api_key",
        "api_key": API_KEY,
        **overrides,
    }


def basic_auth(call):
    scheme, _, encoded = call.request.headers["Authorization"].partition(" ")
    assert scheme == "Basic"
    return base64.b64decode(encoded).decode()


def answer(mocked_http, url, status, body):
    mocked_http.post(url, status=status, body=body, content_type="application/json")


def all_text(service, error=None):
    lines = [str(m["message"]) for m in service.logger.messages]
    return "\n".join(lines + ([str(error.value)] if error else []))


def test_schema_keeps_the_names_aha_stores():
    assert [(f.type, f.name) for f in Connectall.schema] == [
        ("string", "server_url"),
        ("string", "app_link_name"),
        ("select", "origin"),
        ("string", "project"),
        ("select", "auth_method"),
        ("string", "username"),
        ("password", "password"),
        ("password", "api_key"),
        ("install_button", "install_button"),
    ]
    origins = Connectall.field_by_name("origin").options["collection"]
    methods = Connectall.field_by_name("auth_method").options["collection"]
    assert [value for _, value in origins] == ["source", "destination"]
    assert [value for _, value in methods] == ["basic", "api_key"]
    assert (Connectall.service_name, Connectall.title) == ("connectall", "ConnectALL")
    assert "7070" in Connectall.field_by_name("server_url").options["description"]


def test_both_credentials_are_secret_values():
    data = {"password": PASSWORD, "api_key": API_KEY, "username": "aha-sync"}
    assert set(Connectall.secret_values(data)) == {PASSWORD, API_KEY}


@pytest.mark.parametrize(("event", "payload", "reference", "created"), EVENTS)
def test_basic_auth_posts_the_reference_number_as_json(
    mocked_http, user_data, event, payload, reference, created
):
    answer(mocked_http, PUSH_URL, 201, created)
    service = Connectall(basic_settings(user_data), payload)
    service.receive(event)
    assert len(mocked_http.calls) == 1
    call = mocked_http.calls[0]
    assert call.request.method == "POST"
    assert call.request.url == PUSH_URL
    assert call.request.headers["Content-Type"] == "application/json"
    assert call.request.headers["Accept"] == "application/json"
    assert basic_auth(call) == f"aha-sync:{PASSWORD}"
    assert request_json(call) == {
        "appLinkName": "AhaFeaturesToJira",
        "origin": "source",
        "id": reference,
    }
    success = json.loads(created)["Message"].strip()
    assert {"severity": Severity.INFO, "message": f"ConnectALL: {success}"} in (
        service.logger.messages
    )
    assert PASSWORD not in all_text(service)


def test_a_project_is_added_to_the_body(mocked_http, user_data):
    answer(mocked_http, PUSH_URL, 201, CREATED_FEATURE)
    Connectall(basic_settings(user_data, project="Field Service"), FEATURE).receive(
        "update_feature"
    )
    assert request_json(mocked_http.calls[0]) == {
        "appLinkName": "AhaFeaturesToJira",
        "origin": "source",
        "id": "PROD-2",
        "project": "Field Service",
    }


@pytest.mark.parametrize(("event", "payload", "reference", "created"), [EVENTS[0], EVENTS[3]])
def test_the_api_key_method_uses_the_query_string_variant(
    mocked_http, user_data, event, payload, reference, created
):
    url = f"{PUSH_URL}/AhaFeaturesToJira/destination/{reference}"
    answer(mocked_http, url, 201, created)
    service = Connectall(api_key_settings(user_data), payload)
    service.receive(event)
    assert len(mocked_http.calls) == 1
    call = mocked_http.calls[0]
    assert call.request.method == "POST"
    assert call.request.url == f"{url}?apikey={ENCODED_API_KEY}"
    assert call.request.body is None
    assert "Authorization" not in call.request.headers
    success = json.loads(created)["Message"].strip()
    assert {"severity": Severity.INFO, "message": f"ConnectALL: {success}"} in (
        service.logger.messages
    )


def test_the_api_key_never_appears_in_a_log_line(mocked_http, user_data):
    url = f"{PUSH_URL}/AhaFeaturesToJira/destination/PROD-2"
    answer(mocked_http, url, 201, CREATED_FEATURE)
    service = Connectall(api_key_settings(user_data), FEATURE)
    service.receive("update_feature")
    logged = all_text(service)
    # The HTTP client logs the URL it sent: the query parameter is filtered by its name.
    assert f"POST {url}?apikey=[FILTERED] -- " in logged
    assert API_KEY not in logged and ENCODED_API_KEY not in logged
    assert "ca7f" not in logged


def test_path_segments_are_url_encoded_and_the_project_comes_before_the_id(mocked_http, user_data):
    settings = api_key_settings(user_data, app_link_name="Aha to Jira/Req", project="Mobile & Web")
    url = f"{PUSH_URL}/Aha%20to%20Jira%2FReq/destination/Mobile%20%26%20Web/PROD-2"
    answer(mocked_http, url, 201, CREATED_FEATURE)
    Connectall(settings, FEATURE).receive("create_feature")
    assert mocked_http.calls[0].request.url == f"{url}?apikey={ENCODED_API_KEY}"


def test_a_400_is_a_configuration_error_with_connectalls_message(mocked_http, user_data):
    answer(mocked_http, PUSH_URL, 400, BAD_REQUEST)
    with pytest.raises(ConfigurationError) as error:
        Connectall(basic_settings(user_data), FEATURE).receive("update_feature")
    assert str(error.value) == (
        "ConnectALL refused PROD-2: Application link AhaFeaturesToJira is not enabled "
        "for PUSH synchronization"
    )


def test_a_400_that_quotes_the_api_key_is_redacted(mocked_http, user_data):
    url = f"{PUSH_URL}/AhaFeaturesToJira/destination/PROD-2"
    body = {"Response": "Error", "Message": f"API key {API_KEY} is not valid"}
    answer(mocked_http, url, 400, json.dumps(body))
    service = Connectall(api_key_settings(user_data), FEATURE)
    with pytest.raises(ConfigurationError) as error:
        service.receive("update_feature")
    assert str(error.value) == "ConnectALL refused PROD-2: API key [FILTERED] is not valid"
    assert API_KEY not in all_text(service, error)


def test_a_201_without_a_message_still_logs_the_push(mocked_http, user_data):
    mocked_http.post(PUSH_URL, status=201, body="")
    service = Connectall(basic_settings(user_data), RELEASE)
    service.receive("create_release")
    assert {"severity": Severity.INFO, "message": "ConnectALL queued PROD-R-1"} in (
        service.logger.messages
    )


def test_a_400_without_json_quotes_the_body(mocked_http, user_data):
    mocked_http.post(PUSH_URL, status=400, body="Invalid origin", content_type="text/plain")
    with pytest.raises(ConfigurationError, match=r"^ConnectALL refused PROD-2: Invalid origin$"):
        Connectall(basic_settings(user_data), FEATURE).receive("create_feature")


def test_a_500_is_a_remote_error_with_status_and_body(mocked_http, user_data):
    answer(mocked_http, PUSH_URL, 500, SERVER_ERROR)
    with pytest.raises(RemoteError) as error:
        Connectall(basic_settings(user_data), RELEASE).receive("update_release")
    assert str(error.value) == f"ConnectALL answered HTTP 500 for PROD-R-1: {SERVER_ERROR.strip()}"


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (401, "", "ConnectALL answered HTTP 401 (check the credentials) for PROD-2: (empty body)"),
        (
            200,
            "<html>Sign in</html>",
            "ConnectALL answered HTTP 200 for PROD-2: <html>Sign in</html>",
        ),
        (404, "Not Found", "ConnectALL answered HTTP 404 for PROD-2: Not Found"),
    ],
)
def test_any_other_status_is_a_remote_error(mocked_http, user_data, status, body, expected):
    mocked_http.post(PUSH_URL, status=status, body=body, content_type="text/html")
    with pytest.raises(RemoteError) as error:
        Connectall(basic_settings(user_data), FEATURE).receive("create_feature")
    assert str(error.value) == expected


def test_a_long_error_body_is_shortened(mocked_http, user_data):
    mocked_http.post(PUSH_URL, status=502, body="x" * 2000, content_type="text/plain")
    with pytest.raises(RemoteError) as error:
        Connectall(basic_settings(user_data), FEATURE).receive("create_feature")
    assert str(error.value) == "ConnectALL answered HTTP 502 for PROD-2: " + "x" * 500 + "..."


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"server_url": ""}, r"Server URL \(server_url\)"),
        ({"app_link_name": "  "}, r"App link name \(app_link_name\)"),
        ({"origin": ""}, r"Origin \(origin\) to source or destination$"),
        ({"origin": "left"}, r"Origin \(origin\) to source or destination, not 'left'"),
        ({"auth_method": "oauth"}, r"basic or api_key, not 'oauth'"),
        ({"username": ""}, r"needs the username$"),
        ({"password": ""}, r"needs the password$"),
        ({"username": None, "password": None}, r"needs the username and password"),
        ({"auth_method": "api_key"}, r"API key method needs the API key \(api_key\)"),
        ({"server_url": "connectall.example.com"}, r"needs a scheme: start it with https://"),
        ({"server_url": "ftp://connectall.example.com"}, r"https:// \(or http://\), not ftp://"),
    ],
)
def test_a_missing_or_wrong_setting_names_it_and_sends_nothing(
    mocked_http, user_data, overrides, message
):
    with pytest.raises(ConfigurationError, match=message):
        Connectall(basic_settings(user_data, **overrides), FEATURE).receive("create_feature")
    assert len(mocked_http.calls) == 0


@pytest.mark.parametrize("payload", [{}, {"feature": None}, {"feature": {"reference_num": ""}}])
def test_a_payload_without_a_reference_number_sends_nothing(mocked_http, user_data, payload):
    with pytest.raises(ConfigurationError, match=r"payload\.feature\.reference_num"):
        Connectall(basic_settings(user_data), payload).receive("update_feature")
    assert len(mocked_http.calls) == 0


@pytest.mark.parametrize(
    ("server_url", "base"),
    [
        ("https://connectall.example.com", "https://connectall.example.com:7070"),
        (" https://connectall.example.com/ ", "https://connectall.example.com:7070"),
        ("https://connectall.example.com:", "https://connectall.example.com:7070"),
        ("HTTPS://connectall.example.com:8443/", "https://connectall.example.com:8443"),
        ("https://connectall.example.com:443", "https://connectall.example.com:443"),
        ("https://gateway.example.com/connectall/", "https://gateway.example.com:7070/connectall"),
        ("http://[2001:db8::7]", "http://[2001:db8::7]:7070"),
    ],
)
def test_the_server_url_gets_port_7070_when_it_has_none(server_url, base):
    assert server_base_url(server_url) == base


@pytest.mark.parametrize(
    ("server_url", "message"),
    [
        ("https://", "has no host name"),
        ("https://connectall.example.com:port", "is not a valid URL"),
        ("https://admin:Wint3r-sync-pa55@connectall.example.com", "must not contain credentials"),
        ("https://connectall.example.com/?apikey=1", "must not contain a query"),
        ("mailto:ops@example.com", "needs a scheme"),
    ],
)
def test_a_malformed_server_url_is_refused_clearly(server_url, message):
    with pytest.raises(ConfigurationError, match=message) as error:
        server_base_url(server_url)
    assert PASSWORD not in str(error.value)


def test_basic_auth_over_plain_http_is_refused(mocked_http, user_data):
    settings = basic_settings(user_data, server_url="http://connectall.example.com")
    with pytest.raises(InvalidUrlError, match="over plain http"):
        Connectall(settings, FEATURE).receive("update_feature")
    assert len(mocked_http.calls) == 0


def test_an_api_key_over_plain_http_is_refused_too(mocked_http, user_data):
    service = Connectall(
        api_key_settings(user_data, server_url="http://connectall.example.com"), FEATURE
    )
    with pytest.raises(InvalidUrlError, match="over plain http") as error:
        service.receive("update_feature")
    assert len(mocked_http.calls) == 0
    assert API_KEY not in all_text(service, error) and ENCODED_API_KEY not in all_text(service)


def test_an_api_key_push_redirected_to_plain_http_is_not_followed(mocked_http, user_data):
    url = f"{PUSH_URL}/AhaFeaturesToJira/destination/PROD-2"
    downgraded = url.replace("https://", "http://")
    mocked_http.post(url, status=301, headers={"Location": f"{downgraded}?apikey={API_KEY}"})
    mocked_http.post(downgraded, status=201, body=CREATED_FEATURE)
    service = Connectall(api_key_settings(user_data), FEATURE)
    with pytest.raises(InvalidUrlError, match="over plain http") as error:
        service.receive("update_feature")
    assert [(c.request.method, c.request.url) for c in mocked_http.calls] == [
        ("POST", f"{url}?apikey={ENCODED_API_KEY}")
    ]
    assert f"moved (301) to {downgraded}?apikey=[FILTERED]" in str(error.value)
    assert API_KEY not in all_text(service, error) and ENCODED_API_KEY not in all_text(service)


@pytest.mark.parametrize("settings", [basic_settings, api_key_settings])
def test_plain_http_to_an_allowed_local_connectall_is_sent(
    mocked_http, user_data, monkeypatch, settings
):
    monkeypatch.setenv("AHA_SERVICES_ALLOWED_HOSTS", "127.0.0.1")
    base = "http://127.0.0.1:7070/SyncService/push"
    mocked_http.post(base, status=201, body=CREATED_FEATURE)
    mocked_http.post(f"{base}/AhaFeaturesToJira/destination/PROD-2", status=201)
    Connectall(settings(user_data, server_url="http://127.0.0.1"), FEATURE).receive(
        "create_feature"
    )
    assert len(mocked_http.calls) == 1
    assert mocked_http.calls[0].request.url.startswith(base)


def test_a_connectall_on_a_private_address_is_refused(mocked_http, user_data):
    settings = basic_settings(user_data, server_url="https://intranet.example.com")
    with pytest.raises(InvalidUrlError, match="not a public address"):
        Connectall(settings, FEATURE).receive("create_feature")
    assert len(mocked_http.calls) == 0


def test_a_transport_error_that_quotes_the_url_is_redacted(mocked_http, user_data):
    url = f"{PUSH_URL}/AhaFeaturesToJira/destination/PROD-2"
    failure = requests.exceptions.ConnectionError(
        f"Max retries exceeded with url: /SyncService/push/AhaFeaturesToJira/destination/"
        f"PROD-2?apikey={ENCODED_API_KEY} (Caused by NewConnectionError: refused)"
    )
    mocked_http.post(url, body=failure)
    service = Connectall(api_key_settings(user_data), FEATURE)
    with pytest.raises(ConfigurationError) as error:
        service.receive("update_feature")
    assert str(error.value).startswith("Could not connect to connectall.example.com")
    assert "?apikey=[FILTERED] (Caused by" in str(error.value)
    assert ENCODED_API_KEY not in all_text(service, error) and API_KEY not in all_text(service)


def test_the_password_can_come_from_the_environment(mocked_http, user_data, monkeypatch):
    monkeypatch.setenv("CONNECTALL_PASSWORD", "fr0m-the-envir0nment")
    answer(mocked_http, PUSH_URL, 201, CREATED_FEATURE)
    service = Connectall(basic_settings(user_data, password="${CONNECTALL_PASSWORD}"), FEATURE)
    service.receive("update_feature")
    assert basic_auth(mocked_http.calls[0]) == "aha-sync:fr0m-the-envir0nment"
    assert "fr0m-the-envir0nment" not in all_text(service)


def test_a_missing_environment_variable_is_named(mocked_http, user_data, monkeypatch):
    monkeypatch.delenv("CONNECTALL_PASSWORD", raising=False)
    settings = basic_settings(user_data, password="${CONNECTALL_PASSWORD}")
    with pytest.raises(MissingSetting, match="CONNECTALL_PASSWORD is not set"):
        Connectall(settings, FEATURE).receive("update_feature")
    assert len(mocked_http.calls) == 0


@pytest.mark.parametrize(
    ("credentials", "expected_url"),
    [
        (
            {"api_key": API_KEY},
            f"{PUSH_URL}/AhaFeaturesToJira/source/PROD-2?apikey={ENCODED_API_KEY}",
        ),
        ({"username": "aha-sync", "password": PASSWORD}, PUSH_URL),
    ],
)
def test_without_a_chosen_method_the_credentials_given_decide(
    mocked_http, user_data, credentials, expected_url
):
    mocked_http.post(PUSH_URL, status=201)
    mocked_http.post(f"{PUSH_URL}/AhaFeaturesToJira/source/PROD-2", status=201)
    data = {
        **user_data,
        "server_url": SERVER,
        "app_link_name": "AhaFeaturesToJira",
        "origin": "Source",
        **credentials,
    }
    Connectall(data, FEATURE).receive("create_feature")
    assert mocked_http.calls[0].request.url == expected_url


def test_the_proxy_answer_never_shows_the_api_key(mocked_http, user_data):
    url = f"{PUSH_URL}/AhaFeaturesToJira/destination/PROD-R-1"
    answer(mocked_http, url, 500, SERVER_ERROR)
    result = run_event(
        Connectall, "update_release", user_data=api_key_settings(user_data), payload=RELEASE
    )
    assert result["exception"]["exception_class"] == "RemoteError"
    assert "HTTP 500 for PROD-R-1" in result["exception"]["message"]
    wire = json.dumps(result)
    assert API_KEY not in wire and ENCODED_API_KEY not in wire


def test_installed_checks_that_connectall_answers_without_pushing(mocked_http, user_data):
    mocked_http.get(PUSH_URL, status=405, body="Method Not Allowed")
    service = Connectall(basic_settings(user_data))
    service.receive("installed")
    assert len(mocked_http.calls) == 1
    call = mocked_http.calls[0]
    assert (call.request.method, call.request.url) == ("GET", PUSH_URL)
    assert "Authorization" not in call.request.headers
    assert {
        "severity": Severity.INFO,
        "message": "ConnectALL at https://connectall.example.com:7070 is reachable (HTTP 405 "
        "to GET /SyncService/push). Credentials and the application link are checked by "
        "ConnectALL when the first feature or release is pushed.",
    } in service.logger.messages


def test_installed_reports_an_unreachable_server(mocked_http, user_data):
    mocked_http.get(PUSH_URL, body=requests.exceptions.ConnectionError("refused"))
    with pytest.raises(ConfigurationError, match="Could not connect to connectall.example.com"):
        Connectall(basic_settings(user_data)).receive("installed")


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"app_link_name": ""}, ConfigurationError),
        ({"server_url": "http://connectall.example.com"}, InvalidUrlError),
    ],
)
def test_installed_refuses_what_every_push_would_refuse(mocked_http, user_data, overrides, error):
    with pytest.raises(error):
        Connectall(api_key_settings(user_data, **overrides)).receive("installed")
    assert len(mocked_http.calls) == 0


def test_other_events_are_ignored(mocked_http, user_data):
    Connectall(basic_settings(user_data), FEATURE).receive("create_requirement")
    assert len(mocked_http.calls) == 0
    assert Connectall.responds_to_events() == [
        "create_feature",
        "create_release",
        "installed",
        "update_feature",
        "update_release",
    ]
