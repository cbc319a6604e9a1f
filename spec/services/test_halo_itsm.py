import json
from urllib.parse import parse_qs

import pytest

from proxy.app import create_app
from services.core import ConfigurationError, InvalidUrlError, MissingSetting, RemoteError
from services.core.events import run_event
from services.core.logger import Severity
from services.core.registry import Registry
from services.halo_itsm import HaloItsm
from services.halo_itsm.auth import forget_tokens
from services.halo_itsm.service import ticket_types
from spec.conftest import json_fixture, request_json

BASE = "https://acme.haloitsm.com"
TOKEN_URL = f"{BASE}/auth/token"
API = f"{BASE}/api"
AHA = "https://acme.aha.io/api/v1"
CLIENT_SECRET = "halo-client-secret-8c2e41"
AGENT_PASSWORD = "halo-agent-password-55aa"
TOKEN = "halo-access-token-0001"
SECOND_TOKEN = "halo-access-token-0002"
HALO_VARIABLES = (
    "HALO_BASE_URI",
    "HALO_CLIENT_ID",
    "HALO_CLIENT_SECRET",
    "HALO_USERNAME",
    "HALO_PASSWORD",
    "HALO_SCOPES",
    "HALO_TENANT",
)


@pytest.fixture(autouse=True)
def fresh_tokens(monkeypatch):
    for name in HALO_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    forget_tokens()
    yield
    forget_tokens()


def settings(user_data, **overrides):
    return {
        **user_data,
        "base_uri": BASE,
        "auth_type": "client_credentials",
        "client_id": "aha-connector",
        "client_secret": CLIENT_SECRET,
        "tenant": "acme",
        "ticket_type": "21",
        **overrides,
    }


def token_answer(mocked_http, token=TOKEN, expires_in=3600):
    body = {"access_token": token, "token_type": "Bearer", "expires_in": expires_in}
    mocked_http.post(TOKEN_URL, json={**body, "scope": "all"})


def form(call):
    return {key: values[0] for key, values in parse_qs(call.request.body).items()}


def calls_to(mocked_http, url):
    return [call for call in mocked_http.calls if call.request.url.split("?")[0] == url]


def assert_no_secrets(service, *more):
    secrets = (CLIENT_SECRET, AGENT_PASSWORD, TOKEN, SECOND_TOKEN, *more)
    for message in service.logger.messages:
        assert not any(secret in message["message"] for secret in secrets), message


def test_schema_keeps_the_names_aha_stores():
    assert [(f.type, f.name) for f in HaloItsm.schema] == [
        ("string", "base_uri"),
        ("select", "auth_type"),
        ("string", "client_id"),
        ("password", "client_secret"),
        ("string", "username"),
        ("password", "password"),
        ("string", "scopes"),
        ("string", "tenant"),
        ("install_button", "install_button"),
        ("select", "ticket_type"),
        ("internal", "status_mapping"),
    ]
    assert [value for _, value in HaloItsm.field_by_name("auth_type").options["collection"]] == [
        "client_credentials",
        "password",
    ]
    assert HaloItsm.field_by_name("ticket_type").to_wire()["options"]["collection"] == (
        "remote_collection"
    )
    assert (HaloItsm.service_name, HaloItsm.title) == ("halo_itsm", "HaloITSM")
    assert HaloItsm.responds_to_events() == [
        "create_feature",
        "installed",
        "update_feature",
        "webhook",
    ]


def test_the_ticket_type_collection_reads_what_installed_kept():
    meta_data = {"ticket_types": [{"id": 1, "name": "Incident"}, {"id": 21, "name": None}]}
    service = HaloItsm({}, {}, meta_data)
    assert ticket_types(service.meta_data, service.data) == [
        ["Incident", 1],
        ["Ticket type 21", 21],
    ]
    assert ticket_types(HaloItsm().meta_data, {}) == []


