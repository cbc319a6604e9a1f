import base64
import copy
import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
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
    mocked_http.get(
        f"{API}/TypeDefinition/41529001001/Attributes", json=fx("attributes_feature.json")
    )
    mocked_http.get(
        f"{API}/TypeDefinition/41529001002/Attributes", json=fx("attributes_initiative.json")
    )
    mocked_http.get(
        f"{API}/TypeDefinition/41529000900/Attributes", json=fx("attributes_story.json")
    )
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
            {
                "AttributeType": "RATING",
                "Name": "Customer Impact",
                "ElementName": "c_CustomerImpact",
            }
        ],
        "Feature": [
            {"AttributeType": "STRING", "Name": "Risk Owner", "ElementName": "c_RiskOwner"}
        ],
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


# --- features and requirements ----------------------------------------------------------------


def mock_owner(mocked_http):
    mocked_http.get(f"{API}/user", json=fx("users.json"))


def test_create_feature_creates_a_story_its_requirement_and_links_both(settings, mocked_http):
    authorize(mocked_http)
    mock_owner(mocked_http)
    record = feature(requirements=[requirement()])
    record["description"]["attachments"] = [
        {"file_name": "flow.png", "download_url": f"{CDN}/flow.png", "content_type": "image/png"}
    ]
    mocked_http.put(f"{API}/hierarchicalrequirement/create", json=fx("story_created.json"))
    mocked_http.post(fields_url("features", "ACME-12"), json={})
    mocked_http.get(f"{CDN}/flow.png", body=b"\x89PNG!")
    mocked_http.put(f"{API}/attachmentcontent/create", json=fx("attachmentcontent_created.json"))
    mocked_http.put(f"{API}/attachment/create", json=fx("attachment_created.json"))
    no_neighbour(mocked_http, "features", "ACME-12")
    mocked_http.put(f"{API}/hierarchicalrequirement/create", json=fx("requirement_created.json"))
    mocked_http.post(fields_url("requirements", "ACME-12-1"), json={})

    service = service_for(settings, {"feature": record}).receive("create_feature")

    creates = [c for c in mocked_http.calls if c.request.url.startswith(f"{API}/hierarchical")]
    assert len(creates) == 2
    assert query_of(creates[0]) == {"workspace": f"/workspace/{WORKSPACE}", "key": TOKEN}
    story = request_json(creates[0])["HierarchicalRequirement"]
    assert story == {
        "Name": "Split payments",
        "Description": "<p>Split one order across cards.</p>",
        "Project": f"/project/{PROJECT}",
        "Workspace": f"/workspace/{WORKSPACE}",
        "Owner": "/user/30811229900",
    }
    child = request_json(creates[1])["HierarchicalRequirement"]
    assert child["Parent"] == "/hierarchicalrequirement/71644790600"
    assert child["Name"] == "Pay by card"
    links = [
        c for c in mocked_http.calls if c.request.url.startswith(AHA) and "fields" in c.request.url
    ]
    assert request_json(links[0]) == {
        "integration_fields": [
            {"name": "id", "value": "71644790600"},
            {"name": "formatted_id", "value": "US1201"},
            {"name": "url", "value": f"{RALLY}/#/{PROJECT}d/detail/userstory/71644790600"},
        ]
    }
    content = next(c for c in mocked_http.calls if "attachmentcontent" in c.request.url)
    assert (
        request_json(content)["AttachmentContent"]["Content"]
        == base64.b64encode(b"\x89PNG!").decode()
    )
    attachment = next(c for c in mocked_http.calls if "/attachment/create" in c.request.url)
    assert request_json(attachment)["Attachment"] == {
        "Artifact": "/artifact/71644790600",
        "Content": "/attachmentcontent/53001",
        "ContentType": "image/png",
        "Name": "flow.png",
        "Size": 5,
        "Workspace": f"/workspace/{WORKSPACE}",
    }
    assert_rally_auth(mocked_http)
    assert (
        "Authorization"
        not in next(c for c in mocked_http.calls if c.request.url.startswith(CDN)).request.headers
    )
    assert_no_secret(service)
    assert TOKEN in creates[0].request.url  # the key travels in the URL, and only there


