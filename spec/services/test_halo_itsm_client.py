"""The generic HaloITSM client: entities, Halo's pagination, and ``aha-services halo``."""

import json
from urllib.parse import parse_qs

import pytest
from click.testing import CliRunner
from responses import matchers

from services.core import ConfigurationError, MissingSetting, cli
from services.core.entities import EntityParams
from services.core.http import HttpClient
from services.core.logger import EventLogger
from services.halo_itsm import HaloEntities, cli_commands
from services.halo_itsm.api import HaloApi, page_records
from services.halo_itsm.auth import HaloAuth, HaloCredentials, forget_tokens
from spec.conftest import json_fixture, request_json

BASE = "https://acme.haloitsm.com"
TOKEN_URL = f"{BASE}/auth/token"
API = f"{BASE}/api"
CLIENT_SECRET = "halo-cli-secret-77f3d0"
AGENT_PASSWORD = "halo-cli-password-4b1e"
TOKEN = "halo-cli-token-a1b2c3"
ENVIRONMENT = {
    "HALO_BASE_URI": BASE,
    "HALO_CLIENT_ID": "aha-cli",
    "HALO_CLIENT_SECRET": CLIENT_SECRET,
    "HALO_TENANT": "acme",
}


@pytest.fixture(autouse=True)
def fresh_tokens(monkeypatch):
    for name in (*ENVIRONMENT, "HALO_USERNAME", "HALO_PASSWORD", "HALO_SCOPES"):
        monkeypatch.delenv(name, raising=False)
    forget_tokens()
    yield
    forget_tokens()


@pytest.fixture
def entities(mocked_http):
    mocked_http.post(TOKEN_URL, json={"access_token": TOKEN, "expires_in": 3600})
    credentials = HaloCredentials(BASE, "aha-cli", client_secret=CLIENT_SECRET)
    http = HttpClient(EventLogger("services.halo"))
    return HaloEntities(HaloApi(http, HaloAuth(credentials, http)))


def api_calls(mocked_http):
    return [call for call in mocked_http.calls if call.request.url.startswith(API)]


def query(call):
    return {key: values[0] for key, values in parse_qs(call.request.url.split("?", 1)[1]).items()}


def paged(number, size="100"):
    return [
        matchers.query_param_matcher(
            {"pageinate": "true", "page_size": size, "page_no": str(number)}, strict_match=False
        )
    ]


def test_get_fills_the_path_template_and_answers_as_halo_does(entities, mocked_http):
    mocked_http.get(f"{API}/Actions/AC12", json={"id": "AC12", "note": "Called the user"})
    params = EntityParams({"id": "AC12"}, {"ticket_id": 5120, "includedetails": True})
    assert entities.subscribe("/Actions/{id}", params) == {"id": "AC12", "note": "Called the user"}
    (call,) = api_calls(mocked_http)
    assert call.request.method == "GET"
    assert call.request.url == f"{API}/Actions/AC12?ticket_id=5120&includedetails=true"
    assert call.request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_path_values_are_encoded_and_missing_ones_named(entities, mocked_http):
    mocked_http.get(f"{API}/Asset/a%2Fb%20c", json={})
    entities.subscribe("/Asset/{id}", EntityParams({"id": "a/b c"}))
    assert api_calls(mocked_http)[0].request.url == f"{API}/Asset/a%2Fb%20c"
    with pytest.raises(ConfigurationError, match="Missing path parameter .*: id"):
        entities.subscribe("/Actions/{id}", EntityParams())


def test_all_pages_follows_halos_pagination_to_record_count(entities, mocked_http):
    mocked_http.get(
        f"{API}/Tickets", json=json_fixture("halo_itsm/tickets_page_1.json"), match=paged(1, "2")
    )
    mocked_http.get(
        f"{API}/Tickets", json=json_fixture("halo_itsm/tickets_page_2.json"), match=paged(2, "2")
    )
    params = EntityParams({}, {"page_size": 2, "open_only": True})
    records = entities.subscribe("/Tickets", params, all_pages=True)
    assert [r["id"] for r in records] == [5120, 5121, 5122]
    assert [query(c) for c in api_calls(mocked_http)] == [
        {"open_only": "true", "pageinate": "true", "page_size": "2", "page_no": "1"},
        {"open_only": "true", "pageinate": "true", "page_size": "2", "page_no": "2"},
    ]