def test_the_proxy_answers_the_ticket_type_collection():
    registry = Registry()
    registry.add(HaloItsm, "spec")
    answer = (
        create_app(registry)
        .test_client()
        .post(
            "/remote_collection",
            json={
                "service_name": "halo_itsm",
                "field_name": "ticket_type",
                "meta_data": {"ticket_types": [{"id": 21, "name": "Product Feature"}]},
                "user_data": {"client_secret": CLIENT_SECRET},
            },
        )
    )
    assert answer.status_code == 200
    assert answer.get_json() == [["Product Feature", 21]]


def test_installed_logs_in_with_client_credentials_and_keeps_the_ticket_types(
    mocked_http, user_data
):
    token_answer(mocked_http)
    mocked_http.get(f"{API}/TicketType", json=json_fixture("halo_itsm/ticket_types.json"))
    service = HaloItsm(settings(user_data))
    service.receive("installed")

    token_call, types_call = mocked_http.calls
    assert token_call.request.method == "POST"
    assert token_call.request.url == f"{TOKEN_URL}?tenant=acme"
    assert token_call.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert "Authorization" not in token_call.request.headers
    assert form(token_call) == {
        "grant_type": "client_credentials",
        "client_id": "aha-connector",
        "client_secret": CLIENT_SECRET,
        "scope": "all",
    }
    assert types_call.request.method == "GET"
    assert types_call.request.url == f"{API}/TicketType"
    assert types_call.request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert service.meta_data.ticket_types.to_list() == [
        {"id": 1, "name": "Incident"},
        {"id": 3, "name": "Service Request"},
        {"id": 21, "name": "Product Feature"},
    ]
    assert {"severity": Severity.INFO, "message": "Found 3 HaloITSM ticket types"} in (
        service.logger.messages
    )
    assert_no_secrets(service)


def test_installed_logs_in_with_the_password_grant(mocked_http, user_data):
    token_answer(mocked_http)
    mocked_http.get(f"{API}/TicketType", json={"record_count": 1, "tickettypes": [{"id": 1}]})
    data = settings(
        user_data,
        auth_type="password",
        client_secret="",
        username="aha.sync@acme.example",
        password=AGENT_PASSWORD,
        scopes="read:tickets edit:tickets",
        tenant="",
    )
    service = HaloItsm(data)
    service.receive("installed")

    token_call = mocked_http.calls[0]
    assert token_call.request.url == TOKEN_URL
    assert form(token_call) == {
        "grant_type": "password",
        "client_id": "aha-connector",
        "username": "aha.sync@acme.example",
        "password": AGENT_PASSWORD,
        "scope": "read:tickets edit:tickets",
    }
    assert service.meta_data.ticket_types.to_list() == [{"id": 1, "name": None}]
    assert_no_secrets(service)


def test_the_password_grant_sends_a_client_secret_when_there_is_one(mocked_http, user_data):
    token_answer(mocked_http)
    mocked_http.get(f"{API}/TicketType", json=[])
    data = settings(user_data, auth_type="password", username="sync", password=AGENT_PASSWORD)
    HaloItsm(data).receive("installed")
    assert form(mocked_http.calls[0])["client_secret"] == CLIENT_SECRET
    assert form(mocked_http.calls[0])["grant_type"] == "password"


@pytest.mark.parametrize("status", [400, 401])
def test_a_wrong_client_secret_is_a_configuration_error_that_says_so(
    mocked_http, user_data, status
):
    mocked_http.post(
        TOKEN_URL,
        status=status,
        json={"error": "invalid_client", "error_description": "Unknown client or secret"},
    )
    service = HaloItsm(settings(user_data))
    with pytest.raises(ConfigurationError, match="client ID or client secret") as raised:
        service.receive("installed")
    assert "invalid_client" in str(raised.value)
    assert "Unknown client or secret" in str(raised.value)
    assert CLIENT_SECRET not in str(raised.value)
    assert len(mocked_http.calls) == 1
    assert_no_secrets(service)