def test_portfolio_items_get_dates_tags_defaults_release_and_rank(settings, mocked_http):
    settings.update(
        feature_and_requirement_type="Feature::UserStory",
        send_tags="1",
        feature_default_fields=[{"field": "c_RiskOwner", "value": "Finance"}, {"x": 1}],
    )
    authorize(mocked_http)
    mock_owner(mocked_http)
    mocked_http.get(f"{API}/release/60100", json=fx("release.json"))
    mocked_http.get(f"{API}/tag", json=fx("tags.json"))
    mocked_http.put(f"{API}/tag/create", json=fx("tag_created.json"))
    mocked_http.put(
        f"{API}/portfolioitem/feature/create", json=fx("portfolio_feature_created.json")
    )
    mocked_http.post(fields_url("features", "ACME-12"), json={})
    neighbour = link({"direction": "before"}, id="71644790400")
    mocked_http.get(f"{AHA}/features/ACME-12/integrations/4242/adjacent_fields", json=neighbour)
    mocked_http.post(f"{API}/portfolioitem/feature/71644790508", json=fx("story_updated.json"))
    record = feature(tags=["payments", "q3 launch"])
    link(record["release"], id="60100")

    service_for(settings, {"feature": record}).receive("create_feature")

    create = next(
        c
        for c in mocked_http.calls
        if c.request.url.startswith(f"{API}/portfolioitem/feature/create")
    )
    body = request_json(create)["Feature"]
    assert body["c_RiskOwner"] == "Finance"
    assert body["PlannedStartDate"] == "2026-03-02"
    assert body["PlannedEndDate"] == "2026-03-31"
    assert body["Tags"] == [{"_ref": "/tag/45001"}, {"_ref": "/tag/45002"}]
    assert body["Release"] == "/release/60100"
    tag_query = next(c for c in mocked_http.calls if c.request.url.startswith(f"{API}/tag?"))
    assert query_of(tag_query)["query"] == '((Name = "payments") OR (Name = "q3 launch"))'
    tag_create = next(c for c in mocked_http.calls if "/tag/create" in c.request.url)
    assert request_json(tag_create) == {"Tag": {"Name": "q3 launch"}}
    rank = mocked_http.calls[-1]
    assert rank.request.method == "POST"
    assert query_of(rank)["rankBelow"] == "/portfolioitem/feature/71644790400"
    assert request_json(rank) == {"Feature": {}}


def test_update_feature_updates_in_place_with_rank_and_new_files_only(settings, mocked_http):
    authorize(mocked_http)
    mocked_http.get(f"{API}/user", json=fx("empty_query.json"))
    record = link(feature(), id="71644790600", formatted_id="US1201")
    record["attachments"] = [
        {"file_name": "flow.png", "download_url": f"{CDN}/flow.png"},
        {
            "file_name": "spec.pdf",
            "download_url": f"{CDN}/spec.pdf",
            "content_type": "application/pdf",
        },
    ]
    link(record["release"], id="60100")
    mocked_http.get(f"{API}/release/60100", json=fx("release.json"))
    mocked_http.get(
        f"{API}/hierarchicalrequirement/71644790600/Children", json=fx("children_two.json")
    )
    neighbour = [link({"direction": "after"}, id="71644790999")]
    mocked_http.get(f"{AHA}/features/ACME-12/integrations/4242/adjacent_fields", json=neighbour)
    mocked_http.post(f"{API}/hierarchicalrequirement/71644790600", json=fx("story_updated.json"))
    mocked_http.get(
        f"{API}/hierarchicalrequirement/71644790600/Attachments", json=fx("attachments.json")
    )
    mocked_http.get(f"{CDN}/spec.pdf", body=b"%PDF-1.7")
    mocked_http.put(f"{API}/attachmentcontent/create", json=fx("attachmentcontent_created.json"))
    mocked_http.put(f"{API}/attachment/create", json=fx("attachment_created.json"))

    service_for(settings, {"feature": record}).receive("update_feature")

    update = next(
        c for c in mocked_http.calls if c.request.method == "POST" and c.request.url.startswith(API)
    )
    assert query_of(update)["rankAbove"] == "/hierarchicalrequirement/71644790999"
    body = request_json(update)["HierarchicalRequirement"]
    assert "Release" not in body  # the story has children in Rally
    assert "Owner" not in body
    assert not any(c.request.url.startswith(f"{CDN}/flow.png") for c in mocked_http.calls)
    assert [c.request.method for c in rally_calls(mocked_http) if "ttachment" in c.request.url] == [
        "GET",
        "PUT",
        "PUT",
    ]
    assert not any(
        "/create" in c.request.url and "hierarchical" in c.request.url for c in mocked_http.calls
    )


