import base64
import copy
import json
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from services.core import ConfigurationError, InvalidUrlError, MissingSetting, RemoteError
from services.rally import Rally
from services.rally import install as install_module
from services.rally.schema import feature_and_requirement_types, projects, workspaces
from spec.conftest import json_fixture, request_json

RALLY = "https://rally1.rallydev.com"
API = f"{RALLY}/slm/webservice/v2.0"
HOOKS = f"{RALLY}/apps/pigeon/api/v2/webhook"
AHA = "https://acme.aha.io/api/v1"
USER = "maya.okafor@example.com"
PASSWORD = "r4lly-pa55word-91c2"
API_KEY = "_aBcD3fRallyApiKey7f1e2d"
TOKEN = "8f2b6c1e-rally-security-token-77ad"
BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
PROJECT = "30811223344"
WORKSPACE = "22098603316"
CDN = "https://cdn.aha.io/attachments"


def fx(name):
    return json_fixture(f"rally/{name}")


@pytest.fixture
def settings(user_data):
    return {
        **user_data,
        "user_name": USER,
        "user_password": PASSWORD,
        "workspace": WORKSPACE,
        "project": PROJECT,
        "callback_url": "https://acme.aha.io/api/v1/webhooks/rally/cb-4242",
    }


@pytest.fixture
def key_settings(settings):
    return {**settings, "user_name": "", "user_password": API_KEY}


def installed_meta():
    projects_read = [
        {
            "ObjectID": p["ObjectID"],
            "_ref": p["_ref"],
            "Name": p["Name"],
            "_refObjectUUID": p["_refObjectUUID"],
            "ParentUUID": (p.get("Parent") or {}).get("_refObjectUUID"),
        }
        for page in ("projects_page1.json", "projects_page2.json")
        for p in fx(page)["QueryResult"]["Results"]
    ]
    return {
        "install_successful": True,
        "projects": projects_read,
        "workspaces": [
            {
                "ObjectID": int(WORKSPACE),
                "Name": "Acme Workspace",
                "Configuration": {"WorkspaceConfiguration": {"TimeZone": "America/Denver"}},
            }
        ],
        "type_definitions": [
            {"Name": "Feature", "ElementName": "Feature", "Ordinal": 0},
            {"Name": "Initiative", "ElementName": "Initiative", "Ordinal": 1},
        ],
    }


def service_for(settings, payload=None, meta_data=None):
    return Rally(settings, payload or {}, meta_data if meta_data is not None else installed_meta())


def link(record, **fields):
    record["integration_fields"] = [
        {"name": name, "value": value, "integration_id": 4242, "service_name": "rally"}
        for name, value in fields.items()
    ]
    return record


def fields_url(kind, reference):
    return f"{AHA}/{kind}/{reference}/integrations/4242/fields"


def query_of(call):
    return {k: v[0] for k, v in parse_qs(urlsplit(call.request.url).query).items()}


def rally_calls(mocked_http):
    return [c for c in mocked_http.calls if c.request.url.startswith(RALLY)]


def assert_rally_auth(mocked_http, basic=True):
    for call in rally_calls(mocked_http):
        headers = call.request.headers
        if call.request.url.startswith(HOOKS) or not basic:
            assert "Authorization" not in headers
        else:
            assert headers["Authorization"] == BASIC
        if basic:
            assert "ZSESSIONID" not in headers
        else:
            assert headers["ZSESSIONID"] == API_KEY


def assert_no_secret(service, error=None):
    logged = str(service.logger.messages)
    for secret in (PASSWORD, API_KEY, TOKEN):
        assert secret not in logged
        if error is not None:
            assert secret not in str(error.value)


def authorize(mocked_http):
    mocked_http.get(f"{API}/security/authorize", json=fx("security_authorize.json"))


def no_neighbour(mocked_http, kind, reference):
    mocked_http.get(
        f"{AHA}/{kind}/{reference}/integrations/4242/adjacent_fields", json={}, status=200
    )


def feature(**extra):
    record = {
        "id": "7104455667788990011",
        "reference_num": "ACME-12",
        "name": "Split payments",
        "url": "https://acme.aha.io/features/ACME-12",
        "resource": "https://acme.aha.io/api/v1/features/ACME-12",
        "description": {"body": "<p>Split one order across cards.</p>", "attachments": []},
        "attachments": [],
        "tags": [],
        "start_date": "2026-03-02",
        "due_date": "2026-03-31",
        "assigned_to_user": {"email": USER, "default_assignee": False},
        "created_by_user": {"email": "lee.chen@example.com"},
        "integration_fields": [],
        "release": {"reference_num": "ACME-R-3", "integration_fields": []},
        "requirements": [],
    }
    record.update(extra)
    return record


def requirement(**extra):
    record = {
        "id": "7105566778899001122",
        "reference_num": "ACME-12-1",
        "name": "Pay by card",
        "url": "https://acme.aha.io/requirements/ACME-12-1",
        "description": {"body": "<p>Card payments.</p>", "attachments": []},
        "integration_fields": [],
    }
    record.update(extra)
    return record