def test_a_wrong_password_is_a_configuration_error(mocked_http, user_data):
    mocked_http.post(TOKEN_URL, status=400, json={"error": "invalid_grant"})
    data = settings(user_data, auth_type="password", username="sync", password=AGENT_PASSWORD)
    with pytest.raises(ConfigurationError, match="username or password") as raised:
        HaloItsm(data).receive("installed")
    assert AGENT_PASSWORD not in str(raised.value)


def test_a_token_endpoint_that_is_not_there_points_at_the_url(mocked_http, user_data):
    mocked_http.post(TOKEN_URL, status=404, body="<html>Not found</html>")
    with pytest.raises(ConfigurationError, match="no token endpoint at .*tenant=acme"):
        HaloItsm(settings(user_data)).receive("installed")


def test_a_failing_token_endpoint_is_a_remote_error(mocked_http, user_data):
    mocked_http.post(TOKEN_URL, status=503, body="maintenance")
    with pytest.raises(RemoteError, match="token endpoint answered HTTP 503"):
        HaloItsm(settings(user_data)).receive("installed")


def test_a_token_answer_without_a_token_is_a_remote_error(mocked_http, user_data):
    mocked_http.post(TOKEN_URL, json={"token_type": "Bearer"})
    with pytest.raises(RemoteError, match="carried no access token"):
        HaloItsm(settings(user_data)).receive("installed")
    mocked_http.replace("POST", TOKEN_URL, json={"error": "access_denied"})
    with pytest.raises(ConfigurationError, match=r"refused to log in \(HTTP 200, access_denied\)"):
        HaloItsm(settings(user_data)).receive("installed")
    mocked_http.replace("POST", TOKEN_URL, body="<html>login</html>", status=200)
    with pytest.raises(RemoteError, match="carried no access token"):
        HaloItsm(settings(user_data)).receive("installed")
    for answer in ([], [1], "token"):
        mocked_http.replace("POST", TOKEN_URL, json=answer)
        with pytest.raises(RemoteError, match="carried no access token"):
            HaloItsm(settings(user_data)).receive("installed")


@pytest.mark.parametrize(
    ("missing", "named"),
    [
        ({"base_uri": ""}, "base_uri"),
        ({"client_id": ""}, "Client ID .client_id."),
        ({"client_secret": ""}, "Client secret .client_secret."),
        ({"auth_type": "password", "username": ""}, "Username .username."),
        ({"auth_type": "password", "username": "sync", "password": ""}, "password"),
    ],
)
def test_a_missing_setting_is_named_and_nothing_is_sent(mocked_http, user_data, missing, named):
    with pytest.raises(MissingSetting, match=named):
        HaloItsm(settings(user_data, **missing)).receive("installed")
    assert len(mocked_http.calls) == 0


def test_bad_settings_are_configuration_errors(mocked_http, user_data):
    with pytest.raises(ConfigurationError, match="Unknown authentication method"):
        HaloItsm(settings(user_data, auth_type="saml")).receive("installed")
    with pytest.raises(ConfigurationError, match="address of your HaloITSM"):
        HaloItsm(settings(user_data, base_uri="acme.haloitsm.com")).receive("installed")
    assert len(mocked_http.calls) == 0


def test_the_api_and_auth_addresses_from_halos_api_page_are_accepted(mocked_http, user_data):
    token_answer(mocked_http)
    mocked_http.get(f"{API}/TicketType", json=[])
    HaloItsm(settings(user_data, base_uri=f"{BASE}/api/")).receive("installed")
    assert [c.request.url for c in mocked_http.calls] == [
        f"{TOKEN_URL}?tenant=acme",
        f"{API}/TicketType",
    ]


def test_settings_may_come_from_the_environment(mocked_http, user_data, monkeypatch):
    monkeypatch.setenv("HALO_CLIENT_SECRET", CLIENT_SECRET)
    token_answer(mocked_http)
    mocked_http.get(f"{API}/TicketType", json=[])
    service = HaloItsm(settings(user_data, client_secret="${HALO_CLIENT_SECRET}"))
    service.receive("installed")
    assert form(mocked_http.calls[0])["client_secret"] == CLIENT_SECRET
    assert_no_secrets(service)