def test_a_story_with_requirements_gets_no_release_and_requirements_use_the_feature_release(
    settings, mocked_http
):
    settings["feature_and_requirement_type"] = "UserStory::UserStory"
    authorize(mocked_http)
    mocked_http.get(f"{API}/user", json=fx("empty_query.json"))
    mocked_http.get(f"{API}/release/60100", json=fx("release.json"))
    record = link(feature(requirements=[link(requirement(), id="71644790601")]), id="71644790600")
    link(record["release"], id="60100")
    no_neighbour(mocked_http, "features", "ACME-12")
    mocked_http.post(f"{API}/hierarchicalrequirement/71644790600", json=fx("story_updated.json"))
    mocked_http.get(
        f"{API}/hierarchicalrequirement/71644790601/Children", json=fx("children_none.json")
    )
    mocked_http.post(f"{API}/hierarchicalrequirement/71644790601", json=fx("story_updated.json"))

    service_for(settings, {"feature": record}).receive("update_feature")

    posts = [
        c for c in mocked_http.calls if c.request.method == "POST" and c.request.url.startswith(API)
    ]
    assert "Release" not in request_json(posts[0])["HierarchicalRequirement"]
    child = request_json(posts[1])["HierarchicalRequirement"]
    assert child["Release"] == "/release/60100"
    assert child["Parent"] == "/hierarchicalrequirement/71644790600"
    assert "rankAbove" not in posts[1].request.url and "rankBelow" not in posts[1].request.url


def test_a_gone_object_is_created_again(settings, mocked_http):
    authorize(mocked_http)
    mocked_http.get(f"{API}/user", json=fx("empty_query.json"))
    no_neighbour(mocked_http, "features", "ACME-12")
    mocked_http.post(f"{API}/hierarchicalrequirement/71644790600", json=fx("error_gone.json"))
    mocked_http.put(f"{API}/hierarchicalrequirement/create", json=fx("story_created.json"))
    mocked_http.post(fields_url("features", "ACME-12"), json={})
    record = link(feature(release=None), id="71644790600")

    service = service_for(settings, {"feature": record}).receive("update_feature")

    assert [c.request.method for c in rally_calls(mocked_http)][-2:] == ["POST", "PUT"]
    assert any("gone from Rally" in m for m in map(str, service.logger.messages))


def test_an_invalid_key_gets_one_new_sign_in_then_a_configuration_error(settings, mocked_http):
    authorize(mocked_http)
    mocked_http.get(f"{API}/user", json=fx("empty_query.json"))
    mocked_http.put(f"{API}/hierarchicalrequirement/create", json=fx("error_invalid_key.json"))
    with pytest.raises(ConfigurationError, match="new sign-in") as error:
        service_for(settings, {"feature": feature(release=None)}).receive("create_feature")
    assert len([c for c in mocked_http.calls if "security/authorize" in c.request.url]) == 2
    assert len([c for c in mocked_http.calls if "/create" in c.request.url]) == 2
    assert_no_secret(service_for(settings), None)
    assert TOKEN not in str(error.value)


def test_an_invalid_key_once_is_retried_with_the_new_token(settings, mocked_http):
    authorize(mocked_http)
    mocked_http.get(f"{API}/user", json=fx("empty_query.json"))
    mocked_http.put(f"{API}/hierarchicalrequirement/create", json=fx("error_invalid_key.json"))
    mocked_http.put(f"{API}/hierarchicalrequirement/create", json=fx("story_created.json"))
    mocked_http.post(fields_url("features", "ACME-12"), json={})
    no_neighbour(mocked_http, "features", "ACME-12")
    service_for(settings, {"feature": feature(release=None)}).receive("create_feature")
    assert mocked_http.calls[-1].request.url.startswith(AHA)


def test_validation_errors_in_a_200_are_raised_not_swallowed(key_settings, mocked_http):
    mocked_http.get(f"{API}/user", json=fx("empty_query.json"))
    mocked_http.put(f"{API}/hierarchicalrequirement/create", json=fx("error_validation.json"))
    with pytest.raises(RemoteError, match="c_CustomerImpact") as error:
        service_for(key_settings, {"feature": feature(release=None)}).receive("create_feature")
    assert "PUT /hierarchicalrequirement/create" in str(error.value)
    assert "key=" not in mocked_http.calls[-1].request.url
    assert_rally_auth(mocked_http, basic=False)
    assert API_KEY not in str(error.value)