# --- schema and collections -------------------------------------------------------------------


def test_schema_keeps_the_names_aha_stores():
    assert (Rally.service_name, Rally.title) == ("rally", "Rally")
    assert [(f.type, f.name) for f in Rally.schema] == [
        ("string", "server_url"),
        ("string", "user_name"),
        ("password", "user_password"),
        ("install_button", "install_button"),
        ("select", "workspace"),
        ("select", "project"),
        ("select", "feature_and_requirement_type"),
        ("internal", "feature_status_mapping"),
        ("internal", "feature_default_fields"),
        ("internal", "requirement_status_mapping"),
        ("internal", "requirement_default_fields"),
        ("boolean", "send_tags"),
        ("boolean", "dont_send_releases"),
        ("callback_url", "callback_url"),
    ]
    assert "releases, features" in Rally.caption_display()
    assert "activities" in Rally.caption_display("marketing_workspace")


def test_collections_are_empty_until_install_and_labelled_after():
    from services.core import mash

    empty = mash({})
    assert workspaces(empty, empty) == []
    assert projects(empty, empty) == []
    assert feature_and_requirement_types(empty, empty) == []
    meta = mash(installed_meta())
    assert projects(meta, empty) == [
        ["Checkout Web", 30811223366],
        ["Payments", 30811223344],
        ["Payments Mobile", 30811223355],
    ]
    assert workspaces(meta, empty) == [["Acme Workspace", 22098603316]]
    assert feature_and_requirement_types(meta, empty) == [
        ["Feature -> User Story, Requirement -> User Story", "UserStory::UserStory"],
        ["Feature -> Feature, Requirement -> User Story", "Feature::UserStory"],
        ["Feature -> Initiative, Requirement -> Feature", "Initiative::Feature"],
    ]


# --- installed --------------------------------------------------------------------------------


def mock_install(mocked_http):
    ws = {"workspace": f"/workspace/{WORKSPACE}"}
    mocked_http.get(
        f"{API}/workspace/{WORKSPACE}/projects",
        match=[
            responses.matchers.query_param_matcher({"fetch": "true", "pagesize": "2", "start": "1"})
        ],
        json=fx("projects_page1.json"),
    )
    mocked_http.get(
        f"{API}/workspace/{WORKSPACE}/projects",
        match=[
            responses.matchers.query_param_matcher({"fetch": "true", "pagesize": "2", "start": "3"})
        ],
        json=fx("projects_page2.json"),
    )
    mocked_http.get(f"{API}/subscription", json=fx("subscription.json"))
    mocked_http.get(f"{API}/Subscription/22098603174/Workspaces", json=fx("workspaces.json"))
    mocked_http.get(
        f"{API}/WorkspaceConfiguration/22098603320", json=fx("workspace_configuration.json")
    )
    mocked_http.get(
        f"{API}/typedefinition",
        match=[
            responses.matchers.query_param_matcher(
                {
                    "query": install_module.PORTFOLIO_TYPES,
                    "fetch": "true",
                    "pagesize": "200",
                    "start": "1",
                    **ws,
                }
            )
        ],
        json=fx("typedefinitions_portfolio.json"),
    )
    mocked_http.get(
        f"{API}/typedefinition",
        match=[
            responses.matchers.query_param_matcher(
                {
                    "query": install_module.STORY_TYPE,
                    "fetch": "true",
                    "pagesize": "200",
                    "start": "1",
                    **ws,
                }
            )
        ],
        json=fx("typedefinitions_story.json"),
    )
    mocked_http.get(f"{API}/TypeDefinition/41529001001/Attributes", json=fx("attributes_feature.json"))
    mocked_http.get(
        f"{API}/TypeDefinition/41529001002/Attributes", json=fx("attributes_initiative.json")
    )
    mocked_http.get(f"{API}/TypeDefinition/41529000900/Attributes", json=fx("attributes_story.json"))
    mocked_http.get(f"{API}/state", json=fx("states.json"))
    mocked_http.get(f"{API}/AttributeDefinition/-12/AllowedValues", json=fx("schedule_states.json"))