@pytest.mark.parametrize(("name", "value"), [("page_size", "abc"), ("page_no", "-5")])
def test_a_paging_value_that_is_not_a_page_number_is_refused(entities, mocked_http, name, value):
    with pytest.raises(ConfigurationError, match=f"query value {name} must be a whole number"):
        entities.subscribe("/Tickets", EntityParams({}, {name: value}), all_pages=True)
    assert len(mocked_http.calls) == 0


def test_pagination_stops_at_a_short_page_or_a_limit(entities, mocked_http):
    page = {"record_count": 250, "assets": [{"id": n} for n in range(100)]}
    mocked_http.get(f"{API}/Asset", json=page, match=paged(1))
    mocked_http.get(
        f"{API}/Asset", json={"record_count": 250, "assets": [{"id": 100}]}, match=paged(2)
    )
    assert len(entities.subscribe("/Asset", EntityParams(), all_pages=True)) == 101
    assert len(api_calls(mocked_http)) == 2
    limited = entities.subscribe("/Asset", EntityParams(), limit=3)
    assert [r["id"] for r in limited] == [0, 1, 2]
    assert len(api_calls(mocked_http)) == 3


def test_pagination_of_a_plain_list_or_a_repeated_page_ends(entities, mocked_http):
    mocked_http.get(f"{API}/TicketType", json=[{"id": n} for n in range(100)])
    assert len(entities.subscribe("/TicketType", EntityParams(), all_pages=True)) == 100
    assert len(api_calls(mocked_http)) == 1
    same = {"users": [{"id": n} for n in range(100)]}
    mocked_http.get(f"{API}/Users", json=same)
    assert len(entities.subscribe("/Users", EntityParams(), all_pages=True)) == 100
    assert [query(c)["page_no"] for c in api_calls(mocked_http)[1:]] == ["1", "2"]


def test_page_records_finds_the_list_beside_the_columns():
    answer = json_fixture("halo_itsm/tickets_page_2.json")
    assert page_records(answer, "/Tickets") == (answer["tickets"], 3)
    assert page_records({"columns": [], "record_count": "x"}, "/Tickets") == ([], None)
    assert page_records("text") == ([], None)


def test_post_sends_one_object_as_a_list(entities, mocked_http):
    mocked_http.post(f"{API}/Asset", json=[{"id": 88, "inventory_number": "LAP-0042"}])
    asset = {"inventory_number": "LAP-0042", "assettype_id": 3}
    answer = entities.publish("post", "/Asset", EntityParams(payload=asset))
    assert answer == [{"id": 88, "inventory_number": "LAP-0042"}]
    (call,) = api_calls(mocked_http)
    assert call.request.method == "POST"
    assert request_json(call) == [asset]
    assert call.request.headers["Authorization"] == f"Bearer {TOKEN}"
    mocked_http.post(f"{API}/Actions", json=[])
    entities.publish("POST", "/Actions", EntityParams(payload=[{"ticket_id": 1}, {"ticket_id": 2}]))
    assert request_json(api_calls(mocked_http)[1]) == [{"ticket_id": 1}, {"ticket_id": 2}]


def test_delete_takes_path_and_query(entities, mocked_http):
    mocked_http.delete(f"{API}/Tickets/5122", status=200, body="")
    params = EntityParams({"id": 5122}, {"reason": "duplicate"})
    assert entities.publish("DELETE", "/Tickets/{id}", params) is None
    (call,) = api_calls(mocked_http)
    assert (call.request.method, call.request.url) == (
        "DELETE",
        f"{API}/Tickets/5122?reason=duplicate",
    )
    assert call.request.body is None


def test_other_methods_are_refused(entities, mocked_http):
    with pytest.raises(ConfigurationError, match="Publish with POST, PUT, DELETE, not PATCH"):
        entities.publish("patch", "/Tickets", EntityParams(payload={}))
    assert len(mocked_http.calls) == 0


def test_from_environment_uses_client_credentials_without_a_username(monkeypatch, mocked_http):
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    mocked_http.post(TOKEN_URL, json={"access_token": TOKEN})
    mocked_http.get(f"{API}/Status", json=[])
    HaloEntities.from_environment().subscribe("/Status", EntityParams())
    token_call = mocked_http.calls[0]
    assert token_call.request.url == f"{TOKEN_URL}?tenant=acme"
    assert parse_qs(token_call.request.body) == {
        "grant_type": ["client_credentials"],
        "client_id": ["aha-cli"],
        "client_secret": [CLIENT_SECRET],
        "scope": ["all"],
    }