def test_create_requirement_under_a_linked_portfolio_feature(settings, mocked_http):
    settings["feature_and_requirement_type"] = "Feature::UserStory"
    settings["dont_send_releases"] = "1"
    authorize(mocked_http)
    mocked_http.get(f"{API}/user", json=fx("empty_query.json"))
    mocked_http.put(f"{API}/hierarchicalrequirement/create", json=fx("requirement_created.json"))
    mocked_http.post(fields_url("requirements", "ACME-12-1"), json={})
    record = requirement(feature=link(feature(), id="71644790508"))

    service_for(settings, {"requirement": record}).receive("create_requirement")

    create = next(c for c in mocked_http.calls if "/create" in c.request.url)
    body = request_json(create)["HierarchicalRequirement"]
    assert body["PortfolioItem"] == "/portfolioitem/feature/71644790508"
    assert "Release" not in body


def test_a_file_too_large_is_a_warning(settings, mocked_http):
    authorize(mocked_http)
    mocked_http.get(f"{API}/user", json=fx("empty_query.json"))
    mocked_http.put(f"{API}/hierarchicalrequirement/create", json=fx("story_created.json"))
    mocked_http.post(fields_url("features", "ACME-12"), json={})
    no_neighbour(mocked_http, "features", "ACME-12")
    mocked_http.get(f"{CDN}/huge.mov", body=b"x", headers={"Content-Length": str(10**10)})
    record = feature(
        release=None, attachments=[{"file_name": "huge.mov", "download_url": f"{CDN}/huge.mov"}]
    )
    service = service_for(settings, {"feature": record}).receive("create_feature")
    assert any("The file huge.mov was not sent to Rally" in str(m) for m in service.logger.messages)
    assert not any("attachmentcontent" in c.request.url for c in mocked_http.calls)


def test_a_file_whose_host_cannot_be_reached_is_a_warning(settings, mocked_http):
    authorize(mocked_http)
    mocked_http.get(f"{API}/user", json=fx("empty_query.json"))
    mocked_http.put(f"{API}/hierarchicalrequirement/create", json=fx("story_created.json"))
    mocked_http.post(fields_url("features", "ACME-12"), json={})
    no_neighbour(mocked_http, "features", "ACME-12")
    refused = requests.exceptions.ConnectionError("connection refused")
    mocked_http.get(f"{CDN}/gone.png", body=refused)
    record = feature(
        release=None, attachments=[{"file_name": "gone.png", "download_url": f"{CDN}/gone.png"}]
    )
    service = service_for(settings, {"feature": record}).receive("create_feature")
    assert any("The file gone.png was not sent to Rally" in str(m) for m in service.logger.messages)
    assert not any("attachmentcontent" in c.request.url for c in mocked_http.calls)


# --- releases ---------------------------------------------------------------------------------


def release(**extra):
    record = {
        "id": "7102233445566778899",
        "reference_num": "ACME-R-3",
        "name": "Spring launch",
        "start_date": "2026-04-10",
        "release_date": "2026-04-01",
        "url": "https://acme.aha.io/releases/ACME-R-3",
        "theme": {"body": "<p>Payments everywhere.</p>"},
        "integration_fields": [],
    }
    record.update(extra)
    return record


def test_create_release_puts_a_planning_release_a_day_longer(settings, mocked_http):
    authorize(mocked_http)
    mocked_http.put(f"{API}/release/create", json=fx("release_created.json"))
    mocked_http.post(fields_url("releases", "ACME-R-3"), json={})
    service_for(settings, {"release": release()}).receive("create_release")
    create = next(c for c in mocked_http.calls if "/release/create" in c.request.url)
    assert query_of(create) == {"key": TOKEN}
    assert request_json(create) == {
        "Release": {
            "Name": "Spring launch",
            "Project": f"/project/{PROJECT}",
            "ReleaseDate": "2026-04-02T00:00:00+00:00",
            "ReleaseStartDate": "2026-04-01T00:00:00+00:00",
            "Theme": "<p>Payments everywhere.</p>",
            "Workspace": f"/workspace/{WORKSPACE}",
            "State": "Planning",
        }
    }
    assert request_json(mocked_http.calls[-1]) == {
        "integration_fields": [
            {"name": "id", "value": "60100"},
            {"name": "url", "value": f"{RALLY}/#/{PROJECT}d/detail/release/60100"},
        ]
    }
    assert_rally_auth(mocked_http)