def test_installed_reads_every_page_and_keeps_what_the_selects_need(
    settings, mocked_http, monkeypatch
):
    monkeypatch.setattr(install_module, "PROJECT_PAGE", 2)
    mock_install(mocked_http)
    service = service_for(settings, meta_data={}).receive("installed")
    meta = service.meta_data_to_return()
    assert [p["Name"] for p in meta["projects"]] == ["Checkout Web", "Payments", "Payments Mobile"]
    assert meta["projects"][0] == {
        "ObjectID": 30811223366,
        "_ref": f"{API}/project/30811223366",
        "Name": "Checkout Web",
        "_refObjectUUID": "c41e8a77-2d3b-4f0c-8e19-5a6b7c8d9e03",
        "ParentUUID": "7d9b1f20-8c44-4f7a-b2f5-6e1d3c0a9b02",
    }
    assert meta["workspaces"] == [
        {
            "ObjectID": 22098603316,
            "Name": "Acme Workspace",
            "Configuration": {
                "WorkspaceConfiguration": {
                    "TimeZone": "America/Denver",
                    "DateFormat": "MM/dd/yyyy",
                    "DateTimeFormat": "MM/dd/yyyy hh:mm:ss a z",
                    "WorkDays": "Monday,Tuesday,Wednesday,Thursday,Friday",
                }
            },
        }
    ]
    assert [t["ElementName"] for t in meta["type_definitions"]] == ["Feature", "Initiative"]
    assert meta["custom_fields"] == {
        "UserStory": [
            {"AttributeType": "RATING", "Name": "Customer Impact", "ElementName": "c_CustomerImpact"}
        ],
        "Feature": [{"AttributeType": "STRING", "Name": "Risk Owner", "ElementName": "c_RiskOwner"}],
        "Initiative": [],
    }
    assert meta["state_definitions"] == {
        "Feature": ["Discovering", "Developing", "Done"],
        "Initiative": ["Planned"],
        "UserStory": ["Defined", "In-Progress", "Completed", "Accepted"],
    }
    assert meta["install_successful"] is True
    assert_rally_auth(mocked_http)
    assert all(c.request.method == "GET" for c in mocked_http.calls)
    assert all("key=" not in c.request.url for c in mocked_http.calls)


def test_installed_without_a_workspace_lists_every_project(settings, mocked_http):
    settings["workspace"] = ""
    page = copy.deepcopy(fx("projects_page1.json"))
    page["QueryResult"]["TotalResultCount"] = 2
    mocked_http.get(f"{API}/projects", json=page)
    mocked_http.get(f"{API}/subscription", json={"Subscription": {}})
    mocked_http.get(f"{API}/typedefinition", json=fx("empty_query.json"))
    mocked_http.get(f"{API}/state", json=fx("empty_query.json"))
    service = service_for(settings, meta_data={}).receive("installed")
    assert len(service.meta_data.projects) == 2
    assert service.meta_data.workspaces == []
    assert service.meta_data.state_definitions == {}
    first = mocked_http.calls[0]
    assert query_of(first) == {"fetch": "true", "pagesize": "100", "start": "1"}
    assert "workspace" not in query_of(mocked_http.calls[2])


def test_installed_with_an_api_key_sends_it_as_zsessionid(key_settings, mocked_http):
    mocked_http.get(f"{API}/workspace/{WORKSPACE}/projects", status=401, body="")
    with pytest.raises(ConfigurationError) as error:
        service_for(key_settings, meta_data={}).receive("installed")
    assert "401" in str(error.value)
    assert_rally_auth(mocked_http, basic=False)


def test_missing_settings_are_named_before_any_request(settings, mocked_http):
    with pytest.raises(MissingSetting, match="user_password"):
        service_for({**settings, "user_password": ""}).receive("installed")
    with pytest.raises(MissingSetting, match="API key"):
        service_for({**settings, "user_name": "", "user_password": ""}).receive("installed")
    with pytest.raises(MissingSetting, match="project"):
        service_for({**settings, "project": ""}, {"feature": feature()}).receive("create_feature")
    with pytest.raises(ConfigurationError, match="server_url"):
        service_for({**settings, "server_url": "rally.example.com"}).receive("installed")
    assert len(mocked_http.calls) == 0


def test_server_url_keeps_its_path_prefix(settings, mocked_http):
    settings["server_url"] = "https://rally.example.com/tenant/"
    base = "https://rally.example.com/tenant/slm/webservice/v2.0"
    mocked_http.get(f"{base}/workspace/{WORKSPACE}/projects", status=500, body="down")
    with pytest.raises(RemoteError, match="500"):
        service_for(settings, meta_data={}).receive("installed")
    assert mocked_http.calls[0].request.url.startswith(base)


def test_server_url_on_loopback_is_refused(settings, mocked_http):
    settings["server_url"] = "http://127.0.0.1:9/"
    with pytest.raises(InvalidUrlError):
        service_for(settings, meta_data={}).receive("installed")
    assert len(mocked_http.calls) == 0


# --- errors -----------------------------------------------------------------------------------


def test_403_names_the_permission_and_500_quotes_the_body(settings, mocked_http):
    mocked_http.get(f"{API}/workspace/{WORKSPACE}/projects", status=403, body="Forbidden")
    with pytest.raises(RemoteError, match="Viewer") as error:
        service_for(settings, meta_data={}).receive("installed")
    assert "GET /workspace" in str(error.value)


def test_a_200_with_errors_is_a_remote_error(settings, mocked_http):
    body = fx("empty_query.json")
    body["QueryResult"]["Errors"] = ["Could not parse: Unknown operator"]
    mocked_http.get(f"{API}/workspace/{WORKSPACE}/projects", json=body)
    with pytest.raises(RemoteError, match="Could not parse") as error:
        service_for(settings, meta_data={}).receive("installed")
    assert "HTTP 200" in str(error.value)