def test_a_private_halo_address_is_refused(mocked_http, user_data):
    with pytest.raises(InvalidUrlError, match="not a public address"):
        HaloItsm(settings(user_data, base_uri="https://intranet.example.com")).receive("installed")
    assert len(mocked_http.calls) == 0


def test_credentials_never_travel_over_plain_http(mocked_http, user_data):
    with pytest.raises(InvalidUrlError, match="over plain http"):
        HaloItsm(settings(user_data, base_uri="http://acme.haloitsm.com")).receive("installed")
    assert len(mocked_http.calls) == 0


def test_a_local_fake_on_an_allowed_host_works_over_plain_http(mocked_http, user_data, monkeypatch):
    monkeypatch.setenv("AHA_SERVICES_ALLOWED_HOSTS", "127.0.0.1")
    mocked_http.post("http://127.0.0.1:8765/auth/token", json={"access_token": TOKEN})
    mocked_http.get("http://127.0.0.1:8765/api/TicketType", json=[{"id": 4, "name": "Bug"}])
    service = HaloItsm(settings(user_data, base_uri="http://127.0.0.1:8765", tenant=""))
    service.receive("installed")
    assert mocked_http.calls[1].request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert service.meta_data.ticket_types.to_list() == [{"id": 4, "name": "Bug"}]


def test_create_feature_creates_a_ticket_and_child_tickets(mocked_http, user_data):
    token_answer(mocked_http)
    mocked_http.post(f"{API}/Tickets", json=[json_fixture("halo_itsm/saved_ticket.json")])
    mocked_http.post(f"{API}/Tickets", json={"id": 5121, "summary": "Verify identity by SMS code"})
    mocked_http.post(f"{AHA}/features/OPS-41/integrations/4242/fields", json={})
    mocked_http.post(f"{AHA}/requirements/OPS-41-1/integrations/4242/fields", json={})
    service = HaloItsm(settings(user_data), json_fixture("halo_itsm/create_feature_event.json"))
    service.receive("create_feature")

    feature_ticket, requirement_ticket = calls_to(mocked_http, f"{API}/Tickets")
    assert feature_ticket.request.method == "POST"
    assert feature_ticket.request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request_json(feature_ticket) == [
        {
            "summary": "Self-service password reset",
            "details_html": "<p>Staff should reset their own password <em>without</em> "
            "calling the desk.</p><p>Aha! record: "
            '<a href="https://acme.aha.io/features/OPS-41">OPS-41</a></p>',
            "tickettype_id": 21,
        }
    ]
    assert request_json(requirement_ticket) == [
        {
            "summary": "Verify identity by SMS code",
            "details_html": "<p>Six digits, valid for ten minutes.</p><p>Aha! record: "
            '<a href="https://acme.aha.io/requirements/OPS-41-1">OPS-41-1</a></p>',
            "tickettype_id": 21,
            "parent_id": 5120,
        }
    ]
    feature_fields = calls_to(mocked_http, f"{AHA}/features/OPS-41/integrations/4242/fields")
    assert request_json(feature_fields[0]) == {
        "integration_fields": [
            {"name": "id", "value": "5120"},
            {"name": "url", "value": f"{BASE}/ticket?id=5120"},
        ]
    }
    assert feature_fields[0].request.headers["Authorization"] == "Bearer aha-api-token-5e1f0c"
    requirement_fields = calls_to(
        mocked_http, f"{AHA}/requirements/OPS-41-1/integrations/4242/fields"
    )
    assert request_json(requirement_fields[0]) == {
        "integration_fields": [
            {"name": "id", "value": "5121"},
            {"name": "url", "value": f"{BASE}/ticket?id=5121"},
        ]
    }
    assert len(calls_to(mocked_http, TOKEN_URL)) == 1
    assert {
        "severity": Severity.INFO,
        "message": "Created HaloITSM ticket 5120 from OPS-41",
    } in service.logger.messages
    assert_no_secrets(service)