def test_update_release_keeps_its_state_and_a_linked_create_is_no_duplicate(settings, mocked_http):
    authorize(mocked_http)
    mocked_http.post(f"{API}/release/60100", json=fx("story_updated.json"))
    for event in ("update_release", "create_release"):
        service_for(settings, {"release": link(release(), id="60100")}).receive(event)
    posts = [c for c in mocked_http.calls if c.request.method == "POST"]
    assert len(posts) == 2
    assert all("State" not in request_json(c)["Release"] for c in posts)
    assert not any("/create" in c.request.url for c in mocked_http.calls)


def test_dont_send_releases_sends_nothing(settings, mocked_http):
    settings["dont_send_releases"] = "1"
    service = service_for(settings, {"release": release()}).receive("create_release")
    assert len(mocked_http.calls) == 0
    assert any("dont_send_releases" in str(m) for m in service.logger.messages)


def test_a_deleted_release_is_not_set_on_stories(settings, mocked_http):
    authorize(mocked_http)
    mocked_http.get(f"{API}/user", json=fx("empty_query.json"))
    mocked_http.get(f"{API}/release/60100", json=fx("error_cannot_find.json"))
    mocked_http.put(f"{API}/hierarchicalrequirement/create", json=fx("story_created.json"))
    mocked_http.post(fields_url("features", "ACME-12"), json={})
    no_neighbour(mocked_http, "features", "ACME-12")
    record = feature()
    link(record["release"], id="60100")
    service_for(settings, {"feature": record}).receive("create_feature")
    create = next(c for c in mocked_http.calls if "/create" in c.request.url)
    assert "Release" not in request_json(create)["HierarchicalRequirement"]


# --- webhooks in Rally ------------------------------------------------------------------------


def test_updated_replaces_this_integrations_webhooks_for_each_watched_project(
    settings, mocked_http
):
    authorize(mocked_http)
    mocked_http.get(
        HOOKS,
        match=[
            responses.matchers.query_param_matcher({"start": "1", "pagesize": "200", "key": TOKEN})
        ],
        json=fx("webhooks_page1.json"),
    )
    mocked_http.get(
        HOOKS,
        match=[
            responses.matchers.query_param_matcher(
                {"start": "201", "pagesize": "200", "key": TOKEN}
            )
        ],
        json=fx("webhooks_page2.json"),
    )
    mocked_http.delete(f"{HOOKS}/9a1b2c3d-0000-4000-8000-000000000001", body="")
    mocked_http.delete(f"{HOOKS}/9a1b2c3d-0000-4000-8000-000000000003", body="")
    mocked_http.post(HOOKS, json=fx("webhook_created.json"))

    service_for(settings).receive("updated")

    deleted = [
        c.request.url.split("?")[0] for c in mocked_http.calls if c.request.method == "DELETE"
    ]
    assert deleted == [
        f"{HOOKS}/9a1b2c3d-0000-4000-8000-000000000001",
        f"{HOOKS}/9a1b2c3d-0000-4000-8000-000000000003",
    ]
    created = [request_json(c) for c in mocked_http.calls if c.request.method == "POST"]
    assert [c["Expressions"][0]["Value"] for c in created] == [
        "0a6e2c3e-5b1f-4c55-9d77-3c2f1b0e4a01",
        "7d9b1f20-8c44-4f7a-b2f5-6e1d3c0a9b02",
        "c41e8a77-2d3b-4f0c-8e19-5a6b7c8d9e03",
    ]
    assert created[0] == {
        "AppName": "Aha!",
        "TargetUrl": settings["callback_url"],
        "Name": "Aha! Rally Integration 4242",
        "Expressions": [
            {
                "AttributeID": "ae8ecc9f-b9a0-42a4-a6e3-c83d7f8a7070",
                "Operator": "=",
                "Value": "0a6e2c3e-5b1f-4c55-9d77-3c2f1b0e4a01",
            }
        ],
        "Disabled": False,
    }
    assert_rally_auth(mocked_http)
    hook_calls = [c for c in mocked_http.calls if c.request.url.startswith(HOOKS)]
    assert all(query_of(c)["key"] == TOKEN for c in hook_calls)