def test_from_environment_uses_the_password_grant_with_a_username(monkeypatch, mocked_http):
    monkeypatch.setenv("HALO_BASE_URI", BASE + "/")
    monkeypatch.setenv("HALO_CLIENT_ID", "aha-cli")
    monkeypatch.setenv("HALO_USERNAME", "sync@acme.example")
    monkeypatch.setenv("HALO_PASSWORD", AGENT_PASSWORD)
    monkeypatch.setenv("HALO_SCOPES", "read:tickets")
    mocked_http.post(TOKEN_URL, json={"access_token": TOKEN})
    mocked_http.get(f"{API}/Status", json=[])
    HaloEntities.from_environment().subscribe("/Status", EntityParams())
    assert parse_qs(mocked_http.calls[0].request.body) == {
        "grant_type": ["password"],
        "client_id": ["aha-cli"],
        "username": ["sync@acme.example"],
        "password": [AGENT_PASSWORD],
        "scope": ["read:tickets"],
    }
    assert mocked_http.calls[0].request.url == TOKEN_URL


@pytest.mark.parametrize(
    ("unset", "named"),
    [
        ("HALO_BASE_URI", "HALO_BASE_URI is not set"),
        ("HALO_CLIENT_ID", "HALO_CLIENT_ID is not set"),
        ("HALO_CLIENT_SECRET", "HALO_CLIENT_SECRET is not set"),
    ],
)
def test_a_missing_variable_is_named(monkeypatch, unset, named):
    for name, value in ENVIRONMENT.items():
        if name != unset:
            monkeypatch.setenv(name, value)
    with pytest.raises(MissingSetting, match=named):
        HaloEntities.from_environment()


def test_the_password_grant_needs_halo_password(monkeypatch):
    monkeypatch.setenv("HALO_BASE_URI", BASE)
    monkeypatch.setenv("HALO_CLIENT_ID", "aha-cli")
    monkeypatch.setenv("HALO_USERNAME", "sync")
    with pytest.raises(MissingSetting, match="HALO_PASSWORD is not set"):
        HaloEntities.from_environment()


def test_the_package_offers_the_halo_command():
    commands = cli_commands()
    assert [command.name for command in commands] == ["halo"]
    assert sorted(commands[0].commands) == ["delete", "get", "post", "put"]
    assert "halo" in cli.main.list_commands(None)


def test_cli_get_all_pages_prints_the_records(mocked_http):
    mocked_http.post(TOKEN_URL, json={"access_token": TOKEN, "expires_in": 3600})
    mocked_http.get(
        f"{API}/Tickets", json=json_fixture("halo_itsm/tickets_page_1.json"), match=paged(1)
    )
    result = CliRunner().invoke(
        cli.main, ["halo", "get", "/Tickets", "--all-pages"], env=ENVIRONMENT
    )
    assert result.exit_code == 0, result.output
    assert [r["id"] for r in json.loads(result.output)] == [5120, 5121]
    token_call, tickets_call = mocked_http.calls
    assert parse_qs(token_call.request.body)["client_secret"] == [CLIENT_SECRET]
    assert tickets_call.request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert CLIENT_SECRET not in result.output and TOKEN not in result.output


def test_cli_post_reads_the_payload_file(mocked_http, tmp_path):
    mocked_http.post(TOKEN_URL, json={"access_token": TOKEN})
    mocked_http.post(f"{API}/Assets", json=[{"id": 88}])
    asset = tmp_path / "asset.json"
    asset.write_text(json.dumps({"inventory_number": "LAP-0042"}))
    result = CliRunner().invoke(
        cli.main, ["halo", "post", "/Assets", "--payload", f"@{asset}"], env=ENVIRONMENT
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [{"id": 88}]
    call = mocked_http.calls[1]
    assert (call.request.method, call.request.url) == ("POST", f"{API}/Assets")
    assert request_json(call) == [{"inventory_number": "LAP-0042"}]


def test_cli_without_a_setting_names_it_and_exits_2(mocked_http):
    environment = {**ENVIRONMENT, "HALO_BASE_URI": ""}
    result = CliRunner().invoke(cli.main, ["halo", "get", "/Tickets"], env=environment)
    assert result.exit_code == 2
    assert "HALO_BASE_URI is not set" in result.output
    assert len(mocked_http.calls) == 0


def test_cli_with_a_wrong_secret_says_so_without_the_secret(mocked_http):
    mocked_http.post(TOKEN_URL, status=401, json={"error": "invalid_client"})
    result = CliRunner().invoke(cli.main, ["halo", "get", "/Tickets"], env=ENVIRONMENT)
    assert result.exit_code != 0
    assert "client ID or client secret" in result.output
    assert CLIENT_SECRET not in result.output