def test_without_a_ticket_type_halo_chooses_its_default(mocked_http, user_data):
    token_answer(mocked_http)
    mocked_http.post(f"{API}/Tickets", json={"id": 7})
    mocked_http.post(f"{AHA}/features/OPS-41/integrations/4242/fields", json={})
    payload = json_fixture("halo_itsm/create_feature_event.json")
    payload["feature"]["requirements"] = []
    HaloItsm(settings(user_data, ticket_type=""), payload).receive("create_feature")
    assert "tickettype_id" not in request_json(calls_to(mocked_http, f"{API}/Tickets")[0])[0]


def test_a_ticket_type_that_is_not_an_id_is_a_configuration_error(mocked_http, user_data):
    token_answer(mocked_http)
    payload = json_fixture("halo_itsm/create_feature_event.json")
    with pytest.raises(ConfigurationError, match="ticket type id"):
        HaloItsm(settings(user_data, ticket_type="Incident"), payload).receive("create_feature")
    assert calls_to(mocked_http, f"{API}/Tickets") == []


def test_update_feature_updates_the_linked_tickets_and_creates_new_ones(mocked_http, user_data):
    token_answer(mocked_http)
    mocked_http.post(f"{API}/Tickets", json=[{"id": 5120}])
    mocked_http.post(f"{API}/Tickets", json=[{"id": 5121}])
    mocked_http.post(f"{API}/Tickets", json={"id": 5122})
    mocked_http.post(f"{AHA}/requirements/OPS-41-2/integrations/4242/fields", json={})
    service = HaloItsm(settings(user_data), json_fixture("halo_itsm/update_feature_event.json"))
    service.receive("update_feature")

    feature, linked, new = (request_json(c)[0] for c in calls_to(mocked_http, f"{API}/Tickets"))
    assert feature == {
        "summary": "Self-service password reset (phase 1)",
        "details_html": "<p>Phase 1 covers staff accounts only.</p><p>Aha! record: "
        '<a href="https://acme.aha.io/features/OPS-41">OPS-41</a></p>',
        "tickettype_id": 21,
        "id": 5120,
    }
    assert (linked["id"], linked["parent_id"]) == (5121, 5120)
    assert "id" not in new and new["parent_id"] == 5120
    assert new["summary"] == "Lock the account after five failures"
    aha_calls = [c for c in mocked_http.calls if c.request.url.startswith(AHA)]
    assert [c.request.url for c in aha_calls] == [
        f"{AHA}/requirements/OPS-41-2/integrations/4242/fields"
    ]
    assert request_json(aha_calls[0])["integration_fields"][0] == {"name": "id", "value": "5122"}
    assert {
        "severity": Severity.INFO,
        "message": "Updated HaloITSM ticket 5120 from OPS-41",
    } in service.logger.messages


def test_a_token_is_reused_until_it_expires(mocked_http, user_data):
    token_answer(mocked_http)
    mocked_http.get(f"{API}/TicketType", json=[])
    HaloItsm(settings(user_data)).receive("installed")
    mocked_http.post(f"{API}/Tickets", json={"id": 5120})
    mocked_http.post(f"{AHA}/features/OPS-41/integrations/4242/fields", json={})
    payload = json_fixture("halo_itsm/create_feature_event.json")
    payload["feature"]["requirements"] = []
    HaloItsm(settings(user_data), payload).receive("create_feature")
    assert len(calls_to(mocked_http, TOKEN_URL)) == 1
    ticket_call = calls_to(mocked_http, f"{API}/Tickets")[0]
    assert ticket_call.request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_a_token_about_to_expire_is_not_reused(mocked_http, user_data):
    token_answer(mocked_http, expires_in=30)
    mocked_http.get(f"{API}/TicketType", json=[])
    HaloItsm(settings(user_data)).halo.get("/TicketType")
    HaloItsm(settings(user_data)).halo.get("/TicketType")
    assert len(calls_to(mocked_http, TOKEN_URL)) == 2
    assert len(calls_to(mocked_http, f"{API}/TicketType")) == 2