def test_destroyed_with_an_api_key_deletes_only_this_integrations_webhooks(
    key_settings, mocked_http
):
    page = copy.deepcopy(fx("webhooks_page1.json"))
    page["TotalResultCount"] = 2
    mocked_http.get(HOOKS, json=page)
    mocked_http.delete(f"{HOOKS}/9a1b2c3d-0000-4000-8000-000000000001", body="")
    service_for(key_settings).receive("destroyed")
    assert [c.request.method for c in mocked_http.calls] == ["GET", "DELETE"]
    assert_rally_auth(mocked_http, basic=False)
    assert all("key" not in query_of(c) for c in mocked_http.calls)


def test_webhooks_wait_for_install_and_need_a_known_project(settings, mocked_http):
    service_for(settings, meta_data={}).receive("updated")
    service_for(settings, meta_data={}).receive("destroyed")
    assert len(mocked_http.calls) == 0
    with pytest.raises(MissingSetting, match="callback_url"):
        service_for({**settings, "callback_url": ""}).receive("updated")
    with pytest.raises(MissingSetting, match="press Install"):
        service_for({**settings, "project": "999"}).receive("updated")
    assert len(mocked_http.calls) == 0


# --- webhook from Rally -----------------------------------------------------------------------


def search_answer(kind, record):
    return {"records": [{kind: record}]}


def test_webhook_moves_the_linked_feature(settings, mocked_http):
    settings.update(
        send_tags="1", feature_status_mapping={"Developing": "7000000000000000202", "Done": "1"}
    )
    linked = {
        "id": "7104455667788990011",
        "reference_num": "ACME-12",
        "name": "Split payments",
        "description": {"body": "<p>old</p>"},
        "tags": ["payments"],
        "start_date": "2026-03-02",
        "due_date": "2026-03-30",
        "assigned_to_user": {"email": "lee.chen@example.com"},
        "workflow_status": {"id": "7000000000000000101"},
        "resource": "https://evil.example.com/api/v1/features/ACME-12",
    }
    mocked_http.get(
        f"{AHA}/integrations/4242/fields/id/value/71644790508",
        json=search_answer("feature", linked),
    )
    mocked_http.get(f"{API}/user/f05fbe96-a1eb-4115-bbe9-e24bfd4715e2", json=fx("user.json"))
    mocked_http.put(f"{AHA}/features/ACME-12", json={})

    service_for(settings, fx("webhook_feature_updated.json")).receive("webhook")

    put = mocked_http.calls[-1]
    assert put.request.method == "PUT"
    assert request_json(put) == {
        "feature": {
            "name": "Split payments across cards",
            "description": "<p>Let buyers split one order across two cards.</p>",
            "tags": ["payments", "q3 launch"],
            "assigned_to_user": {"email": USER},
            "due_date": "2026-03-31",
            "workflow_status": "7000000000000000202",
        }
    }
    assert not any("evil" in c.request.url or "v2.x" in c.request.url for c in mocked_http.calls)
    assert_rally_auth(mocked_http)


def test_webhook_for_a_story_requirement_wrapped_under_webhook(settings, mocked_http):
    settings["requirement_status_mapping"] = {"Completed": "7000000000000000303"}
    linked = {
        "id": "7105566778899001122",
        "reference_num": "ACME-12-1",
        "name": "Pay by card",
        "description": {"body": "<p>Card payments.</p>"},
        "assigned_to_user": {"email": USER},
        "workflow_status": {"id": "7000000000000000202"},
        "resource": "https://acme.aha.io/api/v1/requirements/ACME-12-1",
    }
    mocked_http.get(
        f"{AHA}/integrations/4242/fields/id/value/71644790601",
        json=search_answer("requirement", linked),
    )
    mocked_http.put(f"{AHA}/requirements/ACME-12-1", json={})
    payload = {"webhook": json.dumps(fx("webhook_story_updated.json"))}
    service_for(settings, payload).receive("webhook")
    assert request_json(mocked_http.calls[-1]) == {
        "requirement": {"workflow_status": "7000000000000000303"}
    }