def test_other_credentials_never_get_a_kept_token(mocked_http, user_data):
    token_answer(mocked_http)
    mocked_http.get(f"{API}/TicketType", json=[])
    HaloItsm(settings(user_data)).receive("installed")
    mocked_http.replace("POST", TOKEN_URL, status=400, json={"error": "invalid_client"})
    with pytest.raises(ConfigurationError, match="client secret"):
        HaloItsm(settings(user_data, client_secret="another-secret-1")).halo.get("/TicketType")
    assert len(calls_to(mocked_http, TOKEN_URL)) == 2


def test_a_refused_token_is_renewed_once_and_the_request_retried(mocked_http, user_data):
    token_answer(mocked_http)
    mocked_http.get(f"{API}/TicketType", json=[])
    HaloItsm(settings(user_data)).receive("installed")
    mocked_http.replace("POST", TOKEN_URL, json={"access_token": SECOND_TOKEN, "expires_in": 60})
    mocked_http.post(f"{API}/Tickets", status=401, body="")
    mocked_http.post(f"{API}/Tickets", json=[{"id": 5120}])
    mocked_http.post(f"{AHA}/features/OPS-41/integrations/4242/fields", json={})
    payload = json_fixture("halo_itsm/create_feature_event.json")
    payload["feature"]["requirements"] = []
    service = HaloItsm(settings(user_data), payload)
    service.receive("create_feature")

    refused, retried = calls_to(mocked_http, f"{API}/Tickets")
    assert refused.request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert retried.request.headers["Authorization"] == f"Bearer {SECOND_TOKEN}"
    assert request_json(refused) == request_json(retried)
    assert len(calls_to(mocked_http, TOKEN_URL)) == 2
    assert_no_secrets(service)


def test_a_second_refusal_is_a_configuration_error(mocked_http, user_data):
    token_answer(mocked_http)
    mocked_http.get(f"{API}/TicketType", status=401)
    with pytest.raises(ConfigurationError, match="refused a new access token") as raised:
        HaloItsm(settings(user_data)).receive("installed")
    assert TOKEN not in str(raised.value)
    assert len(calls_to(mocked_http, f"{API}/TicketType")) == 2
    assert len(calls_to(mocked_http, TOKEN_URL)) == 2


def test_halo_errors_are_remote_errors_and_permissions_configuration_errors(mocked_http, user_data):
    token_answer(mocked_http)
    payload = json_fixture("halo_itsm/create_feature_event.json")
    mocked_http.post(f"{API}/Tickets", status=500, json={"message": "Ticket type is inactive"})
    with pytest.raises(RemoteError, match="HTTP 500 to POST .*Tickets: Ticket type is inactive"):
        HaloItsm(settings(user_data), payload).receive("create_feature")
    mocked_http.replace("POST", f"{API}/Tickets", status=403, body="")
    with pytest.raises(ConfigurationError, match="lacks the permission"):
        HaloItsm(settings(user_data), payload).receive("create_feature")


@pytest.mark.parametrize("answer", [[], {}, {"summary": "no id"}])
def test_an_answer_without_the_saved_ticket_is_a_remote_error(mocked_http, user_data, answer):
    token_answer(mocked_http)
    mocked_http.post(f"{API}/Tickets", json=answer)
    payload = json_fixture("halo_itsm/create_feature_event.json")
    with pytest.raises(RemoteError, match="did not answer with the saved ticket"):
        HaloItsm(settings(user_data), payload).receive("create_feature")
    assert not [c for c in mocked_http.calls if c.request.url.startswith(AHA)]


MAPPING = {"2": "In development", "9": "7218800001110000955"}