def test_webhook_changes_nothing_when_unlinked_ambiguous_unmapped_or_unreadable(
    settings, mocked_http
):
    body = fx("webhook_story_updated.json")
    mocked_http.get(f"{AHA}/integrations/4242/fields/id/value/71644790601", json={"records": []})
    service = service_for(settings, body).receive("webhook")
    assert any("not linked" in str(m) for m in service.logger.messages)
    mocked_http.replace(
        responses.GET,
        f"{AHA}/integrations/4242/fields/id/value/71644790601",
        json={"records": [{"feature": {"id": "1"}}, {"requirement": {"id": "2"}}]},
    )
    service = service_for(settings, body).receive("webhook")
    assert any("none was changed" in str(m) for m in service.logger.messages)
    unchanged = {
        "name": "Pay by card",
        "description": {"body": "<p>Card payments.</p>"},
        "resource": "https://acme.aha.io/api/v1/requirements/ACME-12-1",
    }
    mocked_http.replace(
        responses.GET,
        f"{AHA}/integrations/4242/fields/id/value/71644790601",
        json=search_answer("requirement", unchanged),
    )
    service_for(settings, body).receive("webhook")  # ScheduleState is not mapped
    for unreadable in ({}, {"webhook": "not json"}, {"message": {"state": []}}):
        service_for(settings, unreadable).receive("webhook")
    assert all(c.request.method == "GET" for c in mocked_http.calls)


# --- small parts ------------------------------------------------------------------------------


def test_refs_keep_only_their_path_on_the_configured_server():
    from services.rally.queries import object_id, ref_path

    assert ref_path(f"{API}/user/12?fetch=true") == "/user/12"
    assert ref_path("https://evil.example.com/slm/webservice/v2.x/user/ab-1") == "/user/ab-1"
    assert ref_path("/tag/45001") == "/tag/45001"
    assert object_id(f"{API}/user/12/") == "12"
    for bad in ("https://evil.example.com/steal", "//evil.example.com/x", None):
        with pytest.raises(RemoteError):
            ref_path(bad)


def test_release_dates_and_webhook_dates():
    import datetime

    from services.rally.releases import release_dates
    from services.rally.webhook import local_date

    today = datetime.date(2026, 5, 4)
    assert release_dates({}, today) == ("2026-05-04T00:00:00+00:00", "2026-05-05T00:00:00+00:00")
    assert release_dates({"release_date": "bad", "start_date": "2026-05-01"}, today)[0] == (
        "2026-05-01T00:00:00+00:00"
    )
    assert local_date("2026-04-01T05:59:59.000Z", "America/Denver") == "2026-03-31"
    assert local_date("2026-04-01T05:59:59.000Z", "Nowhere/Town") == "2026-04-01"
    assert local_date("2026-04-01", None) == "2026-04-01"
    assert local_date("someday", None) == "someday"
    assert local_date("", None) is None


def test_query_all_stops_after_the_most_pages(settings, mocked_http, monkeypatch):
    from services.rally import queries

    monkeypatch.setattr(queries, "MAX_PAGES", 2)
    page = fx("tags.json")
    page["QueryResult"]["TotalResultCount"] = 1000
    mocked_http.get(f"{API}/tag", json=page)
    service = service_for(settings)
    assert len(queries.query_all(service, "/tag", page_size=1)) == 2
    assert any("Stopped after 2 pages" in str(m) for m in service.logger.messages)


def test_an_owner_rally_no_longer_has_is_left_alone(settings, mocked_http):
    from services.rally.users import Users

    mocked_http.get(f"{API}/user/gone-1", json=fx("error_cannot_find.json"))
    assert Users(service_for(settings)).email_of("gone-1") is None
    assert Users(service_for(settings)).ref_for_email("") is None


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        ([], "with an array where an object"),
        ({"QueryResult": ["x"]}, "its QueryResult came with an array holding a string where an"),
        ({"QueryResult": {"Results": {"a": 1}}}, "holding Results with an object where an array"),
    ],
)
def test_a_query_answer_of_another_shape_is_a_remote_error(settings, mocked_http, answer, said):
    from services.rally import queries

    mocked_http.get(f"{API}/tag", json=answer)
    with pytest.raises(RemoteError, match=said):
        queries.query_all(service_for(settings), "/tag")


def test_a_total_that_is_not_a_number_ends_the_query_after_its_page(settings, mocked_http):
    from services.rally import queries

    page = fx("tags.json")
    page["QueryResult"]["TotalResultCount"] = "many"
    mocked_http.get(f"{API}/tag", json=page)
    found = queries.query_all(service_for(settings), "/tag")
    assert found == page["QueryResult"]["Results"]