def test_a_webhook_sets_the_linked_features_status(mocked_http, user_data):
    mocked_http.get(
        f"{AHA}/integrations/4242/fields/id/value/5120",
        json=json_fixture("halo_itsm/search_feature.json"),
    )
    mocked_http.put(f"{AHA}/features/OPS-41", json={"feature": {}})
    service = HaloItsm(
        settings(user_data, status_mapping=MAPPING),
        json_fixture("halo_itsm/webhook_ticket_updated.json"),
    )
    service.receive("webhook")

    search, update = mocked_http.calls
    assert search.request.method == "GET"
    assert search.request.url == f"{AHA}/integrations/4242/fields/id/value/5120"
    assert search.request.body is None
    assert search.request.headers["Authorization"] == "Bearer aha-api-token-5e1f0c"
    assert update.request.method == "PUT"
    assert update.request.url == f"{AHA}/features/OPS-41"
    assert request_json(update) == {"feature": {"workflow_status": "7218800001110000955"}}
    assert {
        "severity": Severity.INFO,
        "message": "Set the status of OPS-41 to 7218800001110000955",
    } in service.logger.messages


def test_a_webhook_sets_a_linked_requirements_status(mocked_http, user_data):
    record = {"requirement": {"reference_num": "OPS-41-1", "workflow_status": {"name": "New"}}}
    mocked_http.get(f"{AHA}/integrations/4242/fields/id/value/5121", json={"records": [record]})
    mocked_http.put(f"{AHA}/requirements/OPS-41-1", json={})
    payload = {"id": 5121, "status_id": 2, "summary": "Verify identity by SMS code"}
    HaloItsm(settings(user_data, status_mapping=json.dumps(MAPPING)), payload).receive("webhook")
    update = mocked_http.calls[1]
    assert (update.request.method, update.request.url) == ("PUT", f"{AHA}/requirements/OPS-41-1")
    assert request_json(update) == {"requirement": {"workflow_status": "In development"}}


def test_a_webhook_for_an_unmapped_status_is_skipped_without_a_call(mocked_http, user_data):
    payload = json_fixture("halo_itsm/webhook_ticket_updated.json")
    payload["ticket"]["status_id"] = 4
    service = HaloItsm(settings(user_data, status_mapping=MAPPING), payload)
    service.receive("webhook")
    assert len(mocked_http.calls) == 0
    assert {
        "severity": Severity.INFO,
        "message": "HaloITSM status 4 of ticket 5120 is not mapped to an Aha! status; skipping",
    } in service.logger.messages


@pytest.mark.parametrize(
    "answer", [{"json": {"records": []}}, {"status": 404, "json": {"error": "Not found"}}]
)
def test_a_webhook_for_an_unlinked_ticket_is_skipped(mocked_http, user_data, answer):
    mocked_http.get(f"{AHA}/integrations/4242/fields/id/value/5120", **answer)
    payload = json_fixture("halo_itsm/webhook_ticket_updated.json")
    service = HaloItsm(settings(user_data, status_mapping=MAPPING), payload)
    service.receive("webhook")
    assert [c.request.method for c in mocked_http.calls] == ["GET"]
    assert {
        "severity": Severity.INFO,
        "message": "HaloITSM ticket 5120 is not linked to Aha!; skipping",
    } in service.logger.messages


def test_a_webhook_linked_to_several_records_updates_none(mocked_http, user_data):
    records = json_fixture("halo_itsm/search_feature.json")["records"] * 2
    mocked_http.get(f"{AHA}/integrations/4242/fields/id/value/5120", json={"records": records})
    payload = json_fixture("halo_itsm/webhook_ticket_updated.json")
    service = HaloItsm(settings(user_data, status_mapping=MAPPING), payload)
    service.receive("webhook")
    assert [c.request.method for c in mocked_http.calls] == ["GET"]
    assert service.logger.messages[-1]["severity"] == Severity.WARN


def test_a_webhook_for_a_record_already_in_that_status_changes_nothing(mocked_http, user_data):
    mocked_http.get(
        f"{AHA}/integrations/4242/fields/id/value/5120",
        json=json_fixture("halo_itsm/search_feature.json"),
    )
    payload = json_fixture("halo_itsm/webhook_ticket_updated.json")
    payload["ticket"]["status_id"] = 2
    HaloItsm(settings(user_data, status_mapping=MAPPING), payload).receive("webhook")
    assert [c.request.method for c in mocked_http.calls] == ["GET"]


def test_a_webhook_without_a_ticket_is_logged(mocked_http, user_data):
    service = HaloItsm(settings(user_data, status_mapping=MAPPING), {"event": "Ping"})
    service.receive("webhook")
    assert len(mocked_http.calls) == 0
    assert service.logger.messages[-1] == {
        "severity": Severity.WARN,
        "message": "The HaloITSM webhook carries no ticket; nothing to update",
    }


def test_a_malformed_status_mapping_is_a_configuration_error(mocked_http, user_data):
    payload = json_fixture("halo_itsm/webhook_ticket_updated.json")
    for mapping in ("{not json", "[1, 2]"):
        with pytest.raises(ConfigurationError, match="status_mapping"):
            HaloItsm(settings(user_data, status_mapping=mapping), payload).receive("webhook")
    assert len(mocked_http.calls) == 0


def test_the_proxy_answer_holds_no_secret_and_no_token(mocked_http, user_data):
    token_answer(mocked_http)
    mocked_http.get(f"{API}/TicketType", json=json_fixture("halo_itsm/ticket_types.json"))
    answer = run_event(HaloItsm, "installed", user_data=settings(user_data))
    text = json.dumps(answer)
    assert "exception" not in answer
    assert answer["meta_data"]["ticket_types"][2] == {"id": 21, "name": "Product Feature"}
    for secret in (CLIENT_SECRET, TOKEN):
        assert secret not in text

    mocked_http.replace("POST", TOKEN_URL, status=401, json={"error": "invalid_client"})
    forget_tokens()
    failed = run_event(HaloItsm, "installed", user_data=settings(user_data))
    assert failed["exception"]["exception_class"] == "ConfigurationError"
    assert CLIENT_SECRET not in json.dumps(failed)


@pytest.mark.parametrize("status", [404, 410])
def test_a_linked_ticket_that_is_gone_is_created_and_linked_again(mocked_http, user_data, status):
    token_answer(mocked_http)
    mocked_http.post(f"{API}/Tickets", status=status, json={"message": "Ticket not found"})
    mocked_http.post(f"{API}/Tickets", json=[{"id": 5130}])
    mocked_http.post(f"{AHA}/features/OPS-41/integrations/4242/fields", json={})
    payload = json_fixture("halo_itsm/update_feature_event.json")
    payload["feature"]["requirements"] = []
    service = HaloItsm(settings(user_data), payload)
    service.receive("update_feature")
    refused, created = calls_to(mocked_http, f"{API}/Tickets")
    assert refused.request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request_json(refused)[0]["id"] == 5120
    assert created.request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert "id" not in request_json(created)[0]
    assert request_json(created)[0]["summary"] == "Self-service password reset (phase 1)"
    (link,) = calls_to(mocked_http, f"{AHA}/features/OPS-41/integrations/4242/fields")
    assert request_json(link)["integration_fields"] == [
        {"name": "id", "value": "5130"},
        {"name": "url", "value": f"{BASE}/ticket?id=5130"},
    ]
    assert {
        "severity": Severity.WARN,
        "message": "The linked ticket 5120 is gone from HaloITSM; creating it again",
    } in service.logger.messages


def test_other_refusals_of_a_linked_ticket_are_errors(mocked_http, user_data):
    token_answer(mocked_http)
    mocked_http.post(f"{API}/Tickets", status=400, json={"message": "Summary is required"})
    payload = json_fixture("halo_itsm/update_feature_event.json")
    payload["feature"]["requirements"] = []
    with pytest.raises(RemoteError, match="HTTP 400 .*Summary is required"):
        HaloItsm(settings(user_data), payload).receive("update_feature")
    assert len(calls_to(mocked_http, f"{API}/Tickets")) == 1
